#include "objectives/group_policy.h"

#include <torch/nn/utils/clip_grad.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "data/jsonl_reader.h"
#include "objectives/file_splits.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {

PromptSet read_prompts(const config::Node& options, const std::string& files_key,
                       const data::Tokenizer& tokenizer, std::int64_t max_length) {
  data::JsonlOptions jsonl{.skip_malformed = options.get_bool("skip_malformed")};
  jsonl.fields.prompt = options.get_string("prompt_field");
  const std::string& format = options.get_string("prompt_format");
  std::vector<std::string> texts;
  for (const auto& file : options.at_path(files_key).as_array()) {
    data::SkipReport skips;
    if (format == "preferences") {
      for (const auto& pair : data::read_jsonl_preferences(file.as_string(), jsonl, skips))
        texts.push_back(pair.prompt);
    } else {
      for (const auto& example : data::read_jsonl_prompt_completion(file.as_string(), jsonl, skips))
        texts.push_back(example.prompt);
    }
    if (skips.skipped > 0) console::warning(file.as_string() + ": " + skips.summary());
  }
  PromptSet prompts;
  const data::TokenId eos = tokenizer.specials().require_eos();
  for (auto& text : texts) {
    std::vector<data::TokenId> ids = tokenizer.encode(text);
    // An empty prompt starts after an end of document, as every packed document does.
    if (ids.empty()) ids.push_back(eos);
    if (static_cast<std::int64_t>(ids.size()) > max_length) {
      ++prompts.dropped;
      continue;
    }
    prompts.texts.push_back(std::move(text));
    prompts.ids.push_back(std::move(ids));
  }
  console::info(files_key + ": " + std::to_string(prompts.ids.size()) + " prompts, " +
                std::to_string(prompts.dropped) + " dropped (longer than " +
                std::to_string(max_length) + " tokens)");
  if (prompts.ids.empty()) {
    throw Error(files_key + " gave no prompt of at most " + std::to_string(max_length) + " tokens",
                "check the files, or raise trainer.sequence_length above max_new_tokens");
  }
  return prompts;
}

namespace {

rollout::LogitsFunction logits_of(LanguageModelImpl& model) {
  return [&model](const arch::ArchitectureInputs& inputs) { return model.logits(inputs); };
}

train::Metric scalar(double value) {
  return {value, 1.0};
}

double mean_of(const at::Tensor& x) {
  return x.to(at::kDouble).mean().item<double>();
}

}  // namespace

GroupPolicyObjective::GroupPolicyObjective(std::string name, GroupBaseline baseline,
                                           const config::Node& options,
                                           const ObjectiveContext& context)
    : name_(std::move(name)),
      baseline_(baseline),
      tokenizer_(context.tokenizer),
      batch_size_(context.trainer.batch_size),
      sequence_length_(context.trainer.sequence_length),
      group_size_(options.get_int("group_size")),
      beta_(options.get_float("beta")),
      clip_(options.get_float("clip")),
      epochs_(options.get_int("epochs")),
      scale_by_std_(baseline == GroupBaseline::group_mean && options.get_bool("scale_by_std")),
      missing_eos_penalty_(options.get_float("missing_eos_penalty")),
      clip_grad_norm_(context.trainer.clip_grad_norm),
      normalisation_(rl::loss_normalisation_from(options.get_string("loss_normalisation"))),
      train_(read_prompts(options, "train_files", context.tokenizer,
                          sequence_length_ - options.get_int("max_new_tokens"))),
      validation_(read_prompts(options, "validation_files", context.tokenizer,
                               sequence_length_ - options.get_int("max_new_tokens"))),
      sampler_(static_cast<std::int64_t>(train_.ids.size()), context.seed),
      rollout_rng_(context.seed, name_ + "/rollout"),
      eval_seed_(context.seed) {
  require_architecture(name_, context.model, {"decoder"});
  if (context.trainer.grad_accumulation != 1) {
    throw Error(name_ + ": trainer.grad_accumulation = " +
                    std::to_string(context.trainer.grad_accumulation) +
                    ", but a step is one rollout batch",
                "set trainer.grad_accumulation = 1 and size the step with trainer.batch_size "
                "(prompts) and objective.group_size");
  }
  const data::SpecialTokens& specials = context.tokenizer.specials();
  rollout_options_ = {.max_new_tokens = options.get_int("max_new_tokens"),
                      .sampling = {.temperature = options.get_float("temperature")},
                      .eos = specials.require_eos(),
                      .pad = specials.pad.value_or(specials.require_eos()),
                      .max_positions = context.model.get_int("max_positions")};
  policy_ = LanguageModel(context.model, context.tokenizer.vocab_size());
  const std::string& init_from = options.get_string("init_from");
  if (!init_from.empty()) load_pretrained(*policy_, init_from);
  // The reference is the policy as it starts: the SFT model of InstructGPT and DeepSeekMath.
  reference_ = LanguageModel(context.model, context.tokenizer.vocab_size());
  copy_state(*policy_, *reference_);
  reference_->eval();
  for (auto& parameter : reference_->parameters())
    parameter.requires_grad_(false);
  reward_ = reward_registry().create(options.at_path("reward"),
                                     RewardContext{.policy_model = context.model,
                                                   .tokenizer = context.tokenizer,
                                                   .max_length = sequence_length_});
}

