#include "nn/rotary.h"

#include <ATen/ATen.h>

namespace sslx::nn {

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& positions,
                        const RotaryOptions& options) {
  const std::int64_t D = options.head_dim;
  TORCH_CHECK(D > 0 && D % 2 == 0, "rotary head_dim must be even and > 0, got ", D);
  TORCH_CHECK(x.dim() == 4 && x.size(3) == D, "rotary input must be (B, H, T, D = ", D, "), got ",
              x.sizes());
  const std::int64_t B = x.size(0), T = x.size(2);
  const bool shared = positions.dim() == 1 && positions.size(0) == T;
  TORCH_CHECK(
      at::isIntegralType(positions.scalar_type(), /*includeBool=*/false) &&
          (shared || (positions.dim() == 2 && positions.size(0) == B && positions.size(1) == T)),
      "rotary positions must be integer, (T) = (", T, ") or (B, T) = (", B, ", ", T, "), got ",
      positions.scalar_type(), " of shape ", positions.sizes());
  // Angles in float64: in float32, position * frequency loses the low bits at long contexts.
  const auto f64 = at::TensorOptions().dtype(at::kDouble).device(x.device());
  const at::Tensor frequency = at::pow(options.base, -at::arange(0, D, 2, f64) / double(D));
  const at::Tensor p = positions.to(x.device(), at::kDouble);
  // angle: (1 or B, 1, T, D/2)
  const at::Tensor angle =
      (shared ? p.view({1, 1, T, 1}) : p.view({B, 1, T, 1})) * frequency.view({1, 1, 1, D / 2});
  const at::Tensor cos = angle.cos().to(x.scalar_type()), sin = angle.sin().to(x.scalar_type());
  const at::Tensor x1 = x.narrow(3, 0, D / 2), x2 = x.narrow(3, D / 2, D / 2);
  return at::cat({x1 * cos - x2 * sin, x2 * cos + x1 * sin}, 3);
}

}  // namespace sslx::nn
