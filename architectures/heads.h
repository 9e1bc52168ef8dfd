// Heads that attach to any backbone's hidden states (ArchitectureOutputs::hidden_states).
//
// Dimensions: B batch, T positions, E model width, V vocabulary, K classes.
//   LmHead:             (B, T, E) -> logits (B, T, V); tied: the input embedding's weight,
//                       registering no parameter of its own; else `proj` (V, E), no bias.
//                       With a transform (BERT): `transform` (E, E) + bias, the activation,
//                       `transform_norm`, then the projection and `bias` (V).
//   ScalarHead:         (B, T, E) -> (B) pooled, e.g. a reward at the last valid token, or
//                       (B, T) per position (a PPO value head); `proj` (1, E) + bias.
//   ClassificationHead: (B, T, E) -> logits (B, K) pooled; [`pooler` (E, E) + tanh, BERT's],
//                       dropout, `proj` (K, E) + bias.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "architectures/pooling.h"
#include "nn/feed_forward.h"
#include "nn/norm.h"

namespace sslx::arch {

struct LmHeadOptions {
  std::int64_t d_model = 0;     // E
  std::int64_t vocab_size = 0;  // V
  // Multiplies the hidden states first: T5 with tied embeddings uses E^-1/2.
  double input_scale = 1.0;
  // BERT's transform before the projection, and an output bias.
  bool transform = false;
  nn::Activation activation = nn::Activation::gelu;  // of the transform; not a gated one
  nn::NormOptions transform_norm;                    // d_model set by the head
};

class LmHeadImpl : public torch::nn::Module {
 public:
  // tied_to: the backbone's token embedding to share, or nullptr for an own projection.
  LmHeadImpl(const LmHeadOptions& options, torch::nn::Embedding tied_to);

  // hidden: (B, T, E) -> (B, T, V)
  at::Tensor forward(const at::Tensor& hidden);

  bool tied() const { return !tied_to_.is_empty(); }

  torch::nn::Linear proj{nullptr};       // null when tied
  torch::nn::Linear transform{nullptr};  // null without a transform
  torch::nn::AnyModule transform_norm;   // empty without a transform
  at::Tensor bias;                       // (V), undefined without a transform

 private:
  LmHeadOptions options_;
  torch::nn::Embedding tied_to_{nullptr};
};
TORCH_MODULE(LmHead);

class Architecture;
// The LM head a backbone's config asks for: tied to its token embedding when tie_embeddings
// (scaled by E^-1/2 with tied_head_scale), else with its own projection; BERT's transform and
// output bias with lm_head_transform.
LmHead lm_head_for(const Architecture& backbone);

struct ScalarHeadOptions {
  std::int64_t d_model = 0;  // E
  Pooling pooling = Pooling::last;
  bool per_position = false;  // one value per position (B, T) instead of a pooled (B)
};

class ScalarHeadImpl : public torch::nn::Module {
 public:
  explicit ScalarHeadImpl(const ScalarHeadOptions& options);

  // hidden: (B, T, E), key_valid: (B, T) bool or undefined -> (B), or (B, T) per position
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& key_valid = {});

  torch::nn::Linear proj{nullptr};

 private:
  ScalarHeadOptions options_;
};
TORCH_MODULE(ScalarHead);

struct ClassificationHeadOptions {
  std::int64_t d_model = 0;    // E
  std::int64_t n_classes = 0;  // K
  Pooling pooling = Pooling::first;
  bool pooler = false;  // BERT's dense + tanh layer before the classifier
  double dropout = 0.0;
};

class ClassificationHeadImpl : public torch::nn::Module {
 public:
  explicit ClassificationHeadImpl(const ClassificationHeadOptions& options);

  // hidden: (B, T, E), key_valid: (B, T) bool or undefined -> (B, K)
  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& key_valid = {});

  torch::nn::Linear pooler{nullptr};  // null unless options.pooler
  torch::nn::Linear proj{nullptr};

 private:
  ClassificationHeadOptions options_;
};
TORCH_MODULE(ClassificationHead);

}  // namespace sslx::arch
