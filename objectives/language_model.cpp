#include "objectives/language_model.h"

#include <torch/torch.h>

#include "architectures/architecture_registry.h"
#include "nn/state_io.h"
#include "util/error.h"

namespace sslx::objectives {

LanguageModelImpl::LanguageModelImpl(const config::Node& model, std::int64_t vocab_size) {
  backbone = register_module(
      "backbone", std::shared_ptr<arch::Architecture>(
                      arch::architecture_registry().create(model, vocab_size).release()));
  lm_head = register_module("lm_head", arch::lm_head_for(*backbone));
}

at::Tensor LanguageModelImpl::logits(const arch::ArchitectureInputs& inputs) {
  return lm_head(backbone->forward(inputs).hidden_states);
}

void load_pretrained(LanguageModelImpl& model, const std::filesystem::path& directory) {
  const auto file = directory / "model.pt";
  if (!std::filesystem::is_regular_file(file)) {
    throw Error(
        "init_from: " + file.string() + " does not exist",
        "give a checkpoint directory of a pretraining run (<run>/checkpoints/step-NNNNNNNN)");
  }
  nn::load_state(model, file);
}

void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  std::map<std::string, at::Tensor> source;
  for (const auto& item : from.named_parameters())
    source.emplace(item.key(), item.value());
  for (const auto& item : from.named_buffers())
    source.emplace(item.key(), item.value());
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  std::size_t count = 0;
  const auto collect = [&](const std::string& name, const at::Tensor& target) {
    const auto it = source.find(name);
    TORCH_CHECK(it != source.end(), "copy_state: the source has no \"", name, "\"");
    TORCH_CHECK(it->second.sizes() == target.sizes(), "copy_state: \"", name, "\" is ",
                it->second.sizes(), " in the source and ", target.sizes(), " in the target");
    copies.emplace_back(target, it->second);
    ++count;
  };
  for (const auto& item : to.named_parameters())
    collect(item.key(), item.value());
  for (const auto& item : to.named_buffers())
    collect(item.key(), item.value());
  TORCH_CHECK(count == source.size(), "copy_state: the source has ", source.size(),
              " tensors and the target ", count);
  const at::NoGradGuard no_grad;
  for (auto& [target, value] : copies)
    target.copy_(value);
}

}  // namespace sslx::objectives
