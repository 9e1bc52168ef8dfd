// Which items make up a micro-batch, the same way for every objective: training batches draw from
// the sampler (its position is checkpointed), evaluation batch `index` is the fixed slice
// [index * batch_size, (index + 1) * batch_size) of a split, so every evaluation sees the same
// data. With data parallelism each rank trains on its own shard of one permutation of the items
// (the same for every rank), and draws its own random numbers.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "data/sampler.h"
#include "dist/process_group.h"

namespace sslx::objectives {

// The training sampler of this process: its rank's shard of the items.
inline data::Sampler training_sampler(std::int64_t items, std::uint64_t seed) {
  const dist::World world = dist::world();
  return data::Sampler(items, seed, world.rank, world.world_size);
}

// The name that seeds a training random stream on this rank: rank 0 (and a single process) keeps
// `name`, so one rank draws what a single process draws; other ranks draw streams of their own.
inline std::string rank_stream_name(const std::string& name) {
  const int rank = dist::world().rank;
  return rank == 0 ? name : name + "/rank" + std::to_string(rank);
}

inline std::vector<std::int64_t> sampled_indices(data::Sampler& sampler, std::int64_t batch_size) {
  std::vector<std::int64_t> indices;
  for (std::int64_t b = 0; b < batch_size; ++b)
    indices.push_back(sampler.next());
  return indices;
}

// Empty past the end of the split's `items`.
inline std::vector<std::int64_t> evaluation_indices(std::int64_t index, std::int64_t batch_size,
                                                    std::int64_t items) {
  std::vector<std::int64_t> indices;
  for (std::int64_t b = index * batch_size; b < std::min((index + 1) * batch_size, items); ++b) {
    indices.push_back(b);
  }
  return indices;
}

}  // namespace sslx::objectives
