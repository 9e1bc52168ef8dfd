// Finite-difference gradient check: LibTorch's C++ API has no gradcheck, so this compares
// autograd's gradient with central differences, element by element, in double precision.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace sslx::test {

struct GradientComparison {
  double max_error = 0.0;     // max over elements of |autograd - central difference|
  double max_gradient = 0.0;  // max |central difference|, to show the check was not vacuous
};

// `f` returns a scalar computed from `inputs`: contiguous double leaf tensors requiring grad
// (module parameters qualify). Each element is moved by ±step in place and restored.
GradientComparison compare_gradients(const std::function<at::Tensor()>& f,
                                     const std::vector<at::Tensor>& inputs, double step = 1e-6);

}  // namespace sslx::test
