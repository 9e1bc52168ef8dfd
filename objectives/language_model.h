// A backbone with an LM head: what CLM, MLM, prefix LM, span corruption and SFT train.
// Registered names: "backbone" (the architecture) and "lm_head".
#pragma once

#include <torch/nn/module.h>

#include <filesystem>
#include <memory>

#include "architectures/architecture.h"
#include "architectures/heads.h"
#include "config/node.h"
#include "train/objective.h"
#include "train/trainer_options.h"

namespace sslx::objectives {

class LanguageModelImpl : public torch::nn::Module {
 public:
  // Builds the backbone selected by the validated [model] section, for `vocab_size` tokens.
  LanguageModelImpl(const config::Node& model, std::int64_t vocab_size);

  // The backbone's output positions (B, T, E) (the decoder's for encoder_decoder), and their
  // logits (B, T, V).
  at::Tensor hidden_states(const arch::ArchitectureInputs& inputs);
  at::Tensor logits(const arch::ArchitectureInputs& inputs);

  std::shared_ptr<arch::Architecture> backbone;
  arch::LmHead lm_head{nullptr};
};
TORCH_MODULE(LanguageModel);

// `init_from` for fine-tuning objectives: loads `directory`/model.pt, the model of a checkpoint of
// a run that trained a LanguageModel (clm, mlm, ...), strictly into `model` (the same key set
// "backbone.*", "lm_head.*" with the same shapes, or an error naming the key that differs).
void load_pretrained(LanguageModelImpl& model, const std::filesystem::path& directory);

// Copies every parameter and buffer of `from` into `to` by name: both must have the same keys
// and shapes (two backbones built from the same [model] section).
void copy_state(const torch::nn::Module& from, torch::nn::Module& to);

// A policy and its frozen reference, for preference and policy optimisation: the policy built from
// `model` and loaded from `init_from` when it is not empty; the reference a copy of it as it
// starts, in eval mode and without gradients (the SFT model of InstructGPT, DPO, DeepSeekMath).
struct PolicyAndReference {
  LanguageModel policy{nullptr};
  LanguageModel reference{nullptr};
};
PolicyAndReference policy_and_reference(const config::Node& model, std::int64_t vocab_size,
                                        const std::string& init_from);

// Next-token loss terms from logits (B, T, V) and labels (B, T) with kIgnore: summed NLL,
// label count, and accuracy as (correct, count).
train::LossTerms next_token_loss(const at::Tensor& logits, const at::Tensor& labels);

// next_token_loss's terms from the backbone's output (B, T, E) through `model`'s LM head,
// computed as `options` (the trainer's token_loss) says.
train::LossTerms token_loss(LanguageModelImpl& model, const at::Tensor& hidden,
                            const at::Tensor& labels, const train::TokenLossOptions& options);

}  // namespace sslx::objectives
