// Feed-forward blocks against their formulas written out with the module's own weights.
// Dimensions: B batch, T positions, E model width, F hidden width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <functional>
#include <numbers>
#include <set>
#include <string>

#include "nn/feed_forward.h"

using sslx::nn::Activation;
using sslx::nn::FeedForward;
using sslx::nn::FeedForwardOptions;

// A namespace named after the file, around its test cases too: a unity build compiles it in
// one translation unit with other test files, whose helpers may share these names.
namespace feed_forward_test {

constexpr std::int64_t E = 6, F = 10;

FeedForward make_feed_forward(Activation activation) {
  at::manual_seed(3);
  FeedForward ff(FeedForwardOptions{.d_model = E, .d_hidden = F, .activation = activation});
  ff->to(at::kDouble);
  return ff;
}

at::Tensor affine(const torch::nn::Linear& linear, const at::Tensor& x) {
  return at::matmul(x, linear->weight.t()) + linear->bias;
}

at::Tensor formula_gelu(const at::Tensor& v) {
  return 0.5 * v * (1 + at::erf(v / std::sqrt(2.0)));
}
at::Tensor formula_gelu_tanh(const at::Tensor& v) {
  return 0.5 * v * (1 + at::tanh(std::sqrt(2 / std::numbers::pi) * (v + 0.044715 * v.pow(3))));
}
at::Tensor formula_silu(const at::Tensor& v) {
  return v / (1 + at::exp(-v));
}

std::set<std::string> keys(const FeedForward& ff) {
  std::set<std::string> names;
  for (const auto& item : ff->named_parameters())
    names.insert(item.key());
  return names;
}

TEST_CASE("each feed-forward activation computes its formula") {
  using Formula = std::function<at::Tensor(FeedForward&, const at::Tensor&)>;
  const std::vector<std::tuple<const char*, Activation, Formula>> cases = {
      {"gelu", Activation::gelu,
       [](FeedForward& ff, const at::Tensor& x) { return formula_gelu(affine(ff->in_proj, x)); }},
      {"gelu_tanh", Activation::gelu_tanh,
       [](FeedForward& ff, const at::Tensor& x) {
         return formula_gelu_tanh(affine(ff->in_proj, x));
       }},
      {"relu", Activation::relu,
       [](FeedForward& ff, const at::Tensor& x) { return affine(ff->in_proj, x).clamp_min(0); }},
      {"swiglu", Activation::swiglu,
       [](FeedForward& ff, const at::Tensor& x) {
         return formula_silu(affine(ff->gate_proj, x)) * affine(ff->in_proj, x);
       }},
      {"geglu", Activation::geglu, [](FeedForward& ff, const at::Tensor& x) {
         return formula_gelu(affine(ff->gate_proj, x)) * affine(ff->in_proj, x);
       }}};
  const at::Tensor x = at::randn({2, 3, E}, at::kDouble);
  for (const auto& [name, activation, hidden] : cases) {
    INFO("activation: " << name);
    auto ff = make_feed_forward(activation);
    const at::Tensor expected = affine(ff->out_proj, hidden(ff, x));
    CHECK(at::allclose(ff(x), expected, 1e-12, 1e-12));
  }
}

TEST_CASE("activations are really different functions") {
  // Negative control for the formula test: the same weights give different outputs.
  const at::Tensor x = at::randn({4, E}, at::kDouble);
  const auto diff = [&](Activation a, Activation b) {
    return (make_feed_forward(a)(x) - make_feed_forward(b)(x)).abs().max().item<double>();
  };
  CHECK(diff(Activation::gelu, Activation::gelu_tanh) > 1e-6);  // the tanh form is ~1e-4 off
  CHECK(diff(Activation::gelu, Activation::relu) > 1e-3);
  CHECK(diff(Activation::swiglu, Activation::geglu) > 1e-3);
}

TEST_CASE("only gated feed-forward blocks have a gate projection") {
  const std::set<std::string> plain = {"in_proj.weight", "in_proj.bias", "out_proj.weight",
                                       "out_proj.bias"};
  std::set<std::string> gated = plain;
  gated.insert({"gate_proj.weight", "gate_proj.bias"});
  CHECK(keys(make_feed_forward(Activation::gelu)) == plain);
  CHECK(keys(make_feed_forward(Activation::swiglu)) == gated);
  FeedForward no_bias(FeedForwardOptions{.d_model = E, .d_hidden = F, .bias = false});
  CHECK(keys(no_bias) == std::set<std::string>{"in_proj.weight", "out_proj.weight"});
}

TEST_CASE("feed-forward refuses an input of the wrong width, naming the sizes") {
  auto ff = make_feed_forward(Activation::relu);
  CHECK_THROWS_WITH(ff(at::zeros({2, 5}, at::kDouble)),
                    Catch::Contains("(..., E = 6), got [2, 5]"));
}

}  // namespace feed_forward_test
