// Keys and values kept between the steps of incremental decoding.
//
// Dimensions: B batch, G key/value heads (n_kv_heads), S positions cached so far, D head width.
// Self-attention appends the keys and values of each new step; cross-attention computes them
// from the encoder states once, at the first step, and reuses them after.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sslx::nn {

struct AttentionCache {
  at::Tensor key = {};    // (B, G, S, D), undefined before the first step
  at::Tensor value = {};  // (B, G, S, D)

  std::int64_t length() const { return key.defined() ? key.size(2) : 0; }
};

// The caches of one stack of layers: self[i] and cross[i] belong to layer i (cross stays empty
// in a stack without cross-attention). Start with an empty KvCache{}: the stack sizes it.
struct KvCache {
  std::vector<AttentionCache> self = {};
  std::vector<AttentionCache> cross = {};

  // Positions already cached (0 before the first step).
  std::int64_t length() const { return self.empty() ? 0 : self.front().length(); }
};

}  // namespace sslx::nn
