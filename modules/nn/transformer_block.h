// One Transformer layer: self-attention, optional cross-attention (decoder of an encoder-
// decoder), feed-forward; each sub-layer with a residual connection, dropout on its output, and
// a norm before it (pre-norm: GPT-2, T5) or after the residual sum (post-norm: original
// Transformer, BERT).
//
// Dimensions: B batch, T positions, S self-attention keys (T, or C + T with a KV cache of C),
// M memory width, E model width.
// Registered submodules (state-dict keys): self_attn, self_attn_norm, [cross_attn,
// cross_attn_norm,] ff, ff_norm.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string_view>

#include "nn/attention.h"
#include "nn/attention_mask.h"
#include "nn/feed_forward.h"
#include "nn/kv_cache.h"
#include "nn/norm.h"

namespace sslx::nn {

enum class NormPosition { pre, post };
// "pre" or "post"; throws (c10::Error) otherwise.
NormPosition norm_position_from_name(std::string_view name);

struct TransformerBlockOptions {
  std::int64_t d_model = 0;     // E
  std::int64_t n_heads = 0;     // H
  std::int64_t n_kv_heads = 0;  // G; 0 means H
  std::int64_t d_ff = 0;        // F
  Activation activation = Activation::gelu;
  NormKind norm = NormKind::layer_norm;
  double norm_eps = 0.0;  // 0: the norm's default
  NormPosition norm_position = NormPosition::pre;
  bool bias = true;                // in projections and LayerNorms
  double dropout = 0.0;            // on each sub-layer's output before the residual sum
  double attention_dropout = 0.0;  // on the attention probabilities
  bool rotary = false;             // RoPE in self-attention
  bool scale_scores = true;        // false for T5
  bool cross_attention = false;    // a decoder block of an encoder-decoder
  std::int64_t d_memory = 0;       // M; 0 means E
};

// What a block reads besides its input; the same for every layer of a stack.
struct BlockContext {
  AttentionMask self_mask = {};
  at::Tensor positions = {};  // rotary positions, (T) or (B, T); see MultiHeadAttention
  at::Tensor self_bias = {};  // added to self-attention scores (T5), (1, H, T, S)
  at::Tensor memory = {};     // (B, S_mem, M); undefined with a filled cross cache
  AttentionMask memory_mask = {};
};

// This layer's caches for incremental decoding (null: no cache).
struct BlockCache {
  AttentionCache* self = nullptr;
  AttentionCache* cross = nullptr;
};

class TransformerBlockImpl : public torch::nn::Module {
 public:
  explicit TransformerBlockImpl(const TransformerBlockOptions& options);

  // x: (B, T, E) -> (B, T, E)
  at::Tensor forward(const at::Tensor& x, const BlockContext& context, BlockCache cache = {});

  const TransformerBlockOptions& options() const { return options_; }

  MultiHeadAttention self_attn{nullptr};
  MultiHeadAttention cross_attn{nullptr};  // null without cross_attention
  FeedForward ff{nullptr};
  torch::nn::AnyModule self_attn_norm, cross_attn_norm, ff_norm;

 private:
  // The residual connection around `sublayer`, with the norm before or after it.
  template <class Sublayer>
  at::Tensor residual(const at::Tensor& x, torch::nn::AnyModule& norm, Sublayer&& sublayer);

  TransformerBlockOptions options_;
};
TORCH_MODULE(TransformerBlock);

}  // namespace sslx::nn
