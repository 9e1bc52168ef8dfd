// Masked language modelling (BERT cloze) on an encoder, with the corruption of mlm_masking.h.
//
// Data: documents packed with EOS into blocks of sequence_length tokens (no [CLS]/[SEP] framing:
// the EOS between documents is the separator). The EOS tokens are specials, so they are never
// chosen, but they count in n for the exact-count variant, as [CLS]/[SEP] do in BERT. The loss
// is the summed NLL at the chosen positions only (labels are kIgnore elsewhere), returned with
// their count; "accuracy" is the accuracy at the chosen positions.
//
// Whole-word masking (byte tokenizer only): a token starts a word when it is the first of the
// block, follows a whitespace byte (space, tab, newline, carriage return) or follows a special
// token; all bytes of a word are chosen together.
//
// Masking draws from the RngStream "mlm_masking", saved in checkpoints; evaluation batch i of a
// split draws from its own stream, so every evaluation sees the same corruption.
#pragma once

#include "data/packing.h"
#include "data/sampler.h"
#include "objectives/language_model.h"
#include "objectives/mlm_masking.h"
#include "objectives/objective_registry.h"
#include "objectives/split_blocks.h"

namespace sslx::objectives {

// One flag per token: true where a word starts (see above).
std::vector<bool> byte_word_starts(const std::vector<TokenId>& tokens,
                                   const data::SpecialTokens& specials);

class MlmObjective : public train::Objective {
 public:
  MlmObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "mlm"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override;
  train::Batch train_batch() override;
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;

  // logits (B, L, V) of a batch, as loss() computes them.
  at::Tensor logits(const train::Batch& batch);

 private:
  train::Batch batch_of(const data::PackedBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const;

  MaskingOptions masking_;
  bool whole_word_;
  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  std::uint64_t seed_;
  const data::SpecialTokens& specials_;
  LanguageModel model_{nullptr};
  SplitBlocks<data::PackedBlocks> blocks_;
  TrainingDraws draws_;
};

void register_mlm();

}  // namespace sslx::objectives
