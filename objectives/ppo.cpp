#include "objectives/ppo.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "architectures/architecture_registry.h"
#include "util/error.h"

namespace sslx::objectives {

ValueModelImpl::ValueModelImpl(const config::Node& model, std::int64_t vocab_size, bool separate) {
  std::int64_t d_model = model.get_int("d_model");
  if (separate) {
    backbone = register_module(
        "backbone", std::shared_ptr<arch::Architecture>(
                        arch::architecture_registry().create(model, vocab_size).release()));
    d_model = backbone->options().d_model;
  }
  value_head = register_module("value_head", arch::ScalarHead(arch::ScalarHeadOptions{
                                                 .d_model = d_model, .per_position = true}));
}

at::Tensor ValueModelImpl::forward(const arch::ArchitectureInputs& inputs) {
  TORCH_CHECK(backbone != nullptr, "a shared value head reads the policy's hidden states");
  return values_of(backbone->forward(inputs).hidden_states);
}

at::Tensor ValueModelImpl::values_of(const at::Tensor& hidden) {
  return value_head(hidden);
}

namespace {

// An optimizer's state as bytes in a tensor (objective.pt holds tensors only).
at::Tensor optimizer_bytes(torch::optim::Optimizer& optimizer) {
  torch::serialize::OutputArchive archive;
  optimizer.save(archive);
  std::ostringstream out;
  archive.save_to(out);
  const std::string bytes = out.str();
  return torch::from_blob(const_cast<char*>(bytes.data()),
                          {static_cast<std::int64_t>(bytes.size())}, torch::kUInt8)
      .clone();
}

void load_optimizer_bytes(torch::optim::Optimizer& optimizer, const at::Tensor& bytes) {
  const at::Tensor data = bytes.contiguous();
  std::istringstream in(std::string(reinterpret_cast<const char*>(data.data_ptr<std::uint8_t>()),
                                    static_cast<std::size_t>(data.numel())));
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  optimizer.load(archive);
}

}  // namespace

PpoObjective::PpoObjective(const config::Node& options, const ObjectiveContext& context)
    : PolicyObjective("ppo", options, context, options.get_float("kl_coef")),
      gamma_(options.get_float("gamma")),
      lambda_(options.get_float("lambda")),
      clip_(options.get_float("clip")),
      value_clip_(options.get_float("value_clip")),
      vf_coef_(options.get_float("vf_coef")),
      epochs_(options.get_int("epochs")),
      minibatches_(options.get_int("minibatches")),
      whiten_(options.get_bool("whiten_advantages")),
      kl_coef_(options.get_float("kl_coef")),
      target_kl_(options.get_float("target_kl")),
      horizon_(options.get_float("kl_horizon")),
      minibatch_rng_(context.seed, "ppo/minibatches") {
  if (batch_size_ % minibatches_ != 0) {
    throw Error("ppo: trainer.batch_size = " + std::to_string(batch_size_) +
                    " is not a multiple of objective.minibatches = " + std::to_string(minibatches_),
                "choose minibatches dividing the batch");
  }
  const bool separate = options.get_string("value_model") == "separate";
  value_ = ValueModel(context.model, context.tokenizer.vocab_size(), separate);
  // The critic starts from the policy's trunk (InstructGPT starts it from the reward model; the
  // policy's is what is at hand for every reward, programmatic ones included).
  if (separate) copy_state(*policy_->backbone, *value_->backbone);
  value_optimizer_ = std::make_unique<torch::optim::AdamW>(
      value_->parameters(), torch::optim::AdamWOptions(1e-3).weight_decay(0.0));
}

std::vector<std::string> PpoObjective::metric_names() const {
  std::vector<std::string> names{
      "reward",         "kl_sequence",   "kl_k1",       "kl_k3",           "kl_coef",
      "entropy",        "clip_fraction", "approx_kl",   "policy_loss",     "value_loss",
      "advantage_mean", "advantage_std", "return_mean", "response_length", "eos_fraction"};
  for (const auto& name : PhaseClock::metric_names())
    names.push_back(name);
  return names;
}

double PpoObjective::training_flops_per_token() const {
  // Per response token, roughly: epochs of policy and value steps (3 passes each), the rollout's,
  // the reference's and the value model's forward passes.
  const double forward = policy_->backbone->forward_flops_per_token(sequence_length_);
  const double value = value_->backbone ? forward : 0.0;
  return (forward + value) * (3.0 * static_cast<double>(epochs_) + 1.0) + forward * 2.0;
}

std::pair<at::Tensor, at::Tensor> PpoObjective::forward(const rollout::Rollout& rollout) {
  const std::int64_t P = rollout.prompt_width, L = rollout.sequences.size(1);
  const arch::ArchitectureInputs inputs{.token_ids = rollout.sequences,
                                        .key_valid = rollout.valid,
                                        .position_ids = rollout.position_ids};
  const at::Tensor hidden = policy_->backbone->forward(inputs).hidden_states;  // (B, L, E)
  const at::Tensor logits = policy_->lm_head(hidden);
  const at::Tensor values = value_->backbone ? value_->forward(inputs) : value_->values_of(hidden);
  // Position t predicts token t + 1, and its value is that of the state before that token.
  return {logits.slice(1, P - 1, L - 1), values.slice(1, P - 1, L - 1)};
}

train::StepReport PpoObjective::train_step(torch::optim::Optimizer& optimizer) {
  policy_->eval();  // no dropout: the rollout's log-probabilities are the old policy's exactly
  value_->eval();
  for (auto& group : value_optimizer_->param_groups())
    group.options().set_lr(optimizer.param_groups().front().options().get_lr());
  // Data-parallel: every rank's critic starts from rank 0's (its head is initialised at random;
  // a resumed run's comes from the checkpoint, the same on every rank).
  if (!value_synchronised_) {
    parallel_.broadcast(*value_);
    value_synchronised_ = true;
  }

  PhaseClock clock;
  const PromptDraw draw = next_prompts();
  const rollout::Rollout rollout = sample(train_, draw, 1, rollout_rng_.next());
  clock.lap("generation");
  const at::Tensor& mask = rollout.response_mask;
  const at::Tensor scores_ = scores(rollout, train_, draw.indices);
  const at::Tensor reference =
      beta_ > 0 || kl_coef_ > 0 ? reference_log_probs(rollout) : rollout.log_probs;
  at::Tensor old_values;
  {
    const torch::NoGradGuard no_grad;
    old_values = forward(rollout).second * mask;
  }
  const at::Tensor k1 = rl::kl_k1(rollout.log_probs, reference) * mask;
  const at::Tensor rewards = rl::ppo_token_rewards(scores_, k1, mask, kl_coef_);
  const rl::Advantages gae = rl::generalized_advantages(rewards, old_values, mask, gamma_, lambda_);
  const auto sum_of = [](const at::Tensor& x) { return x.to(at::kDouble).sum().item<double>(); };
  const double tokens = mask.sum().item<double>();
  at::Tensor advantages = gae.advantages;
  if (whiten_) {
    // Mean and variance (Bessel) over every rank's response tokens, as masked_whiten computes
    // them over one batch: two messages, the second for the squared deviations from the mean.
    const auto first = parallel_.sum({rl::masked_sum(gae.advantages, mask).item<double>(), tokens});
    const double count = first[1], mean = first[0] / std::max(count, 1.0);
    const double squares =
        parallel_.sum({sum_of((gae.advantages.to(at::kDouble) - mean).pow(2) * mask)})[0];
    advantages = rl::whiten_with(gae.advantages, mask, mean, squares / std::max(count - 1, 1.0));
  }
  clock.lap("scoring");

  train::StepReport report;
  std::vector<at::Tensor> parameters = train::distinct_parameters(*policy_);
  for (const auto& parameter : train::distinct_parameters(*value_))
    parameters.push_back(parameter);
  const double max_norm =
      clip_grad_norm_ > 0 ? clip_grad_norm_ : std::numeric_limits<double>::infinity();
  const std::int64_t B = rollout.batch(), M = B / minibatches_;
  double updates = 0;
  for (std::int64_t epoch = 0; epoch < epochs_; ++epoch) {
    // A permutation of the rows from the objective's own stream (saved in checkpoints).
    std::vector<std::int64_t> order(static_cast<std::size_t>(B));
    std::iota(order.begin(), order.end(), 0);
    for (std::int64_t i = B - 1; i > 0; --i)
      std::swap(order[static_cast<std::size_t>(i)],
                order[minibatch_rng_.uniform_below(static_cast<std::uint64_t>(i + 1))]);
    for (std::int64_t m = 0; m < minibatches_; ++m) {
      const at::Tensor rows = torch::tensor(
          std::vector<std::int64_t>(order.begin() + m * M, order.begin() + (m + 1) * M));
      const rollout::Rollout part = rollout::select_rows(rollout, rows);
      const at::Tensor part_mask = part.response_mask;
      const double part_tokens = part_mask.sum().item<double>();
      // Token means over the mini-batch of every rank together.
      const double count = parallel_.global_counts({part_tokens})[0];
      optimizer.zero_grad();
      value_optimizer_->zero_grad();
      const auto [logits, values] = forward(part);
      const at::Tensor log_p = rollout::token_log_probs(logits, part.responses, temperature());
      const at::Tensor policy_loss =
          rl::masked_sum(
              rl::clipped_surrogate(log_p, part.log_probs, advantages.index_select(0, rows), clip_),
              part_mask) /
          count;
      const at::Tensor value_loss =
          rl::masked_sum(rl::clipped_value_loss(values, old_values.index_select(0, rows),
                                                gae.returns.index_select(0, rows), value_clip_),
                         part_mask) /
          count;
      const at::Tensor loss = policy_loss + vf_coef_ * value_loss;
      loss.backward();
      parallel_.sum_gradients(parameters);
      const double grad_norm = torch::nn::utils::clip_grad_norm_(parameters, max_norm);
      // The whole mini-batch's losses, the same on every rank.
      const auto losses = parallel_.sum(
          {loss.item<double>(), policy_loss.item<double>(), value_loss.item<double>()});
      if (!std::isfinite(losses[0]) || !std::isfinite(grad_norm)) {
        optimizer.zero_grad();
        value_optimizer_->zero_grad();
        report.skipped = true;
        return report;
      }
      optimizer.step();
      value_optimizer_->step();
      const torch::NoGradGuard no_grad;
      const at::Tensor old = part.log_probs;
      report.loss += losses[0];
      report.grad_norm += grad_norm;
      updates += 1;
      report.metrics["policy_loss"].add({losses[1], 1.0});
      report.metrics["value_loss"].add({losses[2], 1.0});
      report.metrics["clip_fraction"].add(
          {rl::masked_sum(rl::clipped_tokens(log_p.detach(), old, clip_), part_mask).item<double>(),
           part_tokens});
      report.metrics["approx_kl"].add(
          {rl::masked_sum(0.5 * (log_p.detach() - old).pow(2), part_mask).item<double>(),
           part_tokens});
      if (epoch == 0)
        report.metrics["entropy"].add(
            {rl::masked_sum(rollout::token_entropy(logits.detach(), temperature()), part_mask)
                 .item<double>(),
             part_tokens});
    }
  }
  report.loss /= updates;
  report.grad_norm /= updates;

  // Sums and counts of the rank's rows and tokens: the trainer adds every rank's.
  const auto rows = static_cast<double>(B);
  report.metrics["reward"] = {sum_of(scores_), rows};
  report.metrics["kl_sequence"] = {sum_of(k1), rows};
  report.metrics["kl_k1"] = {sum_of(k1), tokens};
  report.metrics["kl_k3"] = {
      rl::masked_sum(rl::kl_k3(rollout.log_probs, reference), mask).item<double>(), tokens};
  report.metrics["kl_coef"] = scalar_metric(kl_coef_);
  report.metrics["advantage_mean"] = {rl::masked_sum(gae.advantages, mask).item<double>(), tokens};
  // Each rank's standard deviation, averaged over the ranks.
  report.metrics["advantage_std"] =
      scalar_metric(gae.advantages.masked_select(mask).to(at::kDouble).std().item<double>());
  report.metrics["return_mean"] = {rl::masked_sum(gae.returns, mask).item<double>(), tokens};
  report.metrics["response_length"] = {sum_of(rollout.lengths), rows};
  report.metrics["eos_fraction"] = {sum_of(rollout.ended_with_eos), rows};
  report.n_targets = mask.sum().item<std::int64_t>();
  report.n_tokens = rollout.valid.sum().item<std::int64_t>();

  // Ziegler et al.'s adaptive controller, after the step that measured the KL (the mean sequence
  // KL of every rank's responses, so that every rank keeps the same coefficient).
  if (target_kl_ > 0) {
    const auto kl = parallel_.sum({sum_of(k1), rows});
    const double error = std::clamp(kl[0] / kl[1] / target_kl_ - 1.0, -0.2, 0.2);
    kl_coef_ *= 1.0 + error * kl[1] / horizon_;  // kl[1]: the responses of the whole step
  }
  clock.lap("update");
  clock.report(report);
  return report;
}

void PpoObjective::save_state(train::TrainerState& state) const {
  PolicyObjective::save_state(state);
  state.rng_states["ppo/minibatches"] = minibatch_rng_.state();
  state.tensors["ppo/kl_coef"] = torch::tensor({kl_coef_}, torch::kDouble);
  for (const auto& item : value_->named_parameters())
    state.tensors["ppo/value/" + item.key()] = item.value().detach().clone();
  state.tensors["ppo/value_optimizer"] = optimizer_bytes(*value_optimizer_);
}

void PpoObjective::load_state(const train::TrainerState& state) {
  PolicyObjective::load_state(state);
  minibatch_rng_.set_state(state.rng_state("ppo/minibatches"));
  const auto tensor = [&state](const std::string& name) -> const at::Tensor& {
    const auto it = state.tensors.find(name);
    if (it == state.tensors.end())
      throw Error("the checkpoint has no " + name + " (objective.pt)",
                  "it was not written by ppo: start the run afresh");
    return it->second;
  };
  kl_coef_ = tensor("ppo/kl_coef").item<double>();
  const torch::NoGradGuard no_grad;
  for (auto& item : value_->named_parameters()) {
    const at::Tensor& saved = tensor("ppo/value/" + item.key());
    TORCH_CHECK(saved.sizes() == item.value().sizes(), "ppo/value/", item.key(), " is ",
                saved.sizes(), " in the checkpoint and ", item.value().sizes(), " here");
    item.value().copy_(saved);
  }
  load_optimizer_bytes(*value_optimizer_, tensor("ppo/value_optimizer"));
}

void register_ppo() {
  config::Schema schema;
  add_policy_fields(schema, "");
  schema.add({.key = "value_model",
              .type = config::Type::kString,
              .default_value = "separate",
              .doc = "critic: a backbone of its own (separate) or a head on the policy's (shared)",
              .choices = {"separate", "shared"}});
  schema.add({.key = "kl_coef",
              .type = config::Type::kFloat,
              .default_value = 0.05,
              .doc = "initial coefficient of the per-token KL penalty folded into the reward",
              .min = 0.0});
  schema.add({.key = "target_kl",
              .type = config::Type::kFloat,
              .default_value = 0.0,
              .doc = "sequence KL the adaptive controller steers kl_coef to (0: fixed kl_coef)",
              .min = 0.0});
  schema.add({.key = "kl_horizon",
              .type = config::Type::kFloat,
              .default_value = 10000.0,
              .doc = "horizon of the adaptive KL controller, in responses",
              .min = 1.0});
  schema.add({.key = "gamma",
              .type = config::Type::kFloat,
              .default_value = 1.0,
              .doc = "discount of GAE",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "lambda",
              .type = config::Type::kFloat,
              .default_value = 0.95,
              .doc = "lambda of GAE",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "whiten_advantages",
              .type = config::Type::kBool,
              .default_value = true,
              .doc = "whiten advantages over the batch's response tokens"});
  schema.add({.key = "clip",
              .type = config::Type::kFloat,
              .default_value = 0.2,
              .doc = "ratio clipping epsilon of the surrogate",
              .min = 0.0});
  schema.add({.key = "value_clip",
              .type = config::Type::kFloat,
              .default_value = 0.2,
              .doc = "clipping of the value change in the value loss",
              .min = 0.0});
  schema.add({.key = "vf_coef",
              .type = config::Type::kFloat,
              .default_value = 0.1,
              .doc = "weight of the value loss",
              .min = 0.0});
  schema.add({.key = "epochs",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "PPO epochs over each rollout batch",
              .min = 1});
  schema.add({.key = "minibatches",
              .type = config::Type::kInt,
              .default_value = 1,
              .doc = "mini-batches per epoch (dividing trainer.batch_size)",
              .min = 1});
  objective_registry().add(
      "ppo", "PPO: per-token KL penalty in the reward, GAE, clipped surrogate and value losses",
      std::move(schema),
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<PpoObjective>(options, context);
      },
      policy_objective_check("ppo"));
}

}  // namespace sslx::objectives
