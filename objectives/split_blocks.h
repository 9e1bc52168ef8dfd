// What the block-based objectives (clm, mlm, prefix_lm, span_corruption) share: a corpus's three
// splits cut into blocks, and the training sampler with one named random stream that a
// checkpoint saves and restores together.
#pragma once

#include <cstdint>
#include <string>

#include "data/sampler.h"
#include "data/shard_cache.h"
#include "data/split.h"
#include "objectives/batch_indices.h"
#include "train/trainer_state.h"
#include "util/rng.h"

namespace sslx::objectives {

// The train, validation and test splits of `corpus`, each cut as Blocks(split, arguments...):
// data::PackedBlocks(split, eos, block_size) or ContiguousBlocks(split, block_size).
template <class Blocks>
class SplitBlocks {
 public:
  template <class... Arguments>
  explicit SplitBlocks(const data::PreparedCorpus& corpus, const Arguments&... arguments)
      : train_(corpus.split(data::Split::kTrain), arguments...),
        validation_(corpus.split(data::Split::kValidation), arguments...),
        test_(corpus.split(data::Split::kTest), arguments...) {}

  const Blocks& of(data::Split split) const {
    return split == data::Split::kTest         ? test_
           : split == data::Split::kValidation ? validation_
                                               : train_;
  }
  const Blocks& train() const { return train_; }

 private:
  Blocks train_, validation_, test_;
};

// The training sampler over `items` and one random stream (masks, noise, split points), saved as
// TrainerState::sampler and rng_states[stream_name], so a resumed run draws the same next batch.
// An empty stream name: the objective draws nothing, and only the sampler is saved.
class TrainingDraws {
 public:
  TrainingDraws(std::int64_t items, std::uint64_t seed, std::string stream_name)
      : sampler(training_sampler(items, seed)),
        rng(seed, rank_stream_name(stream_name)),
        stream_name_(std::move(stream_name)) {}

  void save(train::TrainerState& state) const {
    state.sampler = sampler.state();
    if (!stream_name_.empty()) state.rng_states[stream_name_] = rng.state();
  }
  void load(const train::TrainerState& state) {
    sampler.restore(state.sampler);
    if (!stream_name_.empty()) rng.set_state(state.rng_state(stream_name_));
  }

  data::Sampler sampler;
  RngStream rng;

 private:
  std::string stream_name_;
};

}  // namespace sslx::objectives
