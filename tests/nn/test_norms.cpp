// LayerNorm and the hand-written RMSNorm: values worked out by hand, the invariances that tell
// them apart, and RMSNorm's gradient against central differences.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>

#include "nn/finite_difference.h"
#include "nn/layer_norm.h"
#include "nn/rms_norm.h"

using sslx::nn::LayerNorm;
using sslx::nn::LayerNormOptions;
using sslx::nn::RmsNorm;
using sslx::nn::RmsNormOptions;

namespace {

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("layer norm of 1 2 3 4 by hand, then the affine part") {
  LayerNorm norm(LayerNormOptions{.d_model = 4});
  norm->to(at::kDouble);
  const at::Tensor x = at::tensor({1.0, 2.0, 3.0, 4.0});
  // Mean 2.5, biased variance 1.25.
  const at::Tensor expected = (x - 2.5) / std::sqrt(1.25 + 1e-5);
  CHECK(max_diff(norm(x), expected) < 1e-12);
  {
    torch::NoGradGuard no_grad;
    norm->weight.copy_(at::tensor({1.0, 2.0, 3.0, 4.0}));
    norm->bias.fill_(0.5);
  }
  CHECK(max_diff(norm(x), expected * x + 0.5) < 1e-12);
  LayerNorm no_bias(LayerNormOptions{.d_model = 4, .bias = false});
  CHECK(no_bias->named_parameters().keys() == std::vector<std::string>{"weight"});
}

TEST_CASE("RMS norm of 1 2 3 4 by hand, then the weight") {
  RmsNorm norm(RmsNormOptions{.d_model = 4});
  norm->to(at::kDouble);
  const at::Tensor x = at::tensor({1.0, 2.0, 3.0, 4.0});
  // Mean of squares (1 + 4 + 9 + 16) / 4 = 7.5.
  const at::Tensor expected = x / std::sqrt(7.5 + 1e-6);
  CHECK(max_diff(norm(x), expected) < 1e-12);
  {
    torch::NoGradGuard no_grad;
    norm->weight.copy_(at::tensor({1.0, -1.0, 2.0, 0.0}));
  }
  CHECK(max_diff(norm(x), expected * at::tensor({1.0, -1.0, 2.0, 0.0})) < 1e-12);
  CHECK(norm->named_parameters().keys() == std::vector<std::string>{"weight"});
}

TEST_CASE("layer norm ignores a shift, RMS norm does not - both ignore a scale") {
  LayerNorm layer(LayerNormOptions{.d_model = 8, .eps = 1e-12});
  RmsNorm rms(RmsNormOptions{.d_model = 8, .eps = 1e-12});
  layer->to(at::kDouble);
  rms->to(at::kDouble);
  const at::Tensor x = at::randn({3, 8}, at::kDouble);
  CHECK(max_diff(layer(x + 3.0), layer(x)) < 1e-9);
  CHECK(max_diff(rms(x + 3.0), rms(x)) > 1e-2);  // RMS norm does not centre
  CHECK(max_diff(rms(x * 7.0), rms(x)) < 1e-9);
  CHECK(max_diff(layer(x * 7.0), layer(x)) < 1e-9);
}

TEST_CASE("RMS norm gradient matches central differences") {
  at::manual_seed(5);
  RmsNorm norm(RmsNormOptions{.d_model = 6});
  norm->to(at::kDouble);
  {
    torch::NoGradGuard no_grad;
    norm->weight.normal_();  // a weight of 1 everywhere would hide a wrong weight gradient
  }
  const at::Tensor x = at::randn({2, 3, 6}, at::kDouble).requires_grad_();
  const at::Tensor weights = at::randn({2, 3, 6}, at::kDouble);
  const auto result =
      sslx::test::compare_gradients([&] { return (norm(x) * weights).sum(); }, {x, norm->weight});
  CHECK(result.max_error < 1e-6);
  CHECK(result.max_gradient > 1e-2);
}

TEST_CASE("RMS norm keeps float32 inputs in float32 and refuses a wrong width") {
  RmsNorm norm(RmsNormOptions{.d_model = 4});
  CHECK(norm(at::randn({2, 4})).scalar_type() == at::kFloat);
  CHECK_THROWS_WITH(norm(at::randn({2, 3})), Catch::Contains("(..., E = 4), got [2, 3]"));
}
