#include "objectives/group_policy.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {

GroupPolicyObjective::GroupPolicyObjective(std::string name, GroupBaseline baseline,
                                           const config::Node& options,
                                           const ObjectiveContext& context)
    : PolicyObjective(std::move(name), options, context, options.get_float("beta")),
      baseline_(baseline),
      group_size_(options.get_int("group_size")),
      clip_(options.get_float("clip")),
      epochs_(options.get_int("epochs")),
      scale_by_std_(baseline == GroupBaseline::group_mean && options.get_bool("scale_by_std")),
      normalisation_(rl::loss_normalisation_from(options.get_string("loss_normalisation"))) {}

std::vector<std::string> GroupPolicyObjective::metric_names() const {
  std::vector<std::string> names{
      "reward",          "reward_std",    "kl_k1",          "kl_k3",          "kl_sequence",
      "entropy",         "clip_fraction", "approx_kl",      "advantage_mean", "advantage_std",
      "response_length", "eos_fraction",  "constant_groups"};
  for (const auto& name : PhaseClock::metric_names())
    names.push_back(name);
  return names;
}

double GroupPolicyObjective::training_flops_per_token() const {
  // Per response token, roughly: a policy step (3 passes), the rollout's forward pass and the
  // reference's (beta > 0).
  const double forward = policy_->backbone->forward_flops_per_token(sequence_length_);
  return forward * (3.0 * static_cast<double>(epochs_) + 1.0 + (beta_ > 0 ? 1.0 : 0.0));
}

train::StepReport GroupPolicyObjective::train_step(torch::optim::Optimizer& optimizer) {
  policy_->eval();  // no dropout: the rollout's log-probabilities are the old policy's exactly
  PhaseClock clock;
  const PromptDraw draw = next_prompts();
  std::vector<std::int64_t> rows_to_prompts;
  for (const std::int64_t index : draw.indices)
    for (std::int64_t g = 0; g < group_size_; ++g)
      rows_to_prompts.push_back(index);
  const rollout::Rollout rollout = sample(train_, draw, group_size_, rollout_rng_.next());
  clock.lap("generation");
  const at::Tensor& mask = rollout.response_mask;
  const at::Tensor rewards = scores(rollout, train_, rows_to_prompts);
  const at::Tensor valid = rollout.lengths > 0;
  const at::Tensor reference = beta_ > 0 ? reference_log_probs(rollout) : at::Tensor();
  // The sequence KL (sum of k1 over the response) of the sampling policy, as RLOO shapes its
  // reward with it; GRPO puts beta * k3 into the loss instead.
  const at::Tensor sequence_kl = beta_ > 0 ? (rl::kl_k1(rollout.log_probs, reference) * mask).sum(1)
                                           : torch::zeros({rollout.batch()});
  // A group's rows are all on one rank: advantages need no other rank's rewards.
  const at::Tensor advantages =
      baseline_ == GroupBaseline::group_mean
          ? rl::group_advantages(rewards, valid, group_size_, scale_by_std_)
          : rl::leave_one_out_advantages(rewards - beta_ * sequence_kl, valid, group_size_);
  const bool kl_in_loss = beta_ > 0 && baseline_ == GroupBaseline::group_mean;
  const std::int64_t L = rollout_options_.max_new_tokens;
  // What the loss is divided by: the count of the whole (data-parallel) batch.
  const double own_count = rl::reduce_tokens_count(mask, normalisation_, L);
  const double count = parallel_.global_counts({own_count})[0];
  clock.lap("scoring");

  train::StepReport report;
  const std::int64_t constant = rl::constant_groups(rewards, valid, group_size_);
  const double max_norm =
      clip_grad_norm_ > 0 ? clip_grad_norm_ : std::numeric_limits<double>::infinity();
  const std::vector<at::Tensor> parameters = train::distinct_parameters(*policy_);
  const double tokens = mask.sum().item<double>();
  const auto rows = static_cast<double>(rollout.batch());
  for (std::int64_t epoch = 0; epoch < epochs_; ++epoch) {
    optimizer.zero_grad();
    const at::Tensor logits = rollout::response_logits(policy_logits(), rollout);
    const double temperature = this->temperature();
    const at::Tensor log_p = rollout::token_log_probs(logits, rollout.responses, temperature);
    at::Tensor per_token =
        rl::clipped_surrogate(log_p, rollout.log_probs, advantages.unsqueeze(1), clip_);
    at::Tensor k1, k3;
    if (beta_ > 0) {
      k1 = rl::kl_k1(log_p.detach(), reference);
      k3 = rl::kl_k3(log_p, reference);
      if (kl_in_loss) per_token = per_token + beta_ * k3;
    }
    const at::Tensor loss = rl::reduce_tokens_numerator(per_token, mask, normalisation_) / count;
    loss.backward();
    parallel_.sum_gradients(parameters);
    const double grad_norm = torch::nn::utils::clip_grad_norm_(parameters, max_norm);
    const double loss_value = parallel_.sum({loss.item<double>()})[0];  // the whole batch's
    if (!std::isfinite(loss_value) || !std::isfinite(grad_norm)) {
      optimizer.zero_grad();
      report.skipped = true;
      return report;
    }
    optimizer.step();
    const torch::NoGradGuard no_grad;
    const at::Tensor log_ratio = log_p.detach() - rollout.log_probs;
    report.loss += loss_value / static_cast<double>(epochs_);
    report.grad_norm += grad_norm / static_cast<double>(epochs_);
    report.metrics["clip_fraction"].add(
        {rl::masked_sum(rl::clipped_tokens(log_p.detach(), rollout.log_probs, clip_), mask)
             .item<double>(),
         tokens});
    report.metrics["approx_kl"].add(
        {rl::masked_sum(0.5 * log_ratio.pow(2), mask).item<double>(), tokens});
    if (epoch == 0) {
      // Sums and counts of the rank's rows: the trainer adds every rank's.
      report.metrics["entropy"] = {
          rl::masked_sum(rollout::token_entropy(logits.detach(), temperature), mask).item<double>(),
          tokens};
      // The KL as the loss sees it (same reduction), and per sequence (the sum over its tokens).
      const at::Tensor kl1 = beta_ > 0 ? k1 : at::zeros_like(log_ratio);
      const at::Tensor kl3 = beta_ > 0 ? k3.detach() : at::zeros_like(log_ratio);
      const double denominator = std::max(own_count, 1.0);
      report.metrics["kl_k1"] = {
          rl::reduce_tokens_numerator(kl1, mask, normalisation_).item<double>(), denominator};
      report.metrics["kl_k3"] = {
          rl::reduce_tokens_numerator(kl3, mask, normalisation_).item<double>(), denominator};
      report.metrics["kl_sequence"] = {sequence_kl.to(at::kDouble).sum().item<double>(), rows};
    }
  }
  const auto sum_of = [](const at::Tensor& x) { return x.to(at::kDouble).sum().item<double>(); };
  report.metrics["reward"] = {sum_of(rewards), rows};
  // Standard deviations: each rank's, averaged over the ranks.
  report.metrics["reward_std"] = scalar_metric(rewards.to(at::kDouble).std().item<double>());
  report.metrics["advantage_mean"] = {sum_of(advantages), rows};
  report.metrics["advantage_std"] = scalar_metric(advantages.to(at::kDouble).std().item<double>());
  report.metrics["response_length"] = {sum_of(rollout.lengths), rows};
  report.metrics["eos_fraction"] = {sum_of(rollout.ended_with_eos), rows};
  report.metrics["constant_groups"] = {static_cast<double>(constant),
                                       static_cast<double>(batch_size_)};
  report.n_targets = mask.sum().item<std::int64_t>();
  report.n_tokens = rollout.valid.sum().item<std::int64_t>();
  clock.lap("update");
  clock.report(report);
  return report;
}

