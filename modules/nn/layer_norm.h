// Layer normalisation over the last dimension: (x - mean) / sqrt(var + eps) * weight + bias,
// with the biased variance (Ba et al. 2016). Inputs are (..., E).
// Registered parameters (state-dict keys): weight, and bias unless options.bias is false.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace sslx::nn {

struct LayerNormOptions {
  std::int64_t d_model = 0;  // E
  double eps = 1e-5;
  bool bias = true;  // GPT-2 and BERT have one; some recent models drop it
};

class LayerNormImpl : public torch::nn::Module {
 public:
  explicit LayerNormImpl(const LayerNormOptions& options);

  // x: (..., E) -> (..., E)
  at::Tensor forward(const at::Tensor& x);

  const LayerNormOptions& options() const { return options_; }

  at::Tensor weight;  // (E), starts at 1
  at::Tensor bias;    // (E), starts at 0; undefined without bias

 private:
  LayerNormOptions options_;
};
TORCH_MODULE(LayerNorm);

}  // namespace sslx::nn
