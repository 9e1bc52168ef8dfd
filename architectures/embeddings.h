// The input layer of every backbone: token embedding, plus absolute positions (learned or
// sinusoidal) and BERT's token types when configured, then (post-norm models, as BERT) a norm,
// then dropout.
//
// Dimensions: B batch, T positions, E model width, V vocabulary, P max positions.
// Registered submodules (state-dict keys): tokens (V, E), [positions (P, E)], [token_types],
// [norm].
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/pimpl.h>

#include "architectures/architecture_options.h"
#include "nn/learned_positions.h"

namespace sslx::arch {

class EmbeddingsImpl : public torch::nn::Module {
 public:
  explicit EmbeddingsImpl(const ArchitectureOptions& options);

  // token_ids: (B, T) int64 in [0, V); position_ids: (T) or (B, T) int64 in [0, P);
  // token_type_ids: (B, T) int64 or undefined (type 0) -> (B, T, E)
  at::Tensor forward(const at::Tensor& token_ids, const at::Tensor& position_ids,
                     const at::Tensor& token_type_ids = {});

  torch::nn::Embedding tokens{nullptr};
  nn::LearnedPositions positions{nullptr};    // null unless positions = learned
  torch::nn::Embedding token_types{nullptr};  // null unless n_token_types > 0
  torch::nn::AnyModule norm;                  // empty unless norm_position = post

 private:
  ArchitectureOptions options_;
};
TORCH_MODULE(Embeddings);

}  // namespace sslx::arch