namespace {

config::Schema group_policy_schema(bool grpo) {
  config::Schema schema;
  add_policy_fields(schema, grpo ? "; also Dr. GRPO's constant length" : "");
  schema.add({.key = "group_size",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "responses sampled per prompt (G)",
              .min = 2});
  schema.add({.key = "beta",
              .type = config::Type::kFloat,
              .default_value = grpo ? 0.04 : 0.05,
              .doc = grpo
                         ? "coefficient of the k3 KL to the reference in the loss (0: no reference)"
                         : "coefficient of the sequence KL (sum of k1) subtracted from the reward",
              .min = 0.0});
  schema.add({.key = "clip",
              .type = config::Type::kFloat,
              .default_value = 0.2,
              .doc = "ratio clipping epsilon of the surrogate",
              .min = 0.0});
  schema.add({.key = "epochs",
              .type = config::Type::kInt,
              .default_value = 1,
              .doc = "optimisation passes over each rollout batch (GRPO's mu)",
              .min = 1});
  if (grpo) {
    schema.add({.key = "scale_by_std",
                .type = config::Type::kBool,
                .default_value = true,
                .doc = "divide advantages by the group's std (false: Dr. GRPO)"});
  }
  schema.add({.key = "loss_normalisation",
              .type = config::Type::kString,
              .default_value = grpo ? "sequence_mean" : "token_mean",
              .doc = "sequence_mean (GRPO), token_mean (DAPO) or constant_length (Dr. GRPO)",
              .choices = {"sequence_mean", "token_mean", "constant_length"}});
  return schema;
}

}  // namespace

void register_group_policy_objectives() {
  register_builtin_rewards();
  objective_registry().add(
      "grpo", "GRPO: group-normalised advantages, clipped ratio, k3 KL to the reference",
      group_policy_schema(true),
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<GroupPolicyObjective>("grpo", GroupBaseline::group_mean, options,
                                                      context);
      },
      policy_objective_check("grpo"));
  objective_registry().add(
      "rloo", "RLOO: leave-one-out baseline over each prompt's samples, clipped ratio, k3 KL",
      group_policy_schema(false),
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<GroupPolicyObjective>("rloo", GroupBaseline::leave_one_out, options,
                                                      context);
      },
      policy_objective_check("rloo"));
}

}  // namespace sslx::objectives
