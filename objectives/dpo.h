// Direct preference optimisation, offline from preference pairs: DPO (Rafailov et al. 2023) with
// optional label smoothing (conservative DPO), and IPO (Azar et al. 2023). The policy is a
// decoder LM started from init_from (the SFT model); the reference is a frozen copy of it.
//
// Data: the reward model's files and sequences ({"prompt","chosen","rejected"}; prompt tokens,
// response tokens, EOS; pairs longer than sequence_length dropped and counted). A response's
// log-probability is the sum over its tokens (EOS included) of log pi(token | everything before);
// IPO uses the mean over the response's tokens instead, as TRL does, so its 1 / (2 beta) target
// does not grow with length. Loss per pair (objectives/policy_losses.h), returned as (sum, pairs)
// through the trainer's standard step, so grad_accumulation and clip_grad_norm apply as usual.
//
// The reference log-probabilities are computed once per split, on first use, and kept in the
// checkpoints (objective.pt), so a resumed run uses exactly the numbers it started with.
// Metrics: accuracy = mean(implicit reward chosen > rejected), margin, and both rewards.
#pragma once

#include <vector>

#include "objectives/file_split_objective.h"
#include "objectives/language_model.h"
#include "objectives/policy_losses.h"
#include "objectives/reward_model.h"

namespace sslx::objectives {

class DpoObjective : public FileSplitObjective<PairSequences, PairCounts> {
 public:
  DpoObjective(const config::Node& options, const ObjectiveContext& context);

  std::string name() const override { return "dpo"; }
  std::vector<std::string> metric_names() const override {
    return {"accuracy", "margin", "chosen_reward", "rejected_reward"};
  }
  torch::nn::Module& model() override { return *policy_; }
  void to_device(const c10::Device& device) override;
  double training_flops_per_token() const override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;

  LanguageModelImpl& reference() { return *reference_; }
  // (pairs, 2): the reference's chosen and rejected log-probabilities of a split.
  const at::Tensor& reference_log_probs(bool validation);

 private:
  train::Batch batch_of(data::Split split, const std::vector<std::int64_t>& indices) override;
  // (2B) sequence log-probabilities of a preference batch's rows under `model`.
  at::Tensor sequence_log_probs(LanguageModelImpl& model, const train::Batch& batch) const;

  double beta_;
  double label_smoothing_;
  rl::PreferenceLoss kind_;
  data::TokenId pad_;
  LanguageModel policy_{nullptr};
  LanguageModel reference_{nullptr};
  c10::Device device_{c10::kCPU};  // where the models are (trainer.device)
  at::Tensor reference_train_, reference_validation_;
};

void register_dpo();

}  // namespace sslx::objectives
