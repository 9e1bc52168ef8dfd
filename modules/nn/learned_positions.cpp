#include "nn/learned_positions.h"

#include <ATen/ATen.h>

namespace sslx::nn {

LearnedPositionsImpl::LearnedPositionsImpl(const LearnedPositionsOptions& options)
    : options_(options) {
  TORCH_CHECK(options.max_positions > 0 && options.d_model > 0,
              "learned positions need max_positions > 0 and d_model > 0, got max_positions = ",
              options.max_positions, " and d_model = ", options.d_model);
  weight = register_parameter(
      "weight", at::randn({options.max_positions, options.d_model}) * options.init_std);
}

at::Tensor LearnedPositionsImpl::forward(const at::Tensor& positions) {
  TORCH_CHECK(at::isIntegralType(positions.scalar_type(), /*includeBool=*/false),
              "positions must be integer, got ", positions.scalar_type());
  if (positions.numel() > 0) {
    const std::int64_t low = positions.min().item<std::int64_t>();
    const std::int64_t high = positions.max().item<std::int64_t>();
    TORCH_CHECK(low >= 0 && high < options_.max_positions, "positions must be in [0, ",
                options_.max_positions, "), got values from ", low, " to ", high);
  }
  return at::embedding(weight, positions.to(at::kLong));
}

}  // namespace sslx::nn
