// Multi-head attention: what each mask hides (by perturbing inputs, with negative controls),
// fully masked rows, cross-attention, and agreement with LibTorch's own MultiheadAttention.
// Dimensions: B batch, T queries, S keys, E model width, M memory width, H heads.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>

#include <limits>
#include <vector>

#include "nn/attention.h"

using sslx::nn::AttentionMask;
using sslx::nn::AttentionOptions;
using sslx::nn::MultiHeadAttention;

namespace {

constexpr std::int64_t B = 2, T = 6, E = 8, H = 2;

MultiHeadAttention make_attention(AttentionOptions options = {.d_model = E, .n_heads = H}) {
  at::manual_seed(7);
  MultiHeadAttention attention(options);
  attention->to(at::kDouble);
  attention->eval();
  return attention;
}

at::Tensor random_input(std::int64_t length = T, std::int64_t width = E) {
  return at::randn({B, length, width}, at::kDouble);
}

// x with new random values at positions [from, to) of every sequence: (B, T, E).
at::Tensor perturbed(const at::Tensor& x, std::int64_t from, std::int64_t to) {
  at::Tensor y = x.clone();
  y.narrow(1, from, to - from).normal_();
  return y;
}

// Largest change of the outputs at positions [from, to) between two runs: (B, T, E).
double change(const at::Tensor& a, const at::Tensor& b, std::int64_t from, std::int64_t to) {
  return (a.narrow(1, from, to - from) - b.narrow(1, from, to - from)).abs().max().item<double>();
}

constexpr double unchanged = 1e-12;  // exact up to float64 rounding
constexpr double changed = 1e-3;     // a real dependency moves outputs by O(0.1)

}  // namespace

TEST_CASE("causal: a future token does not change earlier outputs - without the mask it does") {
  auto attention = make_attention();
  const at::Tensor x = random_input(), y = perturbed(x, 4, 5);
  const AttentionMask causal{.causal = true};
  const at::Tensor before = attention(x, causal), after = attention(y, causal);
  CHECK(change(before, after, 0, 4) < unchanged);
  CHECK(change(before, after, 4, T) > changed);
  // Negative control: without the causal mask the same change reaches the earlier outputs.
  CHECK(change(attention(x), attention(y), 0, 4) > changed);
}

TEST_CASE("prefix LM: prefix positions see later prefix positions, later ones only the past") {
  auto attention = make_attention();
  const at::Tensor x = random_input();
  // Sequence 0 has a prefix of 3, sequence 1 a prefix of 1.
  const AttentionMask mask{.causal = true, .prefix_length = at::tensor({3L, 1L})};
  const at::Tensor base = attention(x, mask);
  // Position 2 is in sequence 0's prefix, so position 0 sees it; in sequence 1 it does not.
  const at::Tensor at2 = attention(perturbed(x, 2, 3), mask);
  CHECK(change(base[0].unsqueeze(0), at2[0].unsqueeze(0), 0, 1) > changed);
  CHECK(change(base[1].unsqueeze(0), at2[1].unsqueeze(0), 0, 2) < unchanged);
  // Position 4 is after both prefixes: positions 0-3 do not see it.
  const at::Tensor at4 = attention(perturbed(x, 4, 5), mask);
  CHECK(change(base, at4, 0, 4) < unchanged);
  CHECK(change(base, at4, 4, T) > changed);
  // Negative control: with the causal mask alone, position 0 does not see position 2 either.
  const AttentionMask causal{.causal = true};
  CHECK(change(attention(x, causal), attention(perturbed(x, 2, 3), causal), 0, 2) < unchanged);
}

TEST_CASE("packed documents: changing document 2 leaves document 1 unchanged") {
  auto attention = make_attention();
  const at::Tensor x = random_input(), y = perturbed(x, 3, T);  // document 2 = positions 3-5
  const at::Tensor segments = at::tensor({0L, 0L, 0L, 1L, 1L, 1L}).view({1, T}).expand({B, T});
  for (const bool causal : {false, true}) {
    const AttentionMask mask{.causal = causal, .segment_ids = segments};
    CHECK(change(attention(x, mask), attention(y, mask), 0, 3) < unchanged);
  }
  // Negative control: without segment ids document 1 attends to document 2.
  CHECK(change(attention(x), attention(y), 0, 3) > changed);
}

TEST_CASE("key padding: padded keys do not change the outputs at real positions") {
  auto attention = make_attention();
  const at::Tensor x = random_input(), y = perturbed(x, 4, T);
  const at::Tensor valid = (at::arange(T) < 4).view({1, T}).expand({B, T});
  const AttentionMask mask{.key_valid = valid};
  CHECK(change(attention(x, mask), attention(y, mask), 0, 4) < unchanged);
  CHECK(change(attention(x), attention(y), 0, 4) > changed);  // negative control
}

