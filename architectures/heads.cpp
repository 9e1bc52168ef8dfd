#include "architectures/heads.h"

#include <ATen/ATen.h>

#include <cmath>

#include "architectures/architecture.h"
#include "nn/activation.h"

namespace sslx::arch {
namespace {

// Heads start as BERT and GPT-2 do: weights N(0, 0.02²), biases 0.
torch::nn::Linear linear(std::int64_t in, std::int64_t out, bool bias) {
  torch::nn::Linear layer(torch::nn::LinearOptions(in, out).bias(bias));
  const at::NoGradGuard no_grad;
  layer->weight.normal_(0.0, 0.02);
  if (bias) layer->bias.zero_();
  return layer;
}

void check_hidden(const at::Tensor& hidden, std::int64_t E) {
  TORCH_CHECK(hidden.dim() == 3 && hidden.size(2) == E, "hidden states must be (B, T, E = ", E,
              "), got ", hidden.sizes());
}

}  // namespace

LmHeadImpl::LmHeadImpl(const LmHeadOptions& options, torch::nn::Embedding tied_to)
    : options_(options), tied_to_(std::move(tied_to)) {
  TORCH_CHECK(options.d_model > 0 && options.vocab_size > 0,
              "an LM head needs d_model > 0 and vocab_size > 0, got ", options.d_model, " and ",
              options.vocab_size);
  if (tied()) {
    const auto& weight = tied_to_->weight;
    TORCH_CHECK(weight.size(0) == options.vocab_size && weight.size(1) == options.d_model,
                "the tied embedding is ", weight.sizes(),
                ", the head needs (V = ", options.vocab_size, ", E = ", options.d_model, ")");
  } else {
    proj = register_module("proj", linear(options.d_model, options.vocab_size, false));
  }
  if (options.transform) {
    TORCH_CHECK(!nn::is_gated(options.activation),
                "an LM head transform needs a plain activation (gelu, gelu_tanh, relu)");
    transform = register_module("transform", linear(options.d_model, options.d_model, true));
    nn::NormOptions norm = options.transform_norm;
    norm.d_model = options.d_model;
    transform_norm = nn::make_norm(norm);
    register_module("transform_norm", transform_norm.ptr());
    bias = register_parameter("bias", at::zeros({options.vocab_size}));
  }
}

at::Tensor LmHeadImpl::forward(const at::Tensor& hidden) {
  check_hidden(hidden, options_.d_model);
  at::Tensor x = options_.input_scale == 1.0 ? hidden : hidden * options_.input_scale;
  if (transform)
    x = transform_norm.forward(nn::activate(options_.activation, transform->forward(x)));
  at::Tensor logits = tied() ? at::matmul(x, tied_to_->weight.t()) : proj->forward(x);
  return bias.defined() ? logits + bias : logits;
}

LmHead lm_head_for(const Architecture& backbone) {
  const ArchitectureOptions& o = backbone.options();
  const LmHeadOptions options{
      .d_model = o.d_model,
      .vocab_size = o.vocab_size,
      .input_scale =
          o.tie_embeddings && o.tied_head_scale ? 1.0 / std::sqrt(double(o.d_model)) : 1.0,
      .transform = o.lm_head_transform,
      .activation = o.activation,
      .transform_norm = {.kind = o.norm, .eps = o.norm_eps, .bias = o.bias}};
  return LmHead(options, o.tie_embeddings ? backbone.token_embedding() : nullptr);
}

ScalarHeadImpl::ScalarHeadImpl(const ScalarHeadOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0, "a scalar head needs d_model > 0, got ", options.d_model);
  proj = register_module("proj", linear(options.d_model, 1, true));
}

at::Tensor ScalarHeadImpl::forward(const at::Tensor& hidden, const at::Tensor& key_valid) {
  check_hidden(hidden, options_.d_model);
  if (options_.per_position) return proj->forward(hidden).squeeze(-1);  // (B, T)
  return proj->forward(pool(hidden, key_valid, options_.pooling)).squeeze(-1);
}

ClassificationHeadImpl::ClassificationHeadImpl(const ClassificationHeadOptions& options)
    : options_(options) {
  TORCH_CHECK(options.d_model > 0 && options.n_classes > 0,
              "a classification head needs d_model > 0 and n_classes > 0, got ", options.d_model,
              " and ", options.n_classes);
  if (options.pooler)
    pooler = register_module("pooler", linear(options.d_model, options.d_model, true));
  proj = register_module("proj", linear(options.d_model, options.n_classes, true));
}

at::Tensor ClassificationHeadImpl::forward(const at::Tensor& hidden, const at::Tensor& key_valid) {
  check_hidden(hidden, options_.d_model);
  at::Tensor x = pool(hidden, key_valid, options_.pooling);  // (B, E)
  if (pooler) x = at::tanh(pooler->forward(x));
  if (options_.dropout > 0.0) x = at::dropout(x, options_.dropout, is_training());
  return proj->forward(x);
}

}  // namespace sslx::arch
