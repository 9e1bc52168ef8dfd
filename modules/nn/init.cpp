#include "nn/init.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <cmath>
#include <string>

#include "nn/attention.h"
#include "nn/feed_forward.h"
#include "nn/layer_norm.h"
#include "nn/learned_positions.h"
#include "nn/relative_position_bias.h"
#include "nn/rms_norm.h"

namespace sslx::nn {
namespace {

constexpr double kStd = 0.02;  // GPT-2 and BERT

void draw_normal(const at::Tensor& weight, double std) {
  weight.normal_(0.0, std);
}

// A linear layer's weight N(0, std²) and its bias (if any) 0.
void linear(torch::nn::LinearImpl& layer, double std) {
  draw_normal(layer.weight, std);
  if (layer.bias.defined()) layer.bias.zero_();
}

// Any linear layer or embedding not inside one of the blocks below (e.g. a head).
void init_generic(torch::nn::Module& module, const InitOptions& options) {
  const bool t5 = options.scheme == InitScheme::t5;
  if (auto* layer = dynamic_cast<torch::nn::LinearImpl*>(&module)) {
    linear(*layer, t5 ? 1.0 / std::sqrt(double(layer->options.in_features())) : kStd);
  } else if (auto* embedding = dynamic_cast<torch::nn::EmbeddingImpl*>(&module)) {
    draw_normal(embedding->weight, t5 ? 1.0 : kStd);
  }
}

void init_attention(MultiHeadAttentionImpl& attention, const InitOptions& options) {
  const auto& o = attention.options();
  const double E = double(o.d_model), D = double(o.d_model / o.n_heads);
  if (options.scheme == InitScheme::t5) {
    linear(*attention.q_proj, 1.0 / std::sqrt(E * D));
    linear(*attention.k_proj, 1.0 / std::sqrt(double(o.d_memory)));
    linear(*attention.v_proj, 1.0 / std::sqrt(double(o.d_memory)));
    linear(*attention.out_proj, 1.0 / std::sqrt(double(o.n_heads) * D));
    return;
  }
  linear(*attention.q_proj, kStd);
  linear(*attention.k_proj, kStd);
  linear(*attention.v_proj, kStd);
  const bool scaled = options.scheme == InitScheme::gpt2;
  linear(*attention.out_proj, scaled ? kStd / std::sqrt(2.0 * double(options.n_layers)) : kStd);
}

void init_feed_forward(FeedForwardImpl& ff, const InitOptions& options) {
  const auto& o = ff.options();
  if (options.scheme == InitScheme::t5) {
    linear(*ff.in_proj, 1.0 / std::sqrt(double(o.d_model)));
    if (ff.gate_proj) linear(*ff.gate_proj, 1.0 / std::sqrt(double(o.d_model)));
    linear(*ff.out_proj, 1.0 / std::sqrt(double(o.d_hidden)));
    return;
  }
  linear(*ff.in_proj, kStd);
  if (ff.gate_proj) linear(*ff.gate_proj, kStd);
  const bool scaled = options.scheme == InitScheme::gpt2;
  linear(*ff.out_proj, scaled ? kStd / std::sqrt(2.0 * double(options.n_layers)) : kStd);
}

// The blocks whose parameters follow the scheme's own rules.
void init_specific(torch::nn::Module& module, const InitOptions& options) {
  if (auto* attention = dynamic_cast<MultiHeadAttentionImpl*>(&module)) {
    init_attention(*attention, options);
  } else if (auto* ff = dynamic_cast<FeedForwardImpl*>(&module)) {
    init_feed_forward(*ff, options);
  } else if (auto* norm = dynamic_cast<LayerNormImpl*>(&module)) {
    norm->weight.fill_(1.0);
    if (norm->bias.defined()) norm->bias.zero_();
  } else if (auto* rms = dynamic_cast<RmsNormImpl*>(&module)) {
    rms->weight.fill_(1.0);
  } else if (auto* positions = dynamic_cast<LearnedPositionsImpl*>(&module)) {
    draw_normal(positions->weight, kStd);
  } else if (auto* bias = dynamic_cast<RelativePositionBiasImpl*>(&module)) {
    const bool t5 = options.scheme == InitScheme::t5;
    draw_normal(bias->weight, t5 ? 1.0 / std::sqrt(double(options.d_model)) : kStd);
  }
}

}  // namespace

InitScheme init_scheme_from_name(std::string_view name) {
  if (name == "gpt2") return InitScheme::gpt2;
  if (name == "bert") return InitScheme::bert;
  if (name == "t5") return InitScheme::t5;
  TORCH_CHECK(false, "unknown init scheme \"", std::string(name), "\"; known: gpt2, bert, t5");
}

void initialize(torch::nn::Module& model, const InitOptions& options) {
  TORCH_CHECK(options.n_layers > 0, "initialize needs n_layers > 0, got ", options.n_layers);
  TORCH_CHECK(options.scheme != InitScheme::t5 || options.d_model > 0,
              "the t5 init scheme needs d_model > 0, got ", options.d_model);
  const at::NoGradGuard no_grad;
  // Two passes: the generic rule first, then the blocks override their own linear layers.
  init_generic(model, options);
  for (const auto& module : model.modules(/*include_self=*/false))
    init_generic(*module, options);
  init_specific(model, options);
  for (const auto& module : model.modules(/*include_self=*/false))
    init_specific(*module, options);
}

}  // namespace sslx::nn
