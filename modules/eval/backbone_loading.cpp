#include "eval/backbone_loading.h"

#include <ATen/ATen.h>
#include <torch/nn/module.h>

#include "architectures/architecture_registry.h"
#include "eval/builtin_evaluators.h"
#include "nn/state_io.h"
#include "train/checkpoint.h"
#include "train/trainer_options.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::eval {
namespace {

std::map<std::string, at::Tensor> backbone_tensors(const std::filesystem::path& checkpoint) {
  return nn::submodule_state(nn::load_state_dict(train::model_file(checkpoint)), "backbone");
}

}  // namespace

void set_threads(std::int64_t threads) {
  at::set_num_threads(static_cast<int>(train::resolve_threads(threads)));
}

std::optional<std::string> backbone_missing(const std::filesystem::path& checkpoint) {
  if (backbone_tensors(checkpoint).empty()) {
    return (checkpoint / "model.pt").string() + " holds no backbone.* tensors";
  }
  return std::nullopt;
}

std::optional<std::string> not_a_language_model(const std::filesystem::path& checkpoint) {
  for (const auto& [name, tensor] : nn::load_state_dict(train::model_file(checkpoint))) {
    if (!starts_with(name, "backbone.") && !starts_with(name, "lm_head."))
      return "model.pt is not a backbone with an LM head (it holds " + name + ")";
  }
  return std::nullopt;
}

std::shared_ptr<arch::Architecture> load_backbone(const config::Node& model,
                                                  std::int64_t vocab_size,
                                                  const std::filesystem::path& checkpoint) {
  std::shared_ptr<arch::Architecture> backbone(
      arch::architecture_registry().create(model, vocab_size).release());
  auto tensors = backbone_tensors(checkpoint);
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  const auto collect = [&](const std::string& name, const at::Tensor& target) {
    const auto it = tensors.find(name);
    TORCH_CHECK(it != tensors.end(), (checkpoint / "model.pt").string(), " has no \"backbone.",
                name, "\" for the job's [model]");
    TORCH_CHECK(it->second.sizes() == target.sizes(), "\"backbone.", name, "\" is ",
                it->second.sizes(), " in ", (checkpoint / "model.pt").string(), " but ",
                target.sizes(), " in the job's [model]");
    copies.emplace_back(target, it->second);
  };
  for (const auto& item : backbone->named_parameters())
    collect(item.key(), item.value());
  for (const auto& item : backbone->named_buffers())
    collect(item.key(), item.value());
  TORCH_CHECK(copies.size() == tensors.size(), (checkpoint / "model.pt").string(), " has ",
              tensors.size(), " backbone tensors, the job's [model] ", copies.size());
  {
    const at::NoGradGuard no_grad;
    for (auto& [target, value] : copies)
      target.copy_(value);
  }
  backbone->eval();
  return backbone;
}

PaddedBatch pad_batch(const std::vector<std::vector<data::TokenId>>& tokens,
                      const std::vector<std::int64_t>& indices) {
  const auto B = static_cast<std::int64_t>(indices.size());
  std::int64_t T = 1;
  for (const auto i : indices)
    T = std::max<std::int64_t>(T, static_cast<std::int64_t>(tokens[i].size()));
  std::vector<std::int64_t> ids(B * T, 0);
  std::vector<std::uint8_t> valid(B * T, 0);
  for (std::int64_t b = 0; b < B; ++b) {
    const auto& example = tokens[indices[b]];
    for (std::size_t t = 0; t < example.size(); ++t) {
      ids[b * T + t] = example[t];
      valid[b * T + t] = 1;
    }
  }
  return {.token_ids = at::tensor(ids, at::kLong).reshape({B, T}),
          .key_valid = at::tensor(valid, at::kByte).reshape({B, T}).to(at::kBool)};
}

at::Tensor hidden_states(arch::Architecture& backbone, const PaddedBatch& batch) {
  if (backbone.kind() == arch::ArchitectureKind::encoder_decoder) {
    const auto B = batch.token_ids.size(0);
    return backbone
        .forward({.token_ids = batch.token_ids,
                  .key_valid = batch.key_valid,
                  .decoder_token_ids = at::zeros({B, 1}, at::kLong)})
        .encoder_states;
  }
  return backbone.forward({.token_ids = batch.token_ids, .key_valid = batch.key_valid})
      .hidden_states;
}

at::Tensor pooled_features(arch::Architecture& backbone,
                           const std::vector<std::vector<data::TokenId>>& tokens,
                           arch::Pooling pooling, std::int64_t batch_size) {
  const at::NoGradGuard no_grad;
  std::vector<at::Tensor> features;
  const auto N = static_cast<std::int64_t>(tokens.size());
  for (std::int64_t start = 0; start < N; start += batch_size) {
    std::vector<std::int64_t> indices;
    for (std::int64_t i = start; i < std::min(N, start + batch_size); ++i)
      indices.push_back(i);
    const PaddedBatch batch = pad_batch(tokens, indices);
    features.push_back(arch::pool(hidden_states(backbone, batch), batch.key_valid, pooling));
  }
  return at::cat(features, 0);  // (N, E)
}

}  // namespace sslx::eval
