// Grouped key/value heads, score bias, unscaled scores, and the KV cache of MultiHeadAttention.
// Dimensions: B batch, T queries, S keys, E model width, H heads, G key/value heads, D head width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "nn/attention.h"

using sslx::nn::AttentionCache;
using sslx::nn::AttentionMask;
using sslx::nn::AttentionOptions;
using sslx::nn::MultiHeadAttention;

namespace {

constexpr std::int64_t B = 2, T = 5, E = 8, H = 4, G = 2;

MultiHeadAttention make(AttentionOptions options) {
  at::manual_seed(21);
  MultiHeadAttention attention(options);
  attention->to(at::kDouble);
  attention->eval();
  return attention;
}

// Full self-attention against one position at a time through the cache.
double cache_error(MultiHeadAttention& attention, const at::Tensor& x) {
  const at::Tensor full = attention(x, AttentionMask{.causal = true});
  AttentionCache cache;
  std::vector<at::Tensor> steps;
  for (std::int64_t t = 0; t < x.size(1); ++t)
    steps.push_back(attention->forward(x.narrow(1, t, 1), {.causal = true}, {}, {}, &cache));
  CHECK(cache.length() == x.size(1));
  return (at::cat(steps, 1) - full).abs().max().item<double>();
}

}  // namespace

TEST_CASE("grouped kv heads: k_proj and v_proj are (G D, E) - equal to MHA with shared heads") {
  auto grouped = make({.d_model = E, .n_heads = H, .n_kv_heads = G});
  CHECK(grouped->k_proj->weight.sizes() == at::IntArrayRef({G * E / H, E}));
  auto full = make({.d_model = E, .n_heads = H});
  // Plain multi-head attention whose key/value head h copies grouped head h / (H / G).
  {
    const at::NoGradGuard no_grad;
    full->q_proj->weight.copy_(grouped->q_proj->weight);
    full->q_proj->bias.copy_(grouped->q_proj->bias);
    full->out_proj->weight.copy_(grouped->out_proj->weight);
    full->out_proj->bias.copy_(grouped->out_proj->bias);
    const std::int64_t D = E / H;
    for (std::int64_t h = 0; h < H; ++h) {
      const std::int64_t g = h / (H / G);
      full->k_proj->weight.narrow(0, h * D, D).copy_(grouped->k_proj->weight.narrow(0, g * D, D));
      full->k_proj->bias.narrow(0, h * D, D).copy_(grouped->k_proj->bias.narrow(0, g * D, D));
      full->v_proj->weight.narrow(0, h * D, D).copy_(grouped->v_proj->weight.narrow(0, g * D, D));
      full->v_proj->bias.narrow(0, h * D, D).copy_(grouped->v_proj->bias.narrow(0, g * D, D));
    }
  }
  const at::Tensor x = at::randn({B, T, E}, at::kDouble);
  CHECK((grouped(x) - full(x)).abs().max().item<double>() < 1e-12);
  // Negative control: pairing query head h with key/value head h % G instead differs.
  {
    const at::NoGradGuard no_grad;
    const std::int64_t D = E / H;
    full->k_proj->weight.narrow(0, D, D).copy_(grouped->k_proj->weight.narrow(0, D, D));
  }
  CHECK((grouped(x) - full(x)).abs().max().item<double>() > 1e-4);
  CHECK_THROWS_WITH(make({.d_model = E, .n_heads = H, .n_kv_heads = 3}),
                    Catch::Contains("n_kv_heads must divide"));
}

TEST_CASE("the self-attention KV cache gives the full causal forward, step by step") {
  const at::Tensor x = at::randn({B, T, E}, at::kDouble);
  auto plain = make({.d_model = E, .n_heads = H});
  CHECK(cache_error(plain, x) < 1e-12);
  auto grouped_rotary = make({.d_model = E, .n_heads = H, .n_kv_heads = G, .rotary = true});
  CHECK(cache_error(grouped_rotary, x) < 1e-12);
  // Negative control: without the cache each step sees only itself.
  const at::Tensor full = plain(x, AttentionMask{.causal = true});
  CHECK((plain(x.narrow(1, T - 1, 1)) - full.narrow(1, T - 1, 1)).abs().max().item<double>() >
        1e-4);
}

TEST_CASE("the cross-attention cache is filled once and then replaces the memory") {
  auto attention = make({.d_model = E, .n_heads = H, .n_kv_heads = G});
  const at::Tensor query = at::randn({B, 2, E}, at::kDouble);
  const at::Tensor memory = at::randn({B, 7, E}, at::kDouble);
  AttentionCache cache;
  const at::Tensor first = attention->cross(query, memory, {}, {}, &cache);
  REQUIRE(cache.length() == 7);
  CHECK(at::equal(attention->cross(query, at::Tensor(), {}, {}, &cache), first));
  CHECK(at::equal(attention->cross(query, memory), first));
  CHECK_THROWS_WITH(attention->cross(query, memory, {}, {}, &cache),
                    Catch::Contains("already holds the memory's keys and values"));
  CHECK_THROWS_WITH(attention->cross(query, at::Tensor()), Catch::Contains("needs memory"));
}

TEST_CASE("score bias is added to the scores - scale_scores = false leaves them unscaled") {
  auto scaled = make({.d_model = E, .n_heads = H});
  auto unscaled = make({.d_model = E, .n_heads = H, .scale_scores = false});
  const at::Tensor x = at::randn({B, T, E}, at::kDouble);
  // Unscaled attention equals scaled attention with q_proj multiplied by √D.
  {
    const at::NoGradGuard no_grad;
    unscaled->q_proj->weight.div_(std::sqrt(double(E / H)));
    unscaled->q_proj->bias.div_(std::sqrt(double(E / H)));
  }
  CHECK((scaled(x) - unscaled(x)).abs().max().item<double>() < 1e-12);
  // A bias of -inf on a key removes it, as a mask does.
  at::Tensor bias = at::zeros({1, 1, T, T}, at::kDouble);
  bias.select(3, 0).fill_(-std::numeric_limits<double>::infinity());
  const at::Tensor valid = at::ones({B, T}, at::kBool).index_fill_(1, at::tensor({0L}), false);
  CHECK((scaled->forward(x, {}, {}, bias) - scaled(x, AttentionMask{.key_valid = valid}))
            .abs()
            .max()
            .item<double>() < 1e-12);
  CHECK((scaled->forward(x, {}, {}, bias) - scaled(x)).abs().max().item<double>() > 1e-4);
}
