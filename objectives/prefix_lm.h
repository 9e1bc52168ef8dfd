// Prefix language modelling on a decoder: a random split point per sequence; the tokens before it
// are a bidirectional prefix (prefix_length), the tokens from it on are predicted causally, and
// only they are labels.
//
// Data: documents packed with EOS into blocks of sequence_length + 1 tokens, shifted as CLM does
// (inputs = block[0 .. L), labels = block[1 .. L]). The split point p is uniform in [1, L - 1]:
// block tokens [0, p) are the prefix and never labels, tokens [p, L] are the targets, so the
// labels at positions t >= p - 1 are kept (position p - 1, the prefix's last, predicts the
// first target without seeing it: position p is outside the prefix). The loss is the summed NLL
// over the targets; "accuracy" is their accuracy. Split points draw from the RngStream
// "prefix_lm_split", saved in checkpoints; evaluation batch i draws from its own stream.
#pragma once

#include "data/packing.h"
#include "data/sampler.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"
#include "util/rng.h"

namespace sslx::objectives {

class PrefixLmObjective : public train::Objective {
 public:
  PrefixLmObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "prefix_lm"; }
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }
  double training_flops_per_token() const override;
  train::Batch train_batch() override;
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;

  // logits (B, L, V) of a batch as loss() computes them; without the prefix (a plain causal
  // decoder) when `with_prefix` is false, for tests' negative controls.
  at::Tensor logits(const train::Batch& batch, bool with_prefix = true);

 private:
  train::Batch batch_of(const data::PackedBlocks& blocks, const std::vector<std::int64_t>& indices,
                        RngStream& rng) const;

  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  std::uint64_t seed_;
  LanguageModel model_{nullptr};
  data::PackedBlocks train_blocks_, validation_blocks_, test_blocks_;
  data::Sampler sampler_;
  RngStream rng_;
};

void register_prefix_lm();

}  // namespace sslx::objectives