std::vector<std::string> GroupPolicyObjective::metric_names() const {
  return {"reward",          "reward_std",    "kl_k1",          "kl_k3",          "kl_sequence",
          "entropy",         "clip_fraction", "approx_kl",      "advantage_mean", "advantage_std",
          "response_length", "eos_fraction",  "constant_groups"};
}

double GroupPolicyObjective::training_flops_per_token() const {
  // Per response token, roughly: a policy step (3 passes), the rollout's forward pass and the
  // reference's (beta > 0).
  const double forward = policy_->backbone->forward_flops_per_token(sequence_length_);
  return forward * (3.0 * static_cast<double>(epochs_) + 1.0 + (beta_ > 0 ? 1.0 : 0.0));
}

train::Batch GroupPolicyObjective::train_batch() {
  throw Error(name_ + " samples its own batches in train_step()");
}

rollout::Rollout GroupPolicyObjective::sample(const PromptSet& prompts,
                                              const std::vector<std::int64_t>& indices,
                                              std::int64_t samples_per_prompt, std::uint64_t seed,
                                              const std::string& stream_prefix) {
  std::vector<std::vector<data::TokenId>> rows;
  std::vector<std::string> streams;
  for (const std::int64_t index : indices) {
    for (std::int64_t g = 0; g < samples_per_prompt; ++g) {
      rows.push_back(prompts.ids[static_cast<std::size_t>(index)]);
      streams.push_back(stream_prefix + std::to_string(index) + "/" + std::to_string(g));
    }
  }
  return rollout::generate(logits_of(*policy_), rows, rollout_options_, seed, streams);
}

at::Tensor GroupPolicyObjective::scores(const rollout::Rollout& rollout, const PromptSet& prompts,
                                        const std::vector<std::int64_t>& rows_to_prompts) {
  std::vector<std::string> prompt_texts, responses;
  for (std::int64_t row = 0; row < rollout.batch(); ++row) {
    prompt_texts.push_back(prompts.texts[static_cast<std::size_t>(rows_to_prompts[row])]);
    responses.push_back(tokenizer_.decode(rollout::response_text_tokens(rollout, row)));
  }
  at::Tensor scores = reward_->score({rollout, prompt_texts, responses}).to(at::kFloat);
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == rollout.batch(), name_,
              ": the reward returned ", scores.sizes(), " scores for ", rollout.batch(), " rows");
  // A response cut off before EOS is penalised, as TRL's missing_eos_penalty.
  if (missing_eos_penalty_ > 0)
    scores = scores - missing_eos_penalty_ * rollout.ended_with_eos.logical_not().to(at::kFloat);
  return scores;
}

at::Tensor GroupPolicyObjective::reference_log_probs(const rollout::Rollout& rollout) {
  const torch::NoGradGuard no_grad;
  return rollout::token_log_probs(rollout::response_logits(logits_of(*reference_), rollout),
                                  rollout.responses, rollout_options_.sampling.temperature);
}

