// Fixed sinusoidal position encodings (Vaswani et al. 2017):
//   PE[p, 2i] = sin(p / base^(2i/E)),  PE[p, 2i+1] = cos(p / base^(2i/E)),  i < E/2.
// Added to the token embeddings; no parameters.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <cstdint>

namespace sslx::nn {

// positions: (...) integer -> (..., E) of `dtype`; E = d_model must be even.
at::Tensor sinusoidal_positions(const at::Tensor& positions, std::int64_t d_model,
                                double base = 10000.0, at::ScalarType dtype = at::kFloat);

}  // namespace sslx::nn
