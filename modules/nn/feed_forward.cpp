#include "nn/feed_forward.h"

#include <ATen/ATen.h>

#include <string>

#include "nn/activation.h"

namespace sslx::nn {

bool is_gated(Activation activation) {
  return activation == Activation::swiglu || activation == Activation::geglu;
}

Activation activation_from_name(std::string_view name) {
  if (name == "gelu") return Activation::gelu;
  if (name == "gelu_tanh") return Activation::gelu_tanh;
  if (name == "relu") return Activation::relu;
  if (name == "swiglu") return Activation::swiglu;
  if (name == "geglu") return Activation::geglu;
  TORCH_CHECK(false, "unknown activation \"", std::string(name),
              "\"; known: gelu, gelu_tanh, relu, swiglu, geglu");
}

at::Tensor activate(Activation activation, const at::Tensor& x) {
  switch (activation) {
    case Activation::gelu:
      return at::gelu(x);
    case Activation::gelu_tanh:
      return at::gelu(x, "tanh");
    case Activation::relu:
      return at::relu(x);
    case Activation::swiglu:
    case Activation::geglu:
      break;
  }
  TORCH_CHECK(false,
              "a gated activation needs a gate projection: activate() takes gelu, "
              "gelu_tanh or relu");
}

FeedForwardImpl::FeedForwardImpl(const FeedForwardOptions& options) : options_(options) {
  TORCH_CHECK(options.d_model > 0 && options.d_hidden > 0,
              "feed-forward needs d_model > 0 and d_hidden > 0, got d_model = ", options.d_model,
              " and d_hidden = ", options.d_hidden);
  const auto linear = [&](std::int64_t in, std::int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(options.bias));
  };
  in_proj = register_module("in_proj", linear(options.d_model, options.d_hidden));
  if (is_gated(options.activation)) {
    gate_proj = register_module("gate_proj", linear(options.d_model, options.d_hidden));
  }
  out_proj = register_module("out_proj", linear(options.d_hidden, options.d_model));
}

at::Tensor FeedForwardImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) == options_.d_model,
              "feed-forward input must be (..., E = ", options_.d_model, "), got ", x.sizes());
  const at::Tensor h = in_proj->forward(x);  // (..., F)
  switch (options_.activation) {
    case Activation::swiglu:
      return out_proj->forward(at::silu(gate_proj->forward(x)) * h);
    case Activation::geglu:
      return out_proj->forward(at::gelu(gate_proj->forward(x)) * h);
    default:
      return out_proj->forward(activate(options_.activation, h));
  }
}

}  // namespace sslx::nn