train::StepReport GroupPolicyObjective::train_step(torch::optim::Optimizer& optimizer) {
  policy_->eval();  // no dropout: the rollout's log-probabilities are the old policy's exactly
  const auto indices = sampled_indices(sampler_, batch_size_);
  std::vector<std::int64_t> rows_to_prompts;
  for (const std::int64_t index : indices)
    for (std::int64_t g = 0; g < group_size_; ++g)
      rows_to_prompts.push_back(index);
  const rollout::Rollout rollout = sample(train_, indices, group_size_, rollout_rng_.next(), "");
  const at::Tensor& mask = rollout.response_mask;
  const at::Tensor rewards = scores(rollout, train_, rows_to_prompts);
  const at::Tensor valid = rollout.lengths > 0;
  const at::Tensor reference = beta_ > 0 ? reference_log_probs(rollout) : at::Tensor();
  // The sequence KL (sum of k1 over the response) of the sampling policy, as RLOO shapes its
  // reward with it; GRPO puts beta * k3 into the loss instead.
  const at::Tensor sequence_kl = beta_ > 0 ? (rl::kl_k1(rollout.log_probs, reference) * mask).sum(1)
                                           : torch::zeros({rollout.batch()});
  const at::Tensor advantages =
      baseline_ == GroupBaseline::group_mean
          ? rl::group_advantages(rewards, valid, group_size_, scale_by_std_)
          : rl::leave_one_out_advantages(rewards - beta_ * sequence_kl, valid, group_size_);
  const bool kl_in_loss = beta_ > 0 && baseline_ == GroupBaseline::group_mean;

  train::StepReport report;
  const std::int64_t constant = rl::constant_groups(rewards, valid, group_size_);
  const double max_norm =
      clip_grad_norm_ > 0 ? clip_grad_norm_ : std::numeric_limits<double>::infinity();
  for (std::int64_t epoch = 0; epoch < epochs_; ++epoch) {
    optimizer.zero_grad();
    const at::Tensor logits = rollout::response_logits(logits_of(*policy_), rollout);
    const double temperature = rollout_options_.sampling.temperature;
    const at::Tensor log_p = rollout::token_log_probs(logits, rollout.responses, temperature);
    at::Tensor per_token =
        rl::clipped_surrogate(log_p, rollout.log_probs, advantages.unsqueeze(1), clip_);
    at::Tensor k1, k3;
    if (beta_ > 0) {
      k1 = rl::kl_k1(log_p.detach(), reference);
      k3 = rl::kl_k3(log_p, reference);
      if (kl_in_loss) per_token = per_token + beta_ * k3;
    }
    const std::int64_t L = rollout_options_.max_new_tokens;
    const at::Tensor loss = rl::reduce_tokens(per_token, mask, normalisation_, L);
    loss.backward();
    const double grad_norm = torch::nn::utils::clip_grad_norm_(policy_->parameters(), max_norm);
    const double loss_value = loss.item<double>();
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
         mask.sum().item<double>()});
    report.metrics["approx_kl"].add(
        {rl::masked_sum(0.5 * log_ratio.pow(2), mask).item<double>(), mask.sum().item<double>()});
    if (epoch == 0) {
      report.metrics["entropy"] =
          scalar(rl::masked_mean(rollout::token_entropy(logits.detach(), temperature), mask)
                     .item<double>());
      // The KL as the loss sees it (same reduction), and per sequence (the sum over its tokens).
      const at::Tensor kl1 = beta_ > 0 ? k1 : at::zeros_like(log_ratio);
      const at::Tensor kl3 = beta_ > 0 ? k3.detach() : at::zeros_like(log_ratio);
      report.metrics["kl_k1"] =
          scalar(rl::reduce_tokens(kl1, mask, normalisation_, L).item<double>());
      report.metrics["kl_k3"] =
          scalar(rl::reduce_tokens(kl3, mask, normalisation_, L).item<double>());
      report.metrics["kl_sequence"] = scalar(mean_of(sequence_kl));
    }
  }
  report.metrics["reward"] = scalar(mean_of(rewards));
  report.metrics["reward_std"] = scalar(rewards.to(at::kDouble).std().item<double>());
  report.metrics["advantage_mean"] = scalar(mean_of(advantages));
  report.metrics["advantage_std"] = scalar(advantages.to(at::kDouble).std().item<double>());
  report.metrics["response_length"] = scalar(mean_of(rollout.lengths));
  report.metrics["eos_fraction"] = scalar(mean_of(rollout.ended_with_eos));
  report.metrics["constant_groups"] = {static_cast<double>(constant),
                                       static_cast<double>(batch_size_)};
  report.n_targets = mask.sum().item<std::int64_t>();
  report.n_tokens = rollout.valid.sum().item<std::int64_t>();
  return report;
}

bool GroupPolicyObjective::eval_batch(data::Split split, std::int64_t index, train::Batch& batch) {
  const auto indices =
      file_split_indices(split, index, batch_size_, static_cast<std::int64_t>(train_.ids.size()),
                         static_cast<std::int64_t>(validation_.ids.size()));
  if (indices.empty()) return false;
  batch = {};
  batch.tensors["prompt_index"] = torch::tensor(indices, torch::kLong);
  batch.tensors["validation"] = torch::tensor(split == data::Split::kValidation);
  batch.n_targets = static_cast<std::int64_t>(indices.size());
  return true;
}