TEST_CASE("a query with no visible key gives zeros, with finite gradients") {
  auto attention = make_attention();
  const at::Tensor x = random_input().requires_grad_();
  // Left padding: in sequence 1 the first two keys are padding, so under the causal mask queries
  // 0 and 1 of that sequence see no key at all.
  const at::Tensor valid = at::ones({B, T}, at::kBool);
  valid[1].narrow(0, 0, 2).fill_(false);
  const at::Tensor out = attention(x, AttentionMask{.causal = true, .key_valid = valid});
  REQUIRE(at::isfinite(out).all().item<bool>());
  // No key: the heads give 0, so the output is out_proj's bias.
  const at::Tensor bias = attention->out_proj->bias.view({1, E});
  CHECK((out[1].narrow(0, 0, 2) - bias).abs().max().item<double>() < unchanged);
  CHECK((out[1][2] - bias).abs().max().item<double>() > changed);
  out.sum().backward();
  CHECK(at::isfinite(x.grad()).all().item<bool>());
  for (const auto& parameter : attention->parameters()) {
    CHECK(at::isfinite(parameter.grad()).all().item<bool>());
  }
}

TEST_CASE("scaled_dot_product_attention returns exact zeros for a fully masked row") {
  const at::Tensor q = at::randn({1, 1, 2, 4}), k = at::randn({1, 1, 3, 4}),
                   v = at::randn({1, 1, 3, 4});
  const at::Tensor allowed = at::tensor({0, 0, 0, 1, 0, 1}).view({1, 1, 2, 3}).to(at::kBool);
  const at::Tensor out = sslx::nn::scaled_dot_product_attention(
      q, k, v, sslx::nn::score_mask(allowed, at::kFloat), 0.0, false);
  CHECK(at::equal(out[0][0][0], at::zeros({4})));
  // Row 1 sees keys 0 and 2 only: softmax over those two scores.
  const at::Tensor scores = at::stack({q[0][0][1].dot(k[0][0][0]), q[0][0][1].dot(k[0][0][2])}) / 2;
  const at::Tensor p = at::softmax(scores, 0);
  CHECK(at::allclose(out[0][0][1], p[0] * v[0][0][0] + p[1] * v[0][0][2], 1e-5, 1e-6));
}

TEST_CASE(
    "a mask resolved once gives the outputs and gradients of its parts, and keeps its sizes") {
  auto attention = make_attention();
  const at::Tensor x = random_input();
  const at::Tensor valid = at::ones({B, T}, at::kBool);
  valid[1].narrow(0, 0, 2).fill_(false);  // sequence 1's first two queries see no key
  const AttentionMask parts{.causal = true, .key_valid = valid};
  const AttentionMask resolved{.resolved =
                                   sslx::nn::resolve_mask(parts, B, T, T, at::kDouble, at::kCPU)};
  REQUIRE(resolved.resolved.row_has_key.defined());
  const auto run = [&](const AttentionMask& mask) {
    attention->zero_grad();
    const at::Tensor input = x.clone().requires_grad_();
    const at::Tensor out = attention(input, mask);
    (out * at::arange(out.numel(), at::kDouble).view_as(out).cos()).sum().backward();
    std::vector<at::Tensor> results{out.detach(), input.grad()};
    for (const auto& parameter : attention->parameters())
      results.push_back(parameter.grad());
    return results;
  };
  const auto expected = run(parts), actual = run(resolved);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("tensor " << i);
    CHECK((expected[i] - actual[i]).abs().max().item<double>() < unchanged);
  }
  // Negative control: without the padding the outputs of sequence 1 change.
  const AttentionMask causal_only{
      .resolved = sslx::nn::resolve_mask({.causal = true}, B, T, T, at::kDouble, at::kCPU)};
  CHECK((run(causal_only)[0] - expected[0]).abs().max().item<double>() > changed);
  CHECK_THROWS_WITH(attention(random_input(T - 1), resolved),
                    Catch::Contains("(B, 1, T, S) = (2, 1, 5, 5), got [2, 1, 6, 6]"));
}

