// T5 relative position bias (Raffel et al. 2020): a learned scalar per head and per bucket of the
// key-minus-query distance, added to the attention scores. One module per stack, shared by all
// of its layers (T5 computes it in the first layer and passes it on).
//
// Dimensions: T query positions, S key positions, H heads, K buckets (num_buckets).
// Registered parameter (state-dict key): weight (K, H).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "nn/lookup_table.h"

namespace sslx::nn {

// T5's _relative_position_bucket, op for op (the logarithm in float32 as in T5).
// relative_position = key position - query position: (...) int64 -> (...) int64 in [0, K).
// Bidirectional (encoder): half the buckets for keys after the query. Unidirectional (decoder):
// keys after the query share bucket 0. Distances below K/4 (bidirectional) or K/2 get a bucket
// each; larger ones are bucketed logarithmically up to max_distance, beyond which all share the
// last bucket.
at::Tensor relative_position_bucket(const at::Tensor& relative_position, bool bidirectional,
                                    std::int64_t num_buckets, std::int64_t max_distance);

struct RelativePositionBiasOptions {
  std::int64_t n_heads = 0;       // H
  bool bidirectional = true;      // true in the encoder, false in the decoder
  std::int64_t num_buckets = 32;  // K (T5)
  std::int64_t max_distance = 128;
};

class RelativePositionBiasImpl : public torch::nn::Module, public LookupTable {
 public:
  explicit RelativePositionBiasImpl(const RelativePositionBiasOptions& options);

  // The bias of T queries at positions offset .. offset+T-1 (offset: keys already in a KV
  // cache) against S keys at 0 .. S-1 -> (1, H, T, S), the dtype of the weight.
  at::Tensor forward(std::int64_t query_length, std::int64_t key_length, std::int64_t offset = 0);

  const RelativePositionBiasOptions& options() const { return options_; }

  const at::Tensor& table() const override { return weight; }

  at::Tensor weight;  // (K, H)

 private:
  RelativePositionBiasOptions options_;
};
TORCH_MODULE(RelativePositionBias);

}  // namespace sslx::nn
