#include "objectives/language_model.h"

#include "architectures/architecture_registry.h"

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

}  // namespace sslx::objectives
