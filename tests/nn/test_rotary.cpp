// Rotary positions: the rotation by hand, scores that depend only on relative position, and
// rotary self-attention (shift invariance, packed documents, gradients).
// Dimensions: B batch, H heads, T positions, D head width, E model width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>

#include "nn/attention.h"
#include "nn/finite_difference.h"
#include "nn/rotary.h"

using sslx::nn::apply_rotary;
using sslx::nn::AttentionMask;
using sslx::nn::AttentionOptions;
using sslx::nn::MultiHeadAttention;
using sslx::nn::RotaryOptions;

// A namespace named after the file, around its test cases too: a unity build compiles it in
// one translation unit with other test files, whose helpers may share these names.
namespace rotary_test {

// q kᵀ after rotating q and k at their positions: (B, H, T, T).
at::Tensor rotary_scores(const at::Tensor& q, const at::Tensor& k, const at::Tensor& q_positions,
                         const at::Tensor& k_positions) {
  const RotaryOptions options{.head_dim = q.size(3)};
  return at::matmul(apply_rotary(q, q_positions, options),
                    apply_rotary(k, k_positions, options).transpose(2, 3));
}

double max_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

MultiHeadAttention rotary_attention() {
  at::manual_seed(13);
  MultiHeadAttention attention(AttentionOptions{.d_model = 8, .n_heads = 2, .rotary = true});
  attention->to(at::kDouble);
  attention->eval();
  return attention;
}

TEST_CASE("rotary turns a channel pair by position times frequency") {
  // D = 2: one pair, frequency 1, so position p turns (1, 0) into (cos p, sin p).
  const at::Tensor x = at::tensor({1.0, 0.0, 0.0, 1.0}).view({1, 1, 2, 2});
  const at::Tensor out = apply_rotary(x, at::tensor({3L, 5L}), {.head_dim = 2});
  CHECK(at::allclose(out[0][0][0], at::tensor({std::cos(3.0), std::sin(3.0)}), 0, 1e-15));
  CHECK(at::allclose(out[0][0][1], at::tensor({-std::sin(5.0), std::cos(5.0)}), 0, 1e-15));
  // D = 4: pairs (0, 2) and (1, 3); the second pair turns at 10000^(-2/4) = 0.01 per position.
  const at::Tensor y = at::tensor({0.0, 1.0, 0.0, 0.0}).view({1, 1, 1, 4});
  CHECK(at::allclose(apply_rotary(y, at::tensor({7L}), {.head_dim = 4}).view({4}),
                     at::tensor({0.0, std::cos(0.07), 0.0, std::sin(0.07)}), 0, 1e-15));
}

TEST_CASE("rotary scores depend only on relative position") {
  at::manual_seed(17);
  const at::Tensor q = at::randn({2, 2, 5, 8}, at::kDouble),
                   k = at::randn({2, 2, 5, 8}, at::kDouble);
  const at::Tensor p = at::arange(5, at::kLong);
  const at::Tensor base = rotary_scores(q, k, p, p);
  // Shifting every position by 17 leaves every score unchanged, also per sequence (B, T).
  CHECK(max_diff(rotary_scores(q, k, p + 17, p + 17), base) < 1e-12);
  const at::Tensor per_sequence = at::stack({p + 3, p + 1000});
  CHECK(max_diff(rotary_scores(q, k, per_sequence, per_sequence), base) < 1e-10);
  // Negative control: shifting only the keys changes the relative positions and the scores.
  CHECK(max_diff(rotary_scores(q, k, p, p + 17), base) > 1e-2);
  // A rotation keeps norms.
  CHECK(max_diff(apply_rotary(q, p + 9, {.head_dim = 8}).norm(2, 3), q.norm(2, 3)) < 1e-12);
}

TEST_CASE("rotary self-attention: shifted positions give the same output, others do not") {
  auto attention = rotary_attention();
  const at::Tensor x = at::randn({2, 6, 8}, at::kDouble);
  const at::Tensor p = at::arange(6, at::kLong);
  const at::Tensor out = attention(x, AttentionMask{.causal = true});  // default positions 0..5
  CHECK(max_diff(attention(x, AttentionMask{.causal = true}, p), out) < 1e-15);
  CHECK(max_diff(attention(x, AttentionMask{.causal = true}, p + 100), out) < 1e-10);
  const at::Tensor gap = at::tensor({0L, 1L, 2L, 10L, 11L, 12L});
  CHECK(max_diff(attention(x, AttentionMask{.causal = true}, gap), out) > 1e-3);
}

TEST_CASE("rotary packed documents match each document run alone") {
  auto attention = rotary_attention();
  const at::Tensor x = at::randn({1, 6, 8}, at::kDouble);
  const at::Tensor segments = at::tensor({0L, 0L, 1L, 1L, 1L, 1L}).view({1, 6});
  const at::Tensor restart = at::tensor({0L, 1L, 0L, 1L, 2L, 3L});
  const AttentionMask packed{.causal = true, .segment_ids = segments};
  const at::Tensor second_alone = attention(x.narrow(1, 2, 4), AttentionMask{.causal = true});
  CHECK(max_diff(attention(x, packed, restart).narrow(1, 2, 4), second_alone) < 1e-12);
  // Rotary positions are relative: positions running on across documents give the same result.
  CHECK(max_diff(attention(x, packed).narrow(1, 2, 4), second_alone) < 1e-10);
  // Negative control: without segment ids the second document attends to the first.
  CHECK(max_diff(attention(x, AttentionMask{.causal = true}, restart).narrow(1, 2, 4),
                 second_alone) > 1e-3);
}

TEST_CASE("rotary self-attention gradients match central differences") {
  auto attention = rotary_attention();
  const at::Tensor x = at::randn({2, 4, 8}, at::kDouble).requires_grad_();
  const at::Tensor weights = at::randn({2, 4, 8}, at::kDouble);
  std::vector<at::Tensor> inputs = {x};
  for (const auto& parameter : attention->parameters())
    inputs.push_back(parameter);
  const auto loss = [&] {
    return (attention(x, AttentionMask{.causal = true}, at::tensor({3L, 4L, 5L, 6L})) * weights)
        .sum();
  };
  const auto result = sslx::test::compare_gradients(loss, inputs);
  CHECK(result.max_error < 1e-6);
  CHECK(result.max_gradient > 1e-2);
}

TEST_CASE("rotary arguments are checked") {
  auto attention = rotary_attention();
  const at::Tensor x = at::randn({1, 3, 8}, at::kDouble);
  CHECK_THROWS_WITH(attention->cross(x, x), Catch::Contains("rotary = true"));
  CHECK_THROWS_WITH(attention(x, AttentionMask{}, at::arange(4, at::kLong)),
                    Catch::Contains("(T) = (3) or (B, T) = (1, 3), got Long of shape [4]"));
  MultiHeadAttention plain(AttentionOptions{.d_model = 8, .n_heads = 2});
  CHECK_THROWS_WITH(plain(at::randn({1, 3, 8}), AttentionMask{}, at::arange(3, at::kLong)),
                    Catch::Contains("this module has rotary = false"));
  CHECK_THROWS_WITH(
      MultiHeadAttention(AttentionOptions{.d_model = 6, .n_heads = 2, .rotary = true}),
      Catch::Contains("even head width, got d_model / n_heads = 3"));
}

}  // namespace rotary_test
