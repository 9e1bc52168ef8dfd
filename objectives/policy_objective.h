// What the online policy-optimisation objectives (grpo, rloo, ppo) share: a decoder policy
// started from init_from (the SFT model) and a frozen copy of it as the reference, prompts from
// JSONL files, the rollout engine's options, a reward ([objective.reward]), and evaluation.
//
// Evaluation samples one response per validation prompt (streams fixed by the prompt's index,
// so every evaluation sees the same draws) and reports loss = -(reward - beta * KL), the
// KL-regularised objective, with the reward and the sequence KL (the sum of k1 over the
// response) as metrics, and the gold reward when [objective.gold_reward] names one. Subclasses
// implement train_step(); the policy runs without dropout there, so the rollout's log-probabilities
// are the old policy's exactly.
//
// Data-parallel, each rank samples its own share of the prompts (the sampler's shard) and the
// step follows train::DataParallelStep: losses normalised over every rank's rows and tokens,
// gradients summed. A response's random stream is named by its prompt's position in the epoch's
// permutation, so N ranks x trainer.batch_size b sample exactly the responses that one process
// with batch N * b samples.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/check.h"
#include "data/sampler.h"
#include "objectives/language_model.h"
#include "objectives/objective_registry.h"
#include "objectives/reward.h"
#include "rollout/rollout.h"
#include "train/data_parallel.h"
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

// Wall-clock seconds of the phases of one policy step, logged as time_generation (the rollout),
// time_scoring (reward, reference and value passes) and time_update (the gradient steps), so a
// user sees where a step's time goes (bench/run_policy_steps.sh reads them).
class PhaseClock {
 public:
  PhaseClock();
  // Charges the time since the previous lap (or the clock's start) to `phase`.
  void lap(const std::string& phase);
  // Adds time_<phase> for every phase to `report`.
  void report(train::StepReport& report) const;
  // The metric names of the phases: time_generation, time_scoring, time_update.
  static std::vector<std::string> metric_names();

 private:
  double last_;
  std::map<std::string, double> seconds_;
};

// A language model as the rollout engine calls it (it must outlive the function).
rollout::LogitsFunction logits_of(LanguageModelImpl& model);

class PolicyObjective : public train::Objective {
 public:
  // `beta` is the weight of the KL to the reference in the objective that evaluation reports.
  PolicyObjective(std::string name, const config::Node& options, const ObjectiveContext& context,
                  double beta);

  std::string name() const override { return name_; }
  torch::nn::Module& model() override { return *policy_; }
  train::Batch train_batch() override;
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override;
  train::LossTerms loss(const train::Batch& batch) override;
  void save_state(train::TrainerState& state) const override;
  void load_state(const train::TrainerState& state) override;
  bool overrides_step() const override { return true; }
  // Generation, rewards and the reference run on the CPU so far.
  bool trains_on_accelerators() const override { return false; }

  LanguageModelImpl& reference() { return *reference_; }
  std::map<std::string, std::string> take_evaluation_texts() override;

 protected:
  // Prompts to sample from: their indices and, for each, the name of its random streams.
  struct PromptDraw {
    std::vector<std::int64_t> indices;
    std::vector<std::string> streams;
  };
  // The rollout of `samples_per_prompt` responses to each prompt of `draw` (of `prompts`); the
  // response g to prompt i draws from stream draw.streams[i] + "/<g>" under `seed`.
  rollout::Rollout sample(const PromptSet& prompts, const PromptDraw& draw,
                          std::int64_t samples_per_prompt, std::uint64_t seed);
  // The next training batch's prompts (the sampler), streams named by the sampler's position
  // ("draw<epoch>.<position>/prompt<index>": the same for any number of ranks).
  PromptDraw next_prompts();
  // (B) rewards of a rollout whose row b answers prompts[rows_to_prompts[b]], after the
  // missing-EOS penalty.
  at::Tensor scores(const rollout::Rollout& rollout, const PromptSet& prompts,
                    const std::vector<std::int64_t>& rows_to_prompts);
  // Keeps the texts of the rows answering the first kEvaluationSamples validation prompts.
  void keep_samples(const rollout::Rollout& rollout, const PromptSet& prompts,
                    const std::vector<std::int64_t>& indices, const at::Tensor& rewards,
                    const at::Tensor& kl);
  static constexpr std::int64_t kEvaluationSamples = 4;
  // (B, N) log-probabilities of the response tokens under the frozen reference.
  at::Tensor reference_log_probs(const rollout::Rollout& rollout);
  rollout::LogitsFunction policy_logits();
  double temperature() const { return rollout_options_.sampling.temperature; }
  // Throws naming trainer.grad_accumulation unless it is 1: a step is one rollout batch.
  void require_single_micro_batch(const train::TrainerOptions& trainer) const;

  std::string name_;
  const data::Tokenizer& tokenizer_;
  std::int64_t batch_size_;
  std::int64_t sequence_length_;
  double beta_;
  double missing_eos_penalty_;
  double clip_grad_norm_;
  rollout::RolloutOptions rollout_options_;
  train::DataParallelStep parallel_;
  LanguageModel policy_{nullptr};
  LanguageModel reference_{nullptr};
  std::unique_ptr<Reward> reward_;
  std::unique_ptr<Reward> gold_reward_;                  // evaluation only; null unless configured
  std::map<std::string, std::string> evaluation_texts_;  // the first validation samples
  PromptSet train_, validation_;
  data::Sampler sampler_;
  RngStream rollout_rng_;
  std::uint64_t eval_seed_;
};

// The keys every policy objective has: prompts (prompt_format, train_files, validation_files,
// prompt_field, skip_malformed), init_from, max_new_tokens, temperature, missing_eos_penalty and
// reward. `max_new_tokens_doc` says what else max_new_tokens means to the objective.
void add_policy_fields(config::Schema& schema, const std::string& max_new_tokens_doc);

// The config check of a policy objective: a decoder policy, init_from, the prompt files, room
// for a prompt before max_new_tokens within trainer.sequence_length, no gradient accumulation. The
// rewards check their own options (objectives/reward.cpp).
config::Check policy_objective_check(const std::string& name);

train::Metric scalar_metric(double value);
double mean_of(const at::Tensor& x);

}  // namespace sslx::objectives