TEST_CASE("cross-attention reads memory of another width and length, with key padding") {
  constexpr std::int64_t S = 5, M = 12;
  auto attention = make_attention({.d_model = E, .n_heads = H, .d_memory = M});
  const at::Tensor query = random_input(), memory = random_input(S, M);
  const at::Tensor out = attention->cross(query, memory);
  CHECK(out.sizes() == at::IntArrayRef({B, T, E}));
  const at::Tensor changed_memory = perturbed(memory, 3, S);
  const AttentionMask mask{.key_valid = (at::arange(S) < 3).view({1, S}).expand({B, S})};
  CHECK(change(attention->cross(query, memory, mask), attention->cross(query, changed_memory, mask),
               0, T) < unchanged);
  CHECK(change(out, attention->cross(query, changed_memory), 0, T) > changed);  // negative control
  CHECK_THROWS_WITH(attention(query), Catch::Contains("d_model = 8 and d_memory = 12"));
}

TEST_CASE("attention refuses inputs of the wrong shape, naming the sizes") {
  auto attention = make_attention();
  CHECK_THROWS_WITH(attention(at::zeros({2, 3, 5}, at::kDouble)),
                    Catch::Contains("(B, T, E = 8), got [2, 3, 5]"));
  CHECK_THROWS_WITH(attention->cross(random_input(), at::zeros({1, 3, 8}, at::kDouble)),
                    Catch::Contains("(B = 2, S, M = 8), got [1, 3, 8]"));
  CHECK_THROWS_WITH(MultiHeadAttention(AttentionOptions{.d_model = 10, .n_heads = 3}),
                    Catch::Contains("d_model = 10 and n_heads = 3"));
}

// LibTorch's MultiheadAttention is an independent implementation: copy our weights into it and
// express each mask as its additive mask.
TEST_CASE("attention matches LibTorch's MultiheadAttention under every mask kind") {
  auto attention = make_attention();
  torch::nn::MultiheadAttention reference(torch::nn::MultiheadAttentionOptions(E, H));
  reference->to(at::kDouble);
  reference->eval();
  {
    torch::NoGradGuard no_grad;
    reference->in_proj_weight.copy_(
        at::cat({attention->q_proj->weight, attention->k_proj->weight, attention->v_proj->weight}));
    reference->in_proj_bias.copy_(
        at::cat({attention->q_proj->bias, attention->k_proj->bias, attention->v_proj->bias}));
    reference->out_proj->weight.copy_(attention->out_proj->weight);
    reference->out_proj->bias.copy_(attention->out_proj->bias);
  }
  const at::Tensor x = random_input();
  const at::Tensor segments = at::tensor({0L, 0L, 1L, 1L, 1L, 2L, 0L, 0L, 0L, 0L, 1L, 1L});
  const at::Tensor valid = (at::arange(T) < at::tensor({6L, 5L}).view({B, 1}));
  const std::vector<AttentionMask> masks = {
      {},
      {.causal = true},
      {.causal = true, .prefix_length = at::tensor({2L, 4L})},
      {.key_valid = valid},
      {.segment_ids = segments.view({B, T})},
      {.causal = true, .key_valid = valid, .segment_ids = segments.view({B, T})}};
  for (std::size_t i = 0; i < masks.size(); ++i) {
    INFO("mask " << i);
    const at::Tensor allowed = sslx::nn::allowed_positions(masks[i], B, T, T, at::kCPU);
    const at::Tensor out = attention(x, masks[i]);
    // LibTorch 1.13 adds a 3-D attn_mask wrongly, so compare one sequence at a time with a 2-D
    // additive mask (T, S); its layout is (T, B, E).
    for (std::int64_t b = 0; b < B; ++b) {
      at::Tensor additive;
      if (allowed.defined()) {
        additive =
            at::zeros({T, T}, at::kDouble)
                .masked_fill(allowed[b][0].logical_not(), -std::numeric_limits<double>::infinity());
      }
      const at::Tensor xt = x[b].unsqueeze(1);  // (T, 1, E)
      const at::Tensor expected = std::get<0>(reference->forward(
          xt, xt, xt, /*key_padding_mask=*/{}, /*need_weights=*/false, additive));
      CHECK(at::allclose(out[b], expected.squeeze(1), 1e-10, 1e-12));
    }
  }
}

TEST_CASE("attention dropout acts in training mode only, and bias = false drops the biases") {
  auto attention = make_attention({.d_model = E, .n_heads = H, .dropout = 0.5});
  const at::Tensor x = random_input();
  const at::Tensor evaluated = attention(x);
  auto plain = make_attention();  // same seed, so the same weights, without dropout
  CHECK(change(evaluated, plain(x), 0, T) < unchanged);
  attention->train();
  CHECK(change(attention(x), evaluated, 0, T) > changed);
  MultiHeadAttention no_bias(AttentionOptions{.d_model = E, .n_heads = H, .bias = false});
  CHECK(no_bias->named_parameters().keys() ==
        std::vector<std::string>{"q_proj.weight", "k_proj.weight", "v_proj.weight",
                                 "out_proj.weight"});
}
