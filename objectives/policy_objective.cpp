#include "objectives/policy_objective.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <utility>

#include "data/jsonl_reader.h"
#include "objectives/batch_indices.h"
#include "objectives/file_splits.h"
#include "objectives/policy_losses.h"
#include "objectives/run_checks.h"
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

train::Metric scalar_metric(double value) {
  return {value, 1.0};
}

double mean_of(const at::Tensor& x) {
  return x.to(at::kDouble).mean().item<double>();
}

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

PhaseClock::PhaseClock() : last_(now_seconds()) {}

void PhaseClock::lap(const std::string& phase) {
  const double now = now_seconds();
  seconds_[phase] += now - last_;
  last_ = now;
}

std::vector<std::string> PhaseClock::metric_names() {
  return {"time_generation", "time_scoring", "time_update"};
}

void PhaseClock::report(train::StepReport& report) const {
  for (const auto& [phase, seconds] : seconds_)
    report.metrics["time_" + phase] = scalar_metric(seconds);
}

rollout::LogitsFunction logits_of(LanguageModelImpl& model) {
  return [&model](const arch::ArchitectureInputs& inputs) { return model.logits(inputs); };
}

PolicyObjective::PolicyObjective(std::string name, const config::Node& options,
                                 const ObjectiveContext& context, double beta)
    : name_(std::move(name)),
      tokenizer_(context.tokenizer),
      batch_size_(context.trainer.batch_size),
      sequence_length_(context.trainer.sequence_length),
      beta_(beta),
      missing_eos_penalty_(options.get_float("missing_eos_penalty")),
      clip_grad_norm_(context.trainer.clip_grad_norm),
      parallel_(context.trainer.rank_mean_loss),
      train_(read_prompts(options, "train_files", context.tokenizer,
                          sequence_length_ - options.get_int("max_new_tokens"))),
      validation_(read_prompts(options, "validation_files", context.tokenizer,
                               sequence_length_ - options.get_int("max_new_tokens"))),
      sampler_(training_sampler(static_cast<std::int64_t>(train_.ids.size()), context.seed)),
      rollout_rng_(context.seed, name_ + "/rollout"),
      eval_seed_(context.seed) {
  require_architecture(name_, context.model, {"decoder"});
  require_single_micro_batch(context.trainer);
  const data::SpecialTokens& specials = context.tokenizer.specials();
  rollout_options_ = {.max_new_tokens = options.get_int("max_new_tokens"),
                      .sampling = {.temperature = options.get_float("temperature")},
                      .eos = specials.require_eos(),
                      .pad = specials.pad.value_or(specials.require_eos()),
                      .max_positions = context.model.get_int("max_positions")};
  auto models = policy_and_reference(context.model, context.tokenizer.vocab_size(),
                                     options.get_string("init_from"));
  policy_ = models.policy;
  reference_ = models.reference;
  reward_ = reward_registry().create(options.at_path("reward"),
                                     RewardContext{.policy_model = context.model,
                                                   .tokenizer = context.tokenizer,
                                                   .max_length = sequence_length_});
  if (!options.get_string("gold_reward.name").empty()) {
    gold_reward_ = reward_registry().create(options.at_path("gold_reward"),
                                            RewardContext{.policy_model = context.model,
                                                          .tokenizer = context.tokenizer,
                                                          .max_length = sequence_length_});
  }
}

void PolicyObjective::require_single_micro_batch(const train::TrainerOptions& trainer) const {
  if (trainer.grad_accumulation != 1) {
    throw Error(name_ + ": trainer.grad_accumulation = " +
                    std::to_string(trainer.grad_accumulation) + ", but a step is one rollout batch",
                "set trainer.grad_accumulation = 1 and size the step with trainer.batch_size "
                "(prompts)");
  }
}

train::Batch PolicyObjective::train_batch() {
  throw Error(name_ + " samples its own batches in train_step()");
}

PolicyObjective::PromptDraw PolicyObjective::next_prompts() {
  PromptDraw draw;
  for (std::int64_t b = 0; b < batch_size_; ++b) {
    const std::int64_t index = sampler_.next();
    draw.indices.push_back(index);
    draw.streams.push_back("draw" + std::to_string(sampler_.state().epoch) + "." +
                           std::to_string(sampler_.last_position()) + "/prompt" +
                           std::to_string(index));
  }
  return draw;
}

