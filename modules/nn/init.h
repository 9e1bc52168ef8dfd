// Initialisation schemes for whole models, chosen by name.
//
//   gpt2: every weight matrix and embedding N(0, 0.02²), biases 0; the residual projections
//         (attention and feed-forward out_proj) N(0, (0.02 / √(2 n_layers))²) so the residual
//         stream's variance does not grow with depth (Radford et al. 2019).
//   bert: every weight matrix and embedding N(0, 0.02²), biases 0 (Devlin et al. 2019; BERT's
//         TF code truncates at 2σ, Hugging Face does not, and neither does this).
//   t5:   T5's per-matrix scales (Mesh TF, Hugging Face T5PreTrainedModel): q_proj
//         N(0, 1/(E D)), k_proj and v_proj N(0, 1/E), attention out_proj N(0, 1/(H D)),
//         feed-forward in_proj/gate_proj N(0, 1/E) and out_proj N(0, 1/F), relative position
//         bias N(0, 1/E), token embeddings N(0, 1), other linear layers N(0, 1/fan_in).
// Every scheme sets norm weights to 1 and their biases to 0.
// Dimensions: E model width, D head width, H heads, F feed-forward width.
#pragma once

#include <torch/nn/module.h>

#include <cstdint>
#include <string_view>

namespace sslx::nn {

enum class InitScheme { gpt2, bert, t5 };
// "gpt2", "bert" or "t5"; throws (c10::Error) listing them otherwise.
InitScheme init_scheme_from_name(std::string_view name);

struct InitOptions {
  InitScheme scheme = InitScheme::gpt2;
  std::int64_t n_layers = 1;  // layers of the deepest stack, for gpt2's residual scale
  std::int64_t d_model = 0;   // E, for t5's relative position bias
};

// Re-draws every parameter of `model` and its submodules, in place, from the global generator.
void initialize(torch::nn::Module& model, const InitOptions& options);

}  // namespace sslx::nn
