// Multi-head scaled dot-product attention, self and cross.
//
// Dimensions: B batch, T query positions, S key positions, E model width (d_model), M memory
// width (d_memory: the width of what cross-attention reads), H heads, D = E / H head width.
// Registered submodules (state-dict keys): q_proj, k_proj, v_proj, out_proj.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "nn/attention_mask.h"

namespace sslx::nn {

struct AttentionOptions {
  std::int64_t d_model = 0;   // E
  std::int64_t n_heads = 0;   // H, must divide E
  std::int64_t d_memory = 0;  // M for cross-attention; 0 means E
  double dropout = 0.0;       // on the attention probabilities, in training mode only
  bool bias = true;           // in the four projections
  // Rotary positions (RoPE) on queries and keys in self-attention; see nn/rotary.h.
  bool rotary = false;
  double rotary_base = 10000.0;
};

// softmax(q kᵀ / √D) v over the allowed keys. q: (B, H, T, D), k and v: (B, H, S, D), allowed:
// (B, 1, T, S) bool or undefined (all allowed) -> (B, H, T, D). Rows with no allowed key give 0.
at::Tensor scaled_dot_product_attention(const at::Tensor& q, const at::Tensor& k,
                                        const at::Tensor& v, const at::Tensor& allowed,
                                        double dropout, bool training);

class MultiHeadAttentionImpl : public torch::nn::Module {
 public:
  explicit MultiHeadAttentionImpl(const AttentionOptions& options);

  // Self-attention. x: (B, T, E) -> (B, T, E). positions: (T) or (B, T) integer, only with
  // rotary (e.g. restarting at 0 for each packed document); undefined means 0 .. T-1.
  at::Tensor forward(const at::Tensor& x, const AttentionMask& mask = {},
                     const at::Tensor& positions = {});
  // Cross-attention. query: (B, T, E), memory: (B, S, M) -> (B, T, E). Not a forward overload:
  // TORCH_MODULE's operator() needs forward to be a single function. Refused with rotary, whose
  // positions relate a sequence to itself.
  at::Tensor cross(const at::Tensor& query, const at::Tensor& memory,
                   const AttentionMask& mask = {});

  const AttentionOptions& options() const { return options_; }

  torch::nn::Linear q_proj{nullptr};
  torch::nn::Linear k_proj{nullptr};
  torch::nn::Linear v_proj{nullptr};
  torch::nn::Linear out_proj{nullptr};

 private:
  // q: (B, H, T, D), k and v: (B, H, S, D) -> (B, T, E)
  at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                    const AttentionMask& mask);

  AttentionOptions options_;
};
TORCH_MODULE(MultiHeadAttention);

}  // namespace sslx::nn
