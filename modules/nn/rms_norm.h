// RMS normalisation over the last dimension (Zhang & Sennrich 2019): x / sqrt(mean(x²) + eps)
// * weight. No centring and no bias, as in T5 and LLaMA. Inputs are (..., E).
// Registered parameter (state-dict key): weight.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace sslx::nn {

struct RmsNormOptions {
  std::int64_t d_model = 0;  // E
  double eps = 1e-6;         // T5 and LLaMA use 1e-6
};

class RmsNormImpl : public torch::nn::Module {
 public:
  explicit RmsNormImpl(const RmsNormOptions& options);

  // x: (..., E) -> (..., E)
  at::Tensor forward(const at::Tensor& x);

  const RmsNormOptions& options() const { return options_; }

  at::Tensor weight;  // (E), starts at 1

 private:
  RmsNormOptions options_;
};
TORCH_MODULE(RmsNorm);

}  // namespace sslx::nn
