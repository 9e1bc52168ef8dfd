// The base of the block-based language-model objectives (clm, mlm, prefix_lm, span_corruption):
// a LanguageModel trained on a corpus's three splits cut into blocks, with the summed next-token
// (or target) NLL as the loss. A subclass says how blocks become a batch (batch_of) and how a
// batch becomes the backbone's output (hidden_states); this class does the rest the same way for
// all of them:
// - training batches are sampled indices of the train split, drawing their random choices (masks,
//   noise, split points) from one named stream that a checkpoint saves with the sampler;
// - evaluation batch i of a split is the fixed slice [i * B, (i + 1) * B) of its blocks and draws
//   from a stream of its own, "<objective>_eval/<split>/<i>", so every evaluation sees the same
//   corruption.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "objectives/batch_indices.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"
#include "objectives/split_blocks.h"
#include "train/objective.h"
#include "util/rng.h"

namespace sslx::objectives {

template <class Blocks>
class BlockLmObjective : public train::Objective {
 public:
  std::vector<std::string> metric_names() const override { return {"accuracy"}; }
  torch::nn::Module& model() override { return *model_; }

  train::Batch train_batch() override {
    const auto indices = sampled_indices(draws_.sampler, batch_size_);
    return batch_of(blocks_.train(), indices, draws_.rng);
  }

  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override {
    const Blocks& blocks = blocks_.of(split);
    const auto indices = evaluation_indices(index, batch_size_, blocks.size());
    if (indices.empty()) return false;
    RngStream rng(seed_, name() + "_eval/" + data::to_string(split) + "/" + std::to_string(index));
    batch = batch_of(blocks, indices, rng);
    return true;
  }

  // The summed NLL of the batch's labels (kIgnore where there is none), their count, accuracy.
  train::LossTerms loss(const train::Batch& batch) override {
    return token_loss(*model_, hidden_states(batch), batch.at("labels"), token_loss_);
  }

  void save_state(train::TrainerState& state) const override { draws_.save(state); }
  void load_state(const train::TrainerState& state) override { draws_.load(state); }

  // The backbone's output (B, T, E) for a batch, position for position with its labels.
  virtual at::Tensor hidden_states(const train::Batch& batch) = 0;
  // logits (B, T, V) of a batch at every position (the loss computes only the labelled ones).
  at::Tensor logits(const train::Batch& batch) { return model_->lm_head(hidden_states(batch)); }

 protected:
  // `stream_name`: the training random stream (empty for an objective that draws nothing);
  // `block_arguments`: what cuts a split into Blocks after the split itself.
  template <class... BlockArguments>
  BlockLmObjective(const ObjectiveContext& context, const std::string& stream_name,
                   const BlockArguments&... block_arguments)
      : batch_size_(context.trainer.batch_size),
        sequence_length_(context.trainer.sequence_length),
        seed_(context.seed),
        token_loss_(context.trainer.token_loss),
        blocks_(context.corpus, block_arguments...),
        draws_(blocks_.train().size(), context.seed, stream_name) {}

  // The batch of `indices` of `blocks`, its random choices drawn from `rng`.
  virtual train::Batch batch_of(const Blocks& blocks, const std::vector<std::int64_t>& indices,
                                RngStream& rng) const = 0;

  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  std::uint64_t seed_;
  train::TokenLossOptions token_loss_;
  LanguageModel model_{nullptr};  // built by the subclass once it has checked its options
  SplitBlocks<Blocks> blocks_;
  TrainingDraws draws_;
};

}  // namespace sslx::objectives
