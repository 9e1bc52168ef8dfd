// Which items make up a micro-batch, the same way for every objective: training batches draw from
// the sampler (its position is checkpointed), evaluation batch `index` is the fixed slice
// [index * batch_size, (index + 1) * batch_size) of a split, so every evaluation sees the same
// data.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "data/sampler.h"

namespace sslx::objectives {

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
