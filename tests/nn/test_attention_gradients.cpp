// Attention's autograd gradients against central differences in float64, for every mask kind,
// with respect to the input (or query and memory) and every parameter.
// Dimensions: B batch, T queries, S keys, E model width, H heads.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <vector>

#include "nn/attention.h"
#include "nn/finite_difference.h"

using sslx::nn::AttentionMask;
using sslx::nn::MultiHeadAttention;
using sslx::test::compare_gradients;

// A namespace named after the file, around its test cases too: a unity build compiles it in
// one translation unit with other test files, whose helpers may share these names.
namespace attention_gradients_test {

constexpr std::int64_t B = 2, T = 4, E = 4, H = 2;
constexpr double tolerance = 1e-6;

MultiHeadAttention make_attention(std::int64_t d_memory = 0) {
  at::manual_seed(11);
  MultiHeadAttention attention(
      sslx::nn::AttentionOptions{.d_model = E, .n_heads = H, .d_memory = d_memory});
  attention->to(at::kDouble);
  attention->eval();
  return attention;
}

std::vector<at::Tensor> with_parameters(MultiHeadAttention& attention,
                                        std::vector<at::Tensor> inputs) {
  for (const auto& parameter : attention->parameters())
    inputs.push_back(parameter);
  return inputs;
}

TEST_CASE("attention gradients match central differences for every mask kind") {
  const at::Tensor valid = at::tensor({1, 1, 1, 1, 0, 1, 1, 0}).view({B, T}).to(at::kBool);
  const at::Tensor segments = at::tensor({0L, 0L, 1L, 1L, 0L, 1L, 1L, 1L}).view({B, T});
  const std::vector<std::pair<const char*, AttentionMask>> masks = {
      {"none", {}},
      {"causal", {.causal = true}},
      {"prefix", {.causal = true, .prefix_length = at::tensor({2L, 3L})}},
      {"key padding", {.key_valid = valid}},
      {"segments", {.segment_ids = segments}},
      // Sequence 1's query 0 sees only key 0, which is padding: a fully masked row.
      {"causal + padding + segments",
       {.causal = true, .key_valid = valid, .segment_ids = segments}}};
  for (const auto& [name, mask] : masks) {
    INFO("mask: " << name);
    auto attention = make_attention();
    const at::Tensor x = at::randn({B, T, E}, at::kDouble).requires_grad_();
    const at::Tensor weights = at::randn({B, T, E}, at::kDouble);  // makes every output count
    const auto loss = [&] { return (attention(x, mask) * weights).sum(); };
    const auto result = compare_gradients(loss, with_parameters(attention, {x}));
    CHECK(result.max_error < tolerance);
    CHECK(result.max_gradient > 1e-2);
  }
}

TEST_CASE("cross-attention gradients match central differences") {
  constexpr std::int64_t S = 3, M = 6;
  auto attention = make_attention(M);
  const at::Tensor query = at::randn({B, T, E}, at::kDouble).requires_grad_();
  const at::Tensor memory = at::randn({B, S, M}, at::kDouble).requires_grad_();
  const at::Tensor weights = at::randn({B, T, E}, at::kDouble);
  const AttentionMask mask{.key_valid = at::tensor({1, 1, 0, 1, 1, 1}).view({B, S}).to(at::kBool)};
  const auto loss = [&] { return (attention->cross(query, memory, mask) * weights).sum(); };
  const auto result = compare_gradients(loss, with_parameters(attention, {query, memory}));
  CHECK(result.max_error < tolerance);
  CHECK(result.max_gradient > 1e-2);
}

TEST_CASE("the gradient check catches a gradient that autograd gets wrong") {
  // Negative control: x * x.detach() has true derivative 2x, autograd sees only x.
  const at::Tensor x = at::randn({5}, at::kDouble).requires_grad_();
  const auto result = compare_gradients([&] { return (x * x.detach()).sum(); }, {x});
  CHECK(result.max_error == Approx(x.abs().max().item<double>()).epsilon(1e-6));
}

}  // namespace attention_gradients_test
