// Multi-head scaled dot-product attention, self and cross.
//
// Dimensions: B batch, T query positions, S key positions, E model width (d_model), M memory
// width (d_memory: the width of what cross-attention reads), H heads, D = E / H head width,
// G key/value heads (n_kv_heads, dividing H: grouped-query attention, Ainslie et al. 2023; query
// head h reads key/value head h / (H / G)).
// Registered submodules (state-dict keys): q_proj (E -> E), k_proj and v_proj (E or M -> G D),
// out_proj (E -> E).
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "nn/attention_mask.h"
#include "nn/kv_cache.h"

namespace sslx::nn {

struct AttentionOptions {
  std::int64_t d_model = 0;     // E
  std::int64_t n_heads = 0;     // H, must divide E
  std::int64_t n_kv_heads = 0;  // G, must divide H; 0 means H (plain multi-head attention)
  std::int64_t d_memory = 0;    // M for cross-attention; 0 means E
  double dropout = 0.0;         // on the attention probabilities, in training mode only
  bool bias = true;             // in the four projections
  // Rotary positions (RoPE) on queries and keys in self-attention; see nn/rotary.h.
  bool rotary = false;
  double rotary_base = 10000.0;
  // Scores divided by √D (Vaswani et al.); T5 does not scale and folds it into the init of q_proj.
  bool scale_scores = true;
};

// softmax(scale q kᵀ + score_bias + mask.bias) v. q: (B, H, T, D), k and v: (B, H, S, D), mask:
// resolved for (B, T, S) (resolve_mask, score_mask; an unresolved ScoreMask masks nothing),
// score_bias: broadcastable to (B, H, T, S) or undefined (e.g. T5's relative position bias)
// -> (B, H, T, D). scale 0 means 1/√D. Rows with no allowed key give 0.
at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v, const ScoreMask& mask, double dropout,
                                        bool training, const at::Tensor& score_bias = {},
                                        double scale = 0.0);

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadAttentionImpl(const AttentionOptions& options);

  // Self-attention. x: (B, T, E) -> (B, T, E). positions: (T) or (B, T) integer, only with
  // rotary (e.g. restarting at 0 for each packed document); undefined means C .. C+T-1 where C
  // is the cache length. score_bias: broadcastable to (B, H, T, S) or undefined. cache: when
  // given, its keys and values (C of them) are prepended and this step's are appended to it; the
  // mask then covers S = C + T keys (a causal mask puts the T queries last).
  at::Tensor forward(const at::Tensor& x, const AttentionMask& mask = {},
                     const at::Tensor& positions = {}, const at::Tensor& score_bias = {},
                     AttentionCache* cache = nullptr);
  // Cross-attention. query: (B, T, E), memory: (B, S, M) -> (B, T, E). Not a forward overload:
  // TORCH_MODULE's operator() needs forward to be a single function. Refused with rotary, whose
  // positions relate a sequence to itself. cache: filled from memory when empty; once filled it
  // replaces the memory, which must then be undefined.
  at::Tensor cross(const at::Tensor& query, const at::Tensor& memory,
                   const AttentionMask& mask = {}, const at::Tensor& score_bias = {},
                   AttentionCache* cache = nullptr);

  const AttentionOptions& options() const { return options_; }

  torch::nn::Linear q_proj{nullptr};
  torch::nn::Linear k_proj{nullptr};
  torch::nn::Linear v_proj{nullptr};
  torch::nn::Linear out_proj{nullptr};

 private:
  // q: (B, H, T, D), k and v: (B, G, S, D) -> (B, T, E)
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const AttentionMask& mask, const at::Tensor& score_bias);

  AttentionOptions options_;
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace sslx::nn
