#include "nn/attention.h"

#include <ATen/ATen.h>

#include <cmath>
#include <initializer_list>
#include <vector>

#include "nn/rotary.h"

namespace sslx::nn {
namespace {

// (B, L, E) -> (B, H, L, D)
at::Tensor split_heads(const at::Tensor& x, std::int64_t H) {
  return x.view({x.size(0), x.size(1), H, x.size(2) / H}).transpose(1, 2);
}

// (B, H, L, D) -> (B, L, E)
at::Tensor merge_heads(const at::Tensor& x) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// (B, G, S, D) -> (B, H, S, D): key/value head g serves query heads g H/G .. (g+1) H/G - 1.
at::Tensor repeat_kv(const at::Tensor& x, std::int64_t H) {
  const std::int64_t G = x.size(1);
  return G == H ? x : x.repeat_interleave(H / G, /*dim=*/1);
}

// x (B, L, E) through several projections of the same input as one matrix product: their
// weights (and biases) stacked along the output dimension, the result split back. One product
// of 3E outputs keeps the BLAS kernel busier than three of E, and its backward pass sums the
// input's gradient inside one product instead of adding three. The stacking copies the weights
// (3 E^2 values), small next to the product (B L 3 E^2 multiply-adds).
std::vector<at::Tensor> project_together(const at::Tensor& x,
                                         std::initializer_list<torch::nn::Linear> projections) {
  std::vector<at::Tensor> weights, biases;
  std::vector<std::int64_t> sizes;
  for (const auto& projection : projections) {
    weights.push_back(projection->weight);
    if (projection->bias.defined()) biases.push_back(projection->bias);
    sizes.push_back(projection->weight.size(0));
  }
  const at::Tensor bias = biases.empty() ? at::Tensor() : at::cat(biases);
  return at::linear(x, at::cat(weights), bias).split_with_sizes(sizes, -1);
}

// Appends this step's keys or values (B, G, T, D) to the cached ones along S.
at::Tensor appended(const at::Tensor& cached, const at::Tensor& step) {
  return cached.defined() ? at::cat({cached, step}, 2) : step;
}

}  // namespace

at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v, const ScoreMask& mask, double dropout,
                                        bool training, const at::Tensor& score_bias, double scale) {
  if (scale == 0.0) scale = 1.0 / std::sqrt(double(q.size(-1)));
  const std::int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3), S = k.size(2);
  at::Tensor bias = mask.bias;  // (B, 1, T, S)
  if (score_bias.defined()) bias = bias.defined() ? score_bias + bias : score_bias;
  at::Tensor scores;  // (B, H, T, S)
  if (bias.defined()) {
    // scores = bias + scale q kᵀ as one matrix product that adds into the bias (beta = 1), not
    // a product, a scaling and a masking: two fewer passes over the (B, H, T, S) scores forward
    // and two backward.
    scores = at::empty({B, H, T, S}, q.options());
    scores.copy_(bias.expand({B, H, T, S}));
    scores.view({B * H, T, S})
        .baddbmm_(q.reshape({B * H, T, D}), k.reshape({B * H, S, D}).transpose(1, 2),
                  /*beta=*/1.0, /*alpha=*/scale);
  } else {
    // Scaling q (B H T D values) instead of the scores (B H T S).
    scores = at::matmul(q * scale, k.transpose(-2, -1));
  }
  at::Tensor probs = at::softmax(scores, -1);
  if (mask.row_has_key.defined()) probs = probs * mask.row_has_key;  // rows with no key give 0
  if (dropout > 0.0) probs = at::dropout(probs, dropout, training);
  return at::matmul(probs, v);
}

MultiHeadAttentionImpl::MultiHeadAttentionImpl(const AttentionOptions& options)
    : options_(options) {
  TORCH_CHECK(options.d_model > 0 && options.n_heads > 0 && options.d_model % options.n_heads == 0,
              "attention needs n_heads > 0 dividing d_model > 0, got d_model = ", options.d_model,
              " and n_heads = ", options.n_heads);
  if (options_.n_kv_heads == 0) options_.n_kv_heads = options.n_heads;
  TORCH_CHECK(options_.n_kv_heads > 0 && options.n_heads % options_.n_kv_heads == 0,
              "n_kv_heads must divide n_heads = ", options.n_heads, ", got ", options_.n_kv_heads);
  TORCH_CHECK(options.d_memory >= 0, "d_memory must be >= 0 (0: d_model), got ", options.d_memory);
  TORCH_CHECK(options.dropout >= 0.0 && options.dropout < 1.0, "dropout must be in [0, 1), got ",
              options.dropout);
  TORCH_CHECK(!options.rotary || (options.d_model / options.n_heads) % 2 == 0,
              "rotary attention needs an even head width, got d_model / n_heads = ",
              options.d_model / options.n_heads);
  if (options_.d_memory == 0) options_.d_memory = options.d_model;
  const std::int64_t d_kv = options_.n_kv_heads * (options.d_model / options.n_heads);  // G D
  const auto linear = [&](std::int64_t in, std::int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(options_.bias));
  };
  q_proj = register_module("q_proj", linear(options_.d_model, options_.d_model));
  k_proj = register_module("k_proj", linear(options_.d_memory, d_kv));
  v_proj = register_module("v_proj", linear(options_.d_memory, d_kv));
  out_proj = register_module("out_proj", linear(options_.d_model, options_.d_model));
}

