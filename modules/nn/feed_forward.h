// Position-wise feed-forward block: E -> F -> E.
//
// Dimensions: E model width (d_model), F hidden width (d_hidden); inputs are (..., E), usually
// (B, T, E). Plain:  out_proj(act(in_proj(x)))
//         Gated:  out_proj(act(gate_proj(x)) * in_proj(x))   (GLU variants, Shazeer 2020)
// Registered submodules (state-dict keys): in_proj, out_proj, and gate_proj for gated kinds.
// Gated kinds have three matrices instead of two: to match a plain block's parameter count use
// F = 2/3 of the plain F, as LLaMA does.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string_view>

namespace sslx::nn {

enum class Activation {
  gelu,       // exact, with erf (BERT, T5 v1.1 GeGLU)
  gelu_tanh,  // tanh approximation (GPT-2)
  relu,       // original Transformer, T5
  swiglu,     // gated, SiLU gate (PaLM, LLaMA)
  geglu,      // gated, exact GELU gate
};

bool is_gated(Activation activation);
// "gelu", "gelu_tanh", "relu", "swiglu" or "geglu"; throws (c10::Error) listing them otherwise.
Activation activation_from_name(std::string_view name);

struct FeedForwardOptions {
  std::int64_t d_model = 0;   // E
  std::int64_t d_hidden = 0;  // F
  Activation activation = Activation::gelu;
  bool bias = true;  // in every projection
};

class FeedForwardImpl : public torch::nn::Module {
 public:
  explicit FeedForwardImpl(const FeedForwardOptions& options);

  // x: (..., E) -> (..., E)
  at::Tensor forward(const at::Tensor& x);

  const FeedForwardOptions& options() const { return options_; }

  torch::nn::Linear in_proj{nullptr};
  torch::nn::Linear gate_proj{nullptr};  // null unless the activation is gated
  torch::nn::Linear out_proj{nullptr};

 private:
  FeedForwardOptions options_;
};
TORCH_MODULE(FeedForward);

}  // namespace sslx::nn
