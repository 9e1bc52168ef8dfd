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
//
// The policy runs without dropout during the step, so the first pass's ratio is exactly 1.
// Evaluation samples one response per validation prompt (streams fixed by the prompt's index)
// and reports loss = -(reward - beta * KL), the KL-regularised objective, with the reward and
// the sequence KL (sum of k1 over the response) as metrics.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/sampler.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"
#include "objectives/policy_losses.h"
#include "objectives/reward.h"
#include "rollout/rollout.h"
#include "util/rng.h"

namespace sslx::objectives {

// Prompts of an RL objective: their texts and token ids (an empty prompt becomes EOS, the start
// of every document). Prompts longer than `max_length` tokens are dropped and counted.
struct PromptSet {
  std::vector<std::string> texts;
  std::vector<std::vector<data::TokenId>> ids;
  std::int64_t dropped = 0;
};
// `files_key` of `options`: JSONL files in `prompt_format` (prompt_completion or preferences),
// reading their prompt field.
PromptSet read_prompts(const config::Node& options, const std::string& files_key,
                       const data::Tokenizer& tokenizer, std::int64_t max_length);

enum class GroupBaseline { group_mean, leave_one_out };

class GroupPolicyObjective : public train::Objective {
 public:
  GroupPolicyObjective(std::string name, GroupBaseline baseline, const config::Node& options,
                       const ObjectiveContext& context);

  std::string name() const override { return name_; }
  std::vector<std::string> metric_names() const override;
  torch::nn::Module& model() override { return *policy_; }
  double training_flops_per_token() const override;
  train::Batch train_batch() override;
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;
  bool overrides_step() const override { return true; }
  train::StepReport train_step(torch::optim::Optimizer& optimizer) override;

  LanguageModelImpl& reference() { return *reference_; }

 private:
  rollout::Rollout sample(const PromptSet& prompts, const std::vector<std::int64_t>& indices,
                          std::int64_t samples_per_prompt, std::uint64_t seed,
                          const std::string& stream_prefix);
  at::Tensor scores(const rollout::Rollout& rollout, const PromptSet& prompts,
                    const std::vector<std::int64_t>& rows_to_prompts);
  at::Tensor reference_log_probs(const rollout::Rollout& rollout);

  std::string name_;
  GroupBaseline baseline_;
  const data::Tokenizer& tokenizer_;
  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  std::int64_t group_size_;
  double beta_;
  double clip_;
  std::int64_t epochs_;
  bool scale_by_std_;
  double missing_eos_penalty_;
  double clip_grad_norm_;
  rl::LossNormalisation normalisation_;
  rollout::RolloutOptions rollout_options_;
  LanguageModel policy_{nullptr};
  LanguageModel reference_{nullptr};
  std::unique_ptr<Reward> reward_;
  PromptSet train_, validation_;
  data::Sampler sampler_;
  RngStream rollout_rng_;
  std::uint64_t eval_seed_;
};

void register_group_policy_objectives();

}  // namespace sslx::objectives
