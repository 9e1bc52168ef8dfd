#include "nn/transformer_block.h"

#include <ATen/ATen.h>

#include <string>

namespace sslx::nn {

NormPosition norm_position_from_name(std::string_view name) {
  if (name == "pre") return NormPosition::pre;
  if (name == "post") return NormPosition::post;
  TORCH_CHECK(false, "unknown norm position \"", std::string(name), "\"; known: pre, post");
}

TransformerBlockImpl::TransformerBlockImpl(const TransformerBlockOptions& options)
    : options_(options) {
  TORCH_CHECK(options.dropout >= 0.0 && options.dropout < 1.0, "dropout must be in [0, 1), got ",
              options.dropout);
  const AttentionOptions attention{.d_model = options.d_model,
                                   .n_heads = options.n_heads,
                                   .n_kv_heads = options.n_kv_heads,
                                   .dropout = options.attention_dropout,
                                   .bias = options.bias,
                                   .rotary = options.rotary,
                                   .scale_scores = options.scale_scores};
  const NormOptions norm{.kind = options.norm,
                         .d_model = options.d_model,
                         .eps = options.norm_eps,
                         .bias = options.bias};
  self_attn = register_module("self_attn", MultiHeadAttention(attention));
  self_attn_norm = make_norm(norm);
  register_module("self_attn_norm", self_attn_norm.ptr());
  if (options.cross_attention) {
    AttentionOptions cross = attention;
    cross.rotary = false;
    cross.d_memory = options.d_memory;
    cross_attn = register_module("cross_attn", MultiHeadAttention(cross));
    cross_attn_norm = make_norm(norm);
    register_module("cross_attn_norm", cross_attn_norm.ptr());
  }
  ff = register_module("ff", FeedForward(FeedForwardOptions{.d_model = options.d_model,
                                                            .d_hidden = options.d_ff,
                                                            .activation = options.activation,
                                                            .bias = options.bias}));
  ff_norm = make_norm(norm);
  register_module("ff_norm", ff_norm.ptr());
}

template <class Sublayer>
at::Tensor TransformerBlockImpl::residual(const at::Tensor& x, torch::nn::AnyModule& norm,
                                          Sublayer&& sublayer) {
  const auto drop = [&](const at::Tensor& y) {
    return options_.dropout > 0.0 ? at::dropout(y, options_.dropout, is_training()) : y;
  };
  if (options_.norm_position == NormPosition::pre) return x + drop(sublayer(norm.forward(x)));
  return norm.forward(x + drop(sublayer(x)));
}

at::Tensor TransformerBlockImpl::forward(const at::Tensor& x, const BlockContext& context,
                                         BlockCache cache) {
  at::Tensor h = residual(x, self_attn_norm, [&](const at::Tensor& y) {
    return self_attn->forward(y, context.self_mask, context.positions, context.self_bias,
                              cache.self);
  });
  if (options_.cross_attention) {
    h = residual(h, cross_attn_norm, [&](const at::Tensor& y) {
      return cross_attn->cross(y, context.memory, context.memory_mask, {}, cache.cross);
    });
  }
  return residual(h, ff_norm, [&](const at::Tensor& y) { return ff->forward(y); });
}

}  // namespace sslx::nn