rollout::LogitsFunction PolicyObjective::policy_logits() {
  return logits_of(*policy_);
}

rollout::Rollout PolicyObjective::sample(const PromptSet& prompts, const PromptDraw& draw,
                                         std::int64_t samples_per_prompt, std::uint64_t seed) {
  std::vector<std::vector<data::TokenId>> rows;
  std::vector<std::string> streams;
  for (std::size_t i = 0; i < draw.indices.size(); ++i) {
    // Unique per row: a prompt drawn twice in one batch still gets independent samples.
    for (std::int64_t g = 0; g < samples_per_prompt; ++g) {
      streams.push_back(draw.streams[i] + "/" + std::to_string(g));
      rows.push_back(prompts.ids[static_cast<std::size_t>(draw.indices[i])]);
    }
  }
  return rollout::generate(logits_of(*policy_), rows, rollout_options_, seed, streams);
}

namespace {

// The prompt and response texts of a rollout's rows, as a reward reads them.
std::pair<std::vector<std::string>, std::vector<std::string>> texts_of(
    const rollout::Rollout& rollout, const PromptSet& prompts,
    const std::vector<std::int64_t>& rows_to_prompts, const data::Tokenizer& tokenizer) {
  std::vector<std::string> prompt_texts, responses;
  for (std::int64_t row = 0; row < rollout.batch(); ++row) {
    prompt_texts.push_back(prompts.texts[static_cast<std::size_t>(rows_to_prompts[row])]);
    responses.push_back(tokenizer.decode(rollout::response_text_tokens(rollout, row)));
  }
  return {std::move(prompt_texts), std::move(responses)};
}

}  // namespace

at::Tensor PolicyObjective::scores(const rollout::Rollout& rollout, const PromptSet& prompts,
                                   const std::vector<std::int64_t>& rows_to_prompts) {
  const auto [prompt_texts, responses] = texts_of(rollout, prompts, rows_to_prompts, tokenizer_);
  at::Tensor scores = reward_->score({rollout, prompt_texts, responses}).to(at::kFloat);
  TORCH_CHECK(scores.dim() == 1 && scores.size(0) == rollout.batch(), name_,
              ": the reward returned ", scores.sizes(), " scores for ", rollout.batch(), " rows");
  // A response cut off before EOS is penalised, as TRL's missing_eos_penalty.
  if (missing_eos_penalty_ > 0)
    scores = scores - missing_eos_penalty_ * rollout.ended_with_eos.logical_not().to(at::kFloat);
  return scores;
}

void PolicyObjective::keep_samples(const rollout::Rollout& rollout, const PromptSet& prompts,
                                   const std::vector<std::int64_t>& indices,
                                   const at::Tensor& rewards, const at::Tensor& kl) {
  // The first validation prompts, sampled from the same streams at every evaluation: a reader
  // follows how the answers to the same prompts change as training goes on.
  const auto [prompt_texts, responses] = texts_of(rollout, prompts, indices, tokenizer_);
  for (std::size_t row = 0; row < indices.size(); ++row) {
    if (indices[row] >= kEvaluationSamples) continue;
    char numbers[96];
    std::snprintf(numbers, sizeof numbers, "reward %.4f, KL %.4f, %s", rewards[row].item<double>(),
                  kl[row].item<double>(),
                  rollout.ended_with_eos[row].item<bool>() ? "ended with EOS" : "cut off");
    char name[32];
    std::snprintf(name, sizeof name, "sample_%02lld", static_cast<long long>(indices[row]));
    evaluation_texts_[name] =
        prompt_texts[row] + "\n--- response (" + numbers + ") ---\n" + responses[row];
  }
}

std::map<std::string, std::string> PolicyObjective::take_evaluation_texts() {
  return std::exchange(evaluation_texts_, {});
}

at::Tensor PolicyObjective::reference_log_probs(const rollout::Rollout& rollout) {
  const torch::NoGradGuard no_grad;
  return rollout::token_log_probs(rollout::response_logits(logits_of(*reference_), rollout),
                                  rollout.responses, rollout_options_.sampling.temperature);
}

