#include "nn/finite_difference.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <algorithm>
#include <cmath>

namespace sslx::test {

GradientComparison compare_gradients(const std::function<at::Tensor()>& f,
                                     const std::vector<at::Tensor>& inputs, double step) {
  for (const at::Tensor& x : inputs) {
    TORCH_CHECK(
        x.is_leaf() && x.requires_grad() && x.scalar_type() == at::kDouble && x.is_contiguous(),
        "compare_gradients needs contiguous double leaves requiring grad, got ", x.scalar_type(),
        " of shape ", x.sizes());
  }
  const std::vector<at::Tensor> analytic =
      torch::autograd::grad({f()}, inputs, /*grad_outputs=*/{}, /*retain_graph=*/false,
                            /*create_graph=*/false, /*allow_unused=*/true);
  GradientComparison result;
  torch::NoGradGuard no_grad;
  for (std::size_t n = 0; n < inputs.size(); ++n) {
    const at::Tensor flat = inputs[n].view(-1);
    const at::Tensor expected =
        analytic[n].defined() ? analytic[n].reshape(-1) : at::zeros_like(flat);
    for (std::int64_t i = 0; i < flat.numel(); ++i) {
      const double original = flat[i].item<double>();
      flat[i].fill_(original + step);
      const double up = f().item<double>();
      flat[i].fill_(original - step);
      const double down = f().item<double>();
      flat[i].fill_(original);
      const double numeric = (up - down) / (2 * step);
      result.max_error = std::max(result.max_error, std::abs(numeric - expected[i].item<double>()));
      result.max_gradient = std::max(result.max_gradient, std::abs(numeric));
    }
  }
  return result;
}

}  // namespace sslx::test
