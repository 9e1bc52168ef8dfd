// Rotary position embedding (RoPE, Su et al. 2021), applied to queries and keys per head.
//
// Dimensions: B batch, H heads, T positions, D head width (even). Channel i < D/2 is paired
// with channel i + D/2 (the "rotate half" layout of GPT-NeoX and Hugging Face LLaMA, not the
// interleaved pairs (2i, 2i+1) of the paper and Meta's LLaMA code: weights converted between
// the two need their q and k projection rows permuted). The pair is rotated by the angle
// position * base^(-2i/D), so q·k after rotation depends on the positions only through their
// difference.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sslx::nn {

struct RotaryOptions {
  std::int64_t head_dim = 0;  // D, even
  double base = 10000.0;
};

// x: (B, H, T, D); positions: (T) or (B, T) integer -> (B, H, T, D), the dtype of x.
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& positions,
                        const RotaryOptions& options);

}  // namespace sslx::nn