bool PolicyObjective::eval_batch(data::Split split, std::int64_t index, train::Batch& batch) {
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

train::LossTerms PolicyObjective::loss(const train::Batch& batch) {
  const at::Tensor index_tensor = batch.at("prompt_index").contiguous();
  const std::vector<std::int64_t> indices(
      index_tensor.data_ptr<std::int64_t>(),
      index_tensor.data_ptr<std::int64_t>() + index_tensor.numel());
  const PromptSet& prompts = batch.at("validation").item<bool>() ? validation_ : train_;
  // Streams named by the prompt's index under a fixed seed: every evaluation samples the same
  // way, whatever the batch size and the number of ranks.
  PromptDraw draw{.indices = indices};
  for (const std::int64_t index : indices)
    draw.streams.push_back("eval/prompt" + std::to_string(index));
  const rollout::Rollout rollout = sample(prompts, draw, 1, eval_seed_);
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
  if (gold_reward_) {
    const auto [prompt_texts, responses] = texts_of(rollout, prompts, indices, tokenizer_);
    const at::Tensor gold = gold_reward_->score({rollout, prompt_texts, responses});
    terms.metrics["gold_reward"] = {gold.to(at::kDouble).sum().item<double>(), n};
  }
  terms.metrics["kl_sequence"] = {kl.sum().item<double>(), n};
  if (batch.at("validation").item<bool>()) keep_samples(rollout, prompts, indices, rewards, kl);
  terms.metrics["response_length"] = {rollout.lengths.sum().item<double>(), n};
  terms.metrics["eos_fraction"] = {rollout.ended_with_eos.sum().item<double>(), n};
  return terms;
}

void PolicyObjective::save_state(train::TrainerState& state) const {
  state.sampler = sampler_.state();
  state.rng_states[name_ + "/rollout"] = rollout_rng_.state();
}

void PolicyObjective::load_state(const train::TrainerState& state) {
  sampler_.restore(state.sampler);
  rollout_rng_.set_state(state.rng_state(name_ + "/rollout"));
}

config::Check policy_objective_check(const std::string& name) {
  return all_of({accepts_architectures(name, {"decoder"}), check_init_from, check_files_exist,
                 [](const config::CheckContext& context) {
                   const std::int64_t length = context.root().get_int("trainer.sequence_length");
                   const std::int64_t new_tokens = context.options().get_int("max_new_tokens");
                   if (new_tokens >= length) {
                     context.error("max_new_tokens",
                                   std::to_string(new_tokens) +
                                       " new tokens leave no room for a prompt in "
                                       "trainer.sequence_length = " +
                                       std::to_string(length));
                   }
                   if (context.root().get_string("trainer.device").rfind("cuda", 0) == 0) {
                     context.error_at("trainer.device",
                                      "policy optimisation (generation, rewards, reference) runs "
                                      "on the CPU so far: set \"cpu\" or \"auto\"");
                   }
                   // A step is one rollout batch: its size is trainer.batch_size prompts.
                   if (context.root().get_int("trainer.grad_accumulation") != 1) {
                     context.error_at("trainer.grad_accumulation",
                                      "a policy step is one rollout batch; set 1 and size the "
                                      "step with trainer.batch_size (prompts)");
                   }
                 }});
}

void add_policy_fields(config::Schema& schema, const std::string& max_new_tokens_doc) {
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
                      "checkpoint directory of the SFT (or pretraining) run: policy and reference; "
                      "or \"hf:DIR\", a Hugging Face model directory");
  schema.add({.key = "max_new_tokens",
              .type = config::Type::kInt,
              .default_value = 32,
              .doc = "response tokens at most (EOS included)" + max_new_tokens_doc,
              .min = 1});
  schema.add({.key = "temperature",
              .type = config::Type::kFloat,
              .default_value = 1.0,
              .doc = "sampling temperature, applied to the log-probabilities that are trained",
              .min = 1e-3});
  schema.add({.key = "missing_eos_penalty",
              .type = config::Type::kFloat,
              .default_value = 0.0,
              .doc = "subtracted from the reward of a response that did not end with EOS",
              .min = 0.0});
  schema.add({.key = "reward",
              .default_value = config::Node("reward_model"),
              .doc = "the reward of a response ([objective.reward], chosen by name)",
              .component = &reward_registry()});
  schema.add({.key = "gold_reward",
              .default_value = config::Node(""),
              .doc = "a second reward that evaluation reports as gold_reward and training never "
                     "sees (name = \"\": none), to watch the trained reward being over-optimised",
              .component = &reward_registry()});
}

}  // namespace sslx::objectives
