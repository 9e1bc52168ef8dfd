// The base of the objectives that train on their own JSONL files with a train and a validation
// split (sft, reward_model, dpo): it reads both splits at construction, counting what it kept and
// dropped, samples training batches from the train split (the sampler is what a checkpoint
// saves), and cuts evaluation batch i of a split as the fixed slice [i * B, (i + 1) * B). A
// subclass says how a split's examples become a batch (batch_of). There is no test split.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/sampler.h"
#include "objectives/batch_indices.h"
#include "objectives/file_splits.h"
#include "objectives/objective_registry.h"
#include "train/objective.h"

namespace sslx::objectives {

template <class Example, class Counts>
class FileSplitObjective : public train::Objective {
 public:
  train::Batch train_batch() override {
    return batch_of(data::Split::kTrain, sampled_indices(sampler_, batch_size_));
  }

  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override {
    const auto indices =
        file_split_indices(split, index, batch_size_, static_cast<std::int64_t>(train_.size()),
                           static_cast<std::int64_t>(validation_.size()));
    if (indices.empty()) return false;
    batch = batch_of(split, indices);
    return true;
  }

  void save_state(train::TrainerState& state) const override { state.sampler = sampler_.state(); }
  void load_state(const train::TrainerState& state) override { sampler_.restore(state.sampler); }

  const Counts& train_counts() const { return train_counts_; }
  const Counts& validation_counts() const { return validation_counts_; }

 protected:
  // `read(files_key, counts)` returns the examples of the files under "train_files" or
  // "validation_files" and counts them into `counts`.
  template <class Read>
  FileSplitObjective(const ObjectiveContext& context, const Read& read)
      : batch_size_(context.trainer.batch_size),
        sequence_length_(context.trainer.sequence_length),
        train_(read("train_files", train_counts_)),
        validation_(read("validation_files", validation_counts_)),
        sampler_(training_sampler(static_cast<std::int64_t>(train_.size()), context.seed)) {}

  const std::vector<Example>& examples(data::Split split) const {
    return split == data::Split::kValidation ? validation_ : train_;
  }
  // The batch of `indices` of the examples of `split` (train or validation).
  virtual train::Batch batch_of(data::Split split, const std::vector<std::int64_t>& indices) = 0;

  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  // Declared before the examples, whose reading fills them.
  Counts train_counts_, validation_counts_;
  std::vector<Example> train_, validation_;
  data::Sampler sampler_;
};

}  // namespace sslx::objectives
