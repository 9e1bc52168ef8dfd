// Tiny backbones in float64 and eval mode for the architecture tests.
// Dimensions: B batch, T positions, E model width, V vocabulary.
#pragma once

#include <ATen/ATen.h>

#include <memory>

#include "architectures/architecture_options.h"

namespace sslx::test {

inline constexpr std::int64_t kVocab = 50;

// Every kind of position information: invariance tests run for each.
inline constexpr arch::PositionKind kAllPositions[] = {
    arch::PositionKind::learned, arch::PositionKind::sinusoidal, arch::PositionKind::rotary,
    arch::PositionKind::relative, arch::PositionKind::none};

inline arch::ArchitectureOptions tiny_options(
    arch::PositionKind positions = arch::PositionKind::learned) {
  return {.vocab_size = kVocab,
          .d_model = 16,
          .n_layers = 2,
          .n_heads = 4,
          .n_kv_heads = 2,
          .d_ff = 32,
          .positions = positions,
          .max_positions = 64,
          .relative_buckets = 8,
          .relative_max_distance = 16};
}

template <class Model>
std::shared_ptr<Model> make_model(const arch::ArchitectureOptions& options, int seed = 1) {
  at::manual_seed(seed);
  auto model = std::make_shared<Model>(options);
  model->to(at::kDouble);
  model->eval();
  return model;
}

// (B, T) random token ids in [0, V).
inline at::Tensor random_tokens(std::int64_t B, std::int64_t T) {
  return at::randint(kVocab, {B, T}, at::kLong);
}

inline double max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace sslx::test
