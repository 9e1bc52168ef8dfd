// Causal language modelling (GPT): next-token prediction on a decoder.
//
// Data: documents packed with EOS into blocks of sequence_length + 1 tokens; the shift happens
// here, in the data: inputs = block[0 .. L), labels = block[1 .. L] (the model predicts position
// t + 1 at position t). Loss: the summed NLL of every valid label, returned with the label
// count. With document_mask, attention stays inside each document (segment ids), positions
// restart per document, and the label that would predict the next document's first token from
// the EOS is ignored (no leakage across packed documents).
#pragma once

#include "data/packing.h"
#include "data/sampler.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"
#include "objectives/split_blocks.h"

namespace sslx::objectives {

class ClmObjective : public train::Objective {
 public:
  ClmObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "clm"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override;
  train::Batch train_batch() override;
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;
  train::StreamPrediction stream_prediction() const override;

 private:
  train::Batch batch_of(const data::PackedBlocks& blocks,
                        const std::vector<std::int64_t>& indices) const;

  bool document_mask_;
  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  LanguageModel model_{nullptr};
  SplitBlocks<data::PackedBlocks> blocks_;
  data::Sampler sampler_;
};

// Next-token loss terms from logits (B, T, V) and labels (B, T) with kIgnore: summed NLL,
// label count, and accuracy as (correct, count).
train::LossTerms next_token_loss(const at::Tensor& logits, const at::Tensor& labels);

void register_clm();

}  // namespace sslx::objectives
