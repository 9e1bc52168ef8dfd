#include "nn/norm.h"

#include <c10/util/Exception.h>

#include <string>

#include "nn/layer_norm.h"
#include "nn/rms_norm.h"

namespace sslx::nn {

NormKind norm_kind_from_name(std::string_view name) {
  if (name == "layer_norm") return NormKind::layer_norm;
  if (name == "rms_norm") return NormKind::rms_norm;
  TORCH_CHECK(false, "unknown norm \"", std::string(name), "\"; known: layer_norm, rms_norm");
}

torch::nn::AnyModule make_norm(const NormOptions& options) {
  if (options.kind == NormKind::rms_norm) {
    RmsNormOptions rms{.d_model = options.d_model};
    if (options.eps > 0.0) rms.eps = options.eps;
    return torch::nn::AnyModule(RmsNorm(rms));
  }
  LayerNormOptions layer{.d_model = options.d_model, .bias = options.bias};
  if (options.eps > 0.0) layer.eps = options.eps;
  return torch::nn::AnyModule(LayerNorm(layer));
}

}  // namespace sslx::nn
