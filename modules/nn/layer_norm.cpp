#include "nn/layer_norm.h"

#include <ATen/ATen.h>

namespace sslx::nn {

LayerNormImpl::LayerNormImpl(const LayerNormOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0, "layer norm needs d_model > 0, got ", options.d_model);
  TORCH_CHECK(options.eps > 0, "layer norm needs eps > 0, got ", options.eps);
  weight = register_parameter("weight", at::ones({options.d_model}));
  if (options.bias) bias = register_parameter("bias", at::zeros({options.d_model}));
}

at::Tensor LayerNormImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == options_.d_model,
              "layer norm input must be (..., E = ", options_.d_model, "), got ", x.sizes());
  return at::layer_norm(x, {options_.d_model}, weight, bias, options_.eps);
}

}  // namespace sslx::nn
