// Group-relative policy optimisation: GRPO (DeepSeekMath, Shao et al. 2024) and RLOO (Ahmadian
// et al. 2024), one objective with two baselines. Each step samples `group_size` responses to
// each of trainer.batch_size prompts from the policy (the rollout engine), scores them with the
// reward, and turns each score into an advantage relative to its group:
//   grpo: (r - mean_group) / (std_group + 1e-4), or r - mean_group with scale_by_std = false;
//         the loss adds beta times the per-token k3 estimate of KL(policy || reference);
//   rloo: r' - mean of the other responses' r' (leave-one-out), where r' = r - beta * KL_seq
//         and KL_seq is the response's summed k1 (the KL-shaped reward of the RLOO paper / TRL).
// The two differ in what they converge to: RLOO's gradient is exactly that of
// E[r] - beta KL(pi || ref), whose optimum is pi* ∝ ref exp(r / beta); differentiating k3 through
// log pi only (GRPO) gives the gradient of the reverse KL(ref || pi), and the group mean that
// includes the row itself scales the reward's gradient by (1 - 1/G) (docs/alignment.md).
// The loss per response token is PPO's clipped surrogate with the sequence's advantage (the
// reference is the frozen init_from model; beta = 0 skips the reference pass), reduced by
// `loss_normalisation`: sequence_mean (GRPO as published), token_mean (DAPO), constant_length
// (Dr. GRPO).
// `epochs` passes over each rollout batch; the old log-probabilities are the rollout's own.
// Prompts, reference, reward and evaluation: PolicyObjective (policy_objective.h).
#pragma once

#include <string>
#include <vector>

#include "objectives/policy_losses.h"
#include "objectives/policy_objective.h"

namespace sslx::objectives {

enum class GroupBaseline { group_mean, leave_one_out };

class GroupPolicyObjective : public PolicyObjective {
 public:
  GroupPolicyObjective(std::string name, GroupBaseline baseline, const config::Node& options,
                       const ObjectiveContext& context);

  std::vector<std::string> metric_names() const override;
  double training_flops_per_token() const override;
  train::StepReport train_step(torch::optim::Optimizer& optimizer) override;

 private:
  GroupBaseline baseline_;
  std::int64_t group_size_;
  double clip_;
  std::int64_t epochs_;
  bool scale_by_std_;
  rl::LossNormalisation normalisation_;
};

void register_group_policy_objectives();

}  // namespace sslx::objectives