train::LossTerms GroupPolicyObjective::loss(const train::Batch& batch) {
  const at::Tensor index_tensor = batch.at("prompt_index").contiguous();
  const std::vector<std::int64_t> indices(
      index_tensor.data_ptr<std::int64_t>(),
      index_tensor.data_ptr<std::int64_t>() + index_tensor.numel());
  const PromptSet& prompts = batch.at("validation").item<bool>() ? validation_ : train_;
  // Streams named by the prompt's index under a fixed seed: every evaluation samples the same way.
  const rollout::Rollout rollout = sample(prompts, indices, 1, eval_seed_, "eval/");
  const at::Tensor rewards = scores(rollout, prompts, indices).to(at::kDouble);
  const torch::NoGradGuard no_grad;
  const at::Tensor kl =
      (rl::kl_k1(rollout.log_probs, reference_log_probs(rollout)) * rollout.response_mask)
          .sum(1)
          .to(at::kDouble);  // (B): the sequence KL
  const auto n = static_cast<double>(indices.size());
  train::LossTerms terms{.loss_sum = -(rewards - beta_ * kl).sum(),
                         .n_targets = static_cast<std::int64_t>(indices.size())};
  terms.metrics["reward"] = {rewards.sum().item<double>(), n};
  terms.metrics["kl_sequence"] = {kl.sum().item<double>(), n};
  terms.metrics["response_length"] = {rollout.lengths.sum().item<double>(), n};
  terms.metrics["eos_fraction"] = {rollout.ended_with_eos.sum().item<double>(), n};
  return terms;
}

void GroupPolicyObjective::save_state(train::TrainerState& state) const {
  state.sampler = sampler_.state();
  state.rng_states[name_ + "/rollout"] = rollout_rng_.state();
}

void GroupPolicyObjective::load_state(const train::TrainerState& state) {
  sampler_.restore(state.sampler);
  rollout_rng_.set_state(state.rng_states.at(name_ + "/rollout"));
}

namespace {

config::Schema group_policy_schema(bool grpo) {
  config::Schema schema;
  schema.add({.key = "prompt_format",
              .type = config::Type::kString,
              .default_value = "prompt_completion",
              .doc = "JSONL files whose prompt field is read: {prompt, completion} or preferences",
              .choices = {"prompt_completion", "preferences"}});
  add_file_split_fields(schema, "prompts");
  schema.add({.key = "prompt_field",
              .type = config::Type::kString,
              .default_value = "prompt",
              .doc = "field of the prompt"});
  add_init_from_field(schema,
                      "checkpoint directory of the SFT (or pretraining) run: policy and reference");
  schema.add({.key = "group_size",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "responses sampled per prompt (G)",
              .min = 2});
  schema.add({.key = "max_new_tokens",
              .type = config::Type::kInt,
              .default_value = 32,
              .doc = "response tokens at most (EOS included); also Dr. GRPO's constant length",
              .min = 1});
  schema.add({.key = "temperature",
              .type = config::Type::kFloat,
              .default_value = 1.0,
              .doc = "sampling temperature, applied to the log-probabilities that are trained",
              .min = 1e-3});
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
  schema.add({.key = "missing_eos_penalty",
              .type = config::Type::kFloat,
              .default_value = 0.0,
              .doc = "subtracted from the reward of a response that did not end with EOS",
              .min = 0.0});
  schema.add({.key = "reward",
              .default_value = config::Node("reward_model"),
              .doc = "the reward of a response ([objective.reward], chosen by name)",
              .component = &reward_registry()});
  return schema;
}

}  // namespace

void register_group_policy_objectives() {
  register_builtin_rewards();
  objective_registry().add(
      "grpo", "GRPO: group-normalised advantages, clipped ratio, k3 KL to the reference",
      group_policy_schema(true), [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<GroupPolicyObjective>("grpo", GroupBaseline::group_mean, options,
                                                      context);
      });
  objective_registry().add(
      "rloo", "RLOO: leave-one-out baseline over each prompt's samples, clipped ratio, k3 KL",
      group_policy_schema(false), [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<GroupPolicyObjective>("rloo", GroupBaseline::leave_one_out, options,
                                                      context);
      });
}

}  // namespace sslx::objectives
