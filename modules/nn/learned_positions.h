// Learned absolute position embeddings (BERT, GPT-2): one trained vector per position.
//
// Dimensions: P max positions, E model width. Registered parameter (state-dict key): weight (P, E).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "nn/lookup_table.h"

namespace sslx::nn {

struct LearnedPositionsOptions {
  std::int64_t max_positions = 0;  // P
  std::int64_t d_model = 0;        // E
  // GPT-2 and BERT draw N(0, 0.02²): small next to the token embeddings at the start.
  double init_std = 0.02;
};

class LearnedPositionsImpl : public torch::nn::Module, public LookupTable {
 public:
  explicit LearnedPositionsImpl(const LearnedPositionsOptions& options);

  // positions: (...) integer in [0, P) -> (..., E)
  at::Tensor forward(const at::Tensor& positions);

  const LearnedPositionsOptions& options() const { return options_; }

  const at::Tensor& table() const override { return weight; }

  at::Tensor weight;  // (P, E)

 private:
  LearnedPositionsOptions options_;
};
TORCH_MODULE(LearnedPositions);

}  // namespace sslx::nn
