#include "architectures/embeddings.h"

#include <ATen/ATen.h>

#include "nn/sinusoidal_positions.h"

namespace sslx::arch {

EmbeddingsImpl::EmbeddingsImpl(const ArchitectureOptions& options) : options_(options) {
  tokens = register_module("tokens", torch::nn::Embedding(torch::nn::EmbeddingOptions(
                                         options.vocab_size, options.d_model)));
  if (options.positions == PositionKind::learned) {
    positions = register_module(
        "positions", nn::LearnedPositions(nn::LearnedPositionsOptions{
                         .max_positions = options.max_positions, .d_model = options.d_model}));
  }
  if (options.n_token_types > 0) {
    token_types = register_module("token_types", torch::nn::Embedding(torch::nn::EmbeddingOptions(
                                                     options.n_token_types, options.d_model)));
  }
  if (options.norm_position == nn::NormPosition::post) {
    norm = nn::make_norm(nn::NormOptions{.kind = options.norm,
                                         .d_model = options.d_model,
                                         .eps = options.norm_eps,
                                         .bias = options.bias});
    register_module("norm", norm.ptr());
  }
}

at::Tensor EmbeddingsImpl::forward(const at::Tensor& token_ids, const at::Tensor& position_ids,
                                   const at::Tensor& token_type_ids) {
  TORCH_CHECK(token_ids.dim() == 2 && token_ids.scalar_type() == at::kLong,
              "token_ids must be (B, T) int64, got ", token_ids.sizes(), " ",
              token_ids.scalar_type());
  TORCH_CHECK(
      position_ids.numel() == 0 || position_ids.max().item<std::int64_t>() < options_.max_positions,
      "position ids must be < max_positions = ", options_.max_positions, ", got ",
      position_ids.max().item<std::int64_t>());
  at::Tensor x = tokens->forward(token_ids);  // (B, T, E)
  if (positions) {
    x = x + positions->forward(position_ids);
  } else if (options_.positions == PositionKind::sinusoidal) {
    x = x + nn::sinusoidal_positions(position_ids, options_.d_model, 10000.0, x.scalar_type());
  }
  if (token_types) {
    x = x +
        (token_type_ids.defined() ? token_types->forward(token_type_ids) : token_types->weight[0]);
  } else {
    TORCH_CHECK(!token_type_ids.defined(),
                "token_type_ids given, but the model has n_token_types = 0");
  }
  if (!norm.is_empty()) x = norm.forward(x);
  if (options_.embedding_dropout > 0.0)
    x = at::dropout(x, options_.embedding_dropout, is_training());
  return x;
}

}  // namespace sslx::arch
