// PPO for language models as in InstructGPT (Ouyang et al. 2022) and "The N+ implementation
// details of RLHF with PPO" (TRL's PPO trainer): per step, one response to each of
// trainer.batch_size prompts from the policy (the rollout engine), then
//   - per-token rewards: -kl_coef * k1 on every response token (k1 = log pi - log ref, the KL
//     estimate whose policy gradient is that of KL(pi || ref)), plus the reward's score on the
//     last response token (its EOS, or its last token when it has none);
//   - values V(s_t) of the state before each response token, from a value model: `separate`
//     (its own backbone, initialised as the policy, and a scalar head) or `shared` (a scalar head
//     on the policy's own hidden states);
//   - GAE (gamma, lambda) for advantages and returns, advantages whitened over the batch;
//   - `epochs` passes over `minibatches` shuffled mini-batches: the clipped surrogate (token mean)
//     plus vf_coef times the clipped value loss, one AdamW step each.
// The KL coefficient is fixed, or adapted towards target_kl (Ziegler et al. 2019's controller:
// kl_coef *= 1 + clip(KL / target - 1, -0.2, 0.2) * batch_size / horizon).
//
// The value model is trained beside the policy but is not part of model(): model.pt stays a plain
// language model (evaluators, stages and export read it as such). Its parameters and its own
// AdamW state (lr as scheduled for the policy) go into the checkpoint's objective.pt, with the
// KL coefficient.
#pragma once

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "architectures/heads.h"
#include "objectives/policy_losses.h"
#include "objectives/policy_objective.h"

namespace sslx::objectives {

// The critic: values (B, T) of every position; with a backbone of its own or on given hidden
// states. Registered names: "backbone" (separate only) and "value_head".
class ValueModelImpl : public torch::nn::Module {
 public:
  ValueModelImpl(const config::Node& model, std::int64_t vocab_size, bool separate);

  // inputs -> (B, T), or hidden (B, T, E) of the policy -> (B, T) when shared.
  at::Tensor forward(const arch::ArchitectureInputs& inputs);
  at::Tensor values_of(const at::Tensor& hidden);

  std::shared_ptr<arch::Architecture> backbone;  // null when shared
  arch::ScalarHead value_head{nullptr};
};
TORCH_MODULE(ValueModel);

class PpoObjective : public PolicyObjective {
 public:
  PpoObjective(const config::Node& options, const ObjectiveContext& context);

  std::vector<std::string> metric_names() const override;
  double training_flops_per_token() const override;
  train::StepReport train_step(torch::optim::Optimizer& optimizer) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;

  double kl_coef() const { return kl_coef_; }

 private:
  // Policy logits (B, N, V) and values (B, N) at the positions that predict the response tokens.
  std::pair<at::Tensor, at::Tensor> forward(const rollout::Rollout& rollout);

  double gamma_;
  double lambda_;
  double clip_;
  double value_clip_;
  double vf_coef_;
  std::int64_t epochs_;
  std::int64_t minibatches_;
  bool whiten_;
  double kl_coef_;
  double target_kl_;
  double horizon_;
  ValueModel value_{nullptr};
  std::unique_ptr<torch::optim::AdamW> value_optimizer_;
  RngStream minibatch_rng_;
  bool value_synchronised_ = false;  // the critic broadcast from rank 0 (data-parallel)
};

void register_ppo();

}  // namespace sslx::objectives
