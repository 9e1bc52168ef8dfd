#include "nn/rms_norm.h"

#include <ATen/ATen.h>

namespace sslx::nn {

RmsNormImpl::RmsNormImpl(const RmsNormOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0, "RMS norm needs d_model > 0, got ", options.d_model);
  TORCH_CHECK(options.eps > 0, "RMS norm needs eps > 0, got ", options.eps);
  weight = register_parameter("weight", at::ones({options.d_model}));
}

at::Tensor RmsNormImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == options_.d_model,
              "RMS norm input must be (..., E = ", options_.d_model, "), got ", x.sizes());
  // Reduced precision inputs are normalised in float32: the mean of squares overflows or loses
  // precision in float16 (T5 and LLaMA do the same).
  const at::Tensor x32 = x.scalar_type() == at::kDouble ? x : x.to(at::kFloat);
  const at::Tensor inverse_rms = at::rsqrt(x32.pow(2).mean(-1, /*keepdim=*/true) + options_.eps);
  return (x32 * inverse_rms).to(x.scalar_type()) * weight;
}

}  // namespace sslx::nn