at::Tensor MultiHeadAttentionImpl::forward(const at::Tensor& x, const AttentionMask& mask,
                                           const at::Tensor& positions,
                                           const at::Tensor& score_bias, AttentionCache* cache) {
  const std::int64_t E = options_.d_model, H = options_.n_heads, G = options_.n_kv_heads;
  TORCH_CHECK(options_.d_memory == E,
              "self-attention needs d_memory == d_model, this module has d_model = ", E,
              " and d_memory = ", options_.d_memory);
  TORCH_CHECK(x.dim() == 3 && x.size(2) == E, "x must be (B, T, E = ", E, "), got ", x.sizes());
  TORCH_CHECK(options_.rotary || !positions.defined(),
              "positions are only used by rotary attention, and this module has rotary = false");
  const std::int64_t cached = cache != nullptr ? cache->length() : 0;  // C
  const auto qkv = project_together(x, {q_proj, k_proj, v_proj});
  at::Tensor q = split_heads(qkv[0], H);  // (B, H, T, D)
  at::Tensor k = split_heads(qkv[1], G);  // (B, G, T, D)
  at::Tensor v = split_heads(qkv[2], G);  // (B, G, T, D)
  if (options_.rotary) {
    const RotaryOptions rotary{.head_dim = E / H, .base = options_.rotary_base};
    const at::Tensor p = positions.defined()
                             ? positions
                             : at::arange(cached, cached + x.size(1), x.options().dtype(at::kLong));
    q = apply_rotary(q, p, rotary);
    k = apply_rotary(k, p, rotary);
  }
  if (cache != nullptr) {
    TORCH_CHECK(cached == 0 || (cache->key.size(0) == x.size(0) && cache->key.size(1) == G),
                "the self-attention cache holds (B, G, C, D) = ", cache->key.sizes(),
                ", which does not match x ", x.sizes(), " with G = ", G);
    cache->key = k = appended(cache->key, k);  // (B, G, C + T, D)
    cache->value = v = appended(cache->value, v);
  }
  return attend(q, k, v, mask, score_bias);
}

at::Tensor MultiHeadAttentionImpl::cross(const at::Tensor& query, const at::Tensor& memory,
                                         const AttentionMask& mask, const at::Tensor& score_bias,
                                         AttentionCache* cache) {
  const std::int64_t E = options_.d_model, M = options_.d_memory, H = options_.n_heads,
                     G = options_.n_kv_heads;
  TORCH_CHECK(!options_.rotary,
              "cross-attention does not take rotary positions, and this module "
              "has rotary = true");
  TORCH_CHECK(query.dim() == 3 && query.size(2) == E, "query must be (B, T, E = ", E, "), got ",
              query.sizes());
  const at::Tensor q = split_heads(q_proj->forward(query), H);  // (B, H, T, D)
  if (cache != nullptr && cache->key.defined()) {
    TORCH_CHECK(!memory.defined(),
                "the cross-attention cache already holds the memory's keys and values; pass an "
                "undefined memory, or an empty cache for a new memory");
    TORCH_CHECK(cache->key.size(0) == query.size(0), "the cross-attention cache holds a batch of ",
                cache->key.size(0), ", the query has ", query.size(0));
    return attend(q, cache->key, cache->value, mask, score_bias);
  }
  TORCH_CHECK(memory.defined(),
              "cross-attention needs memory, or a cache filled on an earlier step");
  TORCH_CHECK(memory.dim() == 3 && memory.size(0) == query.size(0) && memory.size(2) == M,
              "memory must be (B = ", query.size(0), ", S, M = ", M, "), got ", memory.sizes());
  const auto kv = project_together(memory, {k_proj, v_proj});
  const at::Tensor k = split_heads(kv[0], G);  // (B, G, S, D)
  const at::Tensor v = split_heads(kv[1], G);  // (B, G, S, D)
  if (cache != nullptr) {
    cache->key = k;
    cache->value = v;
  }
  return attend(q, k, v, mask, score_bias);
}

at::Tensor MultiHeadAttentionImpl::attend(const at::Tensor& q, const at::Tensor& k,
                                          const at::Tensor& v, const AttentionMask& mask,
                                          const at::Tensor& score_bias) {
  const std::int64_t H = options_.n_heads;
  const ScoreMask scores =
      resolve_mask(mask, q.size(0), q.size(2), k.size(2), q.scalar_type(), q.device());
  const double scale = options_.scale_scores ? 0.0 : 1.0;
  const at::Tensor heads =
      scaled_dot_product_attention(q, repeat_kv(k, H), repeat_kv(v, H), scores, options_.dropout,
                                   is_training(), score_bias, scale);
  return out_proj->forward(merge_heads(heads));  // (B, T, E)
}

}  // namespace sslx::nn
