// A backbone with an LM head: what CLM, MLM, prefix LM, span corruption and SFT train.
// Registered names: "backbone" (the architecture) and "lm_head".
#pragma once

#include <torch/nn/module.h>

#include <memory>

#include "architectures/architecture.h"
#include "architectures/heads.h"
#include "config/node.h"

namespace sslx::objectives {

class LanguageModelImpl : public torch::nn::Module {
 public:
  // Builds the backbone selected by the validated [model] section, for `vocab_size` tokens.
  LanguageModelImpl(const config::Node& model, std::int64_t vocab_size);

  // logits (B, T, V) of the backbone's output positions (the decoder's for encoder_decoder).
  at::Tensor logits(const arch::ArchitectureInputs& inputs);

  std::shared_ptr<arch::Architecture> backbone;
  arch::LmHead lm_head{nullptr};
};
TORCH_MODULE(LanguageModel);

}  // namespace sslx::objectives
