// A normalisation layer chosen by config: LayerNorm or RMSNorm, as a torch::nn::AnyModule so a
// block can hold either under one registered name.
#pragma once

#include <torch/nn/modules/container/any.h>

#include <cstdint>
#include <string_view>

namespace sslx::nn {

enum class NormKind {
  layer_norm,  // GPT-2, BERT
  rms_norm,    // T5, LLaMA
};

// "layer_norm" or "rms_norm"; throws (c10::Error) listing the known names otherwise.
NormKind norm_kind_from_name(std::string_view name);

struct NormOptions {
  NormKind kind = NormKind::layer_norm;
  std::int64_t d_model = 0;  // E
  double eps = 0.0;          // 0: the kind's default (LayerNorm 1e-5, RMSNorm 1e-6)
  bool bias = true;          // LayerNorm only; RMSNorm has none
};

// Register with register_module(name, norm.ptr()) and call with norm.forward(x): (..., E).
torch::nn::AnyModule make_norm(const NormOptions& options);

}  // namespace sslx::nn
