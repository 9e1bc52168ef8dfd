#include "nn/sinusoidal_positions.h"

#include <ATen/ATen.h>

namespace sslx::nn {

at::Tensor sinusoidal_positions(const at::Tensor& positions, std::int64_t d_model, double base,
                                at::ScalarType dtype) {
  const std::int64_t E = d_model;
  TORCH_CHECK(E > 0 && E % 2 == 0, "sinusoidal positions need an even d_model > 0, got ", E);
  TORCH_CHECK(at::isIntegralType(positions.scalar_type(), /*includeBool=*/false),
              "positions must be integer, got ", positions.scalar_type());
  const auto f64 = at::TensorOptions().dtype(at::kDouble).device(positions.device());
  const at::Tensor frequency = at::pow(base, -at::arange(0, E, 2, f64) / double(E));  // (E/2)
  const at::Tensor angle = positions.to(at::kDouble).unsqueeze(-1) * frequency;       // (..., E/2)
  // Interleave: stack (..., E/2, 2) then flatten, so sin lands on even and cos on odd channels.
  return at::stack({angle.sin(), angle.cos()}, -1).flatten(-2).to(dtype);
}

}  // namespace sslx::nn
