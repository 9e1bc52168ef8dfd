#include "objectives/reward_model.h"

#include <torch/torch.h>

#include "architectures/architecture_registry.h"
#include "data/batching.h"
#include "objectives/batch_indices.h"
#include "objectives/file_splits.h"
#include "objectives/language_model.h"
#include "objectives/run_checks.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {

RewardModelImpl::RewardModelImpl(const config::Node& model, std::int64_t vocab_size) {
  backbone = register_module(
      "backbone", std::shared_ptr<arch::Architecture>(
                      arch::architecture_registry().create(model, vocab_size).release()));
  reward_head = register_module(
      "reward_head", arch::ScalarHead(arch::ScalarHeadOptions{
                         .d_model = backbone->options().d_model, .pooling = arch::Pooling::last}));
}

at::Tensor RewardModelImpl::forward(const at::Tensor& token_ids, const at::Tensor& key_valid) {
  arch::ArchitectureInputs inputs{.token_ids = token_ids, .key_valid = key_valid};
  if (backbone->kind() == arch::ArchitectureKind::encoder_decoder) {
    inputs.decoder_token_ids = token_ids;
    inputs.decoder_key_valid = key_valid;
  }
  return reward_head(backbone->forward(inputs).hidden_states, key_valid);
}

train::LossTerms reward_pair_loss(const at::Tensor& chosen, const at::Tensor& rejected,
                                  const at::Tensor& margin, double center_coef) {
  TORCH_CHECK(
      chosen.dim() == 1 && chosen.sizes() == rejected.sizes() && chosen.sizes() == margin.sizes(),
      "reward_pair_loss: chosen ", chosen.sizes(), ", rejected ", rejected.sizes(), " and margin ",
      margin.sizes(), " should be the same (B)");
  const at::Tensor difference = chosen - rejected;
  // -log σ(x) = softplus(-x), stable for large |x|.
  at::Tensor loss_sum = torch::softplus(-(difference - margin)).sum();
  if (center_coef > 0) loss_sum = loss_sum + center_coef * (chosen + rejected).pow(2).sum();
  const auto pairs = static_cast<double>(chosen.size(0));
  train::LossTerms terms{.loss_sum = loss_sum, .n_targets = chosen.size(0)};
  terms.metrics["accuracy"] = {(chosen > rejected).sum().item<double>(), pairs};
  terms.metrics["margin"] = {difference.detach().sum().item<double>(), pairs};
  return terms;
}

std::vector<PairSequences> read_preference_sequences(const std::vector<std::string>& files,
                                                     const data::JsonlOptions& jsonl,
                                                     const data::Tokenizer& tokenizer,
                                                     std::int64_t max_length, PairCounts& counts) {
  const data::TokenId eos = tokenizer.specials().require_eos();
  const auto sequence = [&](const std::vector<data::TokenId>& prompt, const std::string& response) {
    std::vector<data::TokenId> tokens = prompt;
    for (const data::TokenId id : tokenizer.encode(response))
      tokens.push_back(id);
    if (tokens.empty() || tokens.back() != eos) tokens.push_back(eos);
    return tokens;
  };
  std::vector<PairSequences> pairs;
  for (const auto& file : files) {
    data::SkipReport skips;
    for (const auto& pair : data::read_jsonl_preferences(file, jsonl, skips)) {
      const std::vector<data::TokenId> prompt = tokenizer.encode(pair.prompt);
      PairSequences sequences{.chosen = sequence(prompt, pair.chosen),
                              .rejected = sequence(prompt, pair.rejected),
                              .prompt_length = static_cast<std::int64_t>(prompt.size()),
                              .margin = pair.margin};
      if (static_cast<std::int64_t>(std::max(sequences.chosen.size(), sequences.rejected.size())) >
          max_length) {
        ++counts.dropped;
        continue;
      }
      ++counts.kept;
      pairs.push_back(std::move(sequences));
    }
    if (skips.skipped > 0) console::warning(file + ": " + skips.summary());
  }
  return pairs;
}

train::Batch preference_batch(const std::vector<PairSequences>& pairs,
                              const std::vector<std::int64_t>& indices, data::TokenId pad) {
  std::vector<std::vector<data::TokenId>> rows;
  std::vector<double> margins;
  std::vector<std::int64_t> prompt_lengths;
  for (const std::int64_t index : indices)
    rows.push_back(pairs[index].chosen);
  for (const std::int64_t index : indices) {
    rows.push_back(pairs[index].rejected);
    margins.push_back(pairs[index].margin);
    prompt_lengths.push_back(pairs[index].prompt_length);
  }
  const data::PaddedBatch padded = data::pad_batch(rows, pad);
  const std::int64_t R = padded.batch, T = padded.length;  // R = 2B rows
  const at::Tensor lengths = torch::tensor(padded.lengths, torch::kInt64);
  train::Batch batch;
  batch.tensors["input_ids"] =
      torch::tensor(padded.tokens, torch::kInt32).to(torch::kInt64).reshape({R, T});
  batch.tensors["key_valid"] = torch::arange(T).unsqueeze(0) < lengths.unsqueeze(1);  // (R, T)
  batch.tensors["margin"] = torch::tensor(margins, torch::kFloat32);
  batch.tensors["prompt_length"] = torch::tensor(prompt_lengths, torch::kInt64);
  batch.n_targets = static_cast<std::int64_t>(indices.size());
  batch.n_tokens = lengths.sum().item<std::int64_t>();
  return batch;
}

std::vector<PairSequences> read_preference_split(const config::Node& options,
                                                 const std::string& files_key,
                                                 const data::Tokenizer& tokenizer,
                                                 std::int64_t max_length,
                                                 const std::string& objective, PairCounts& counts) {
  data::JsonlOptions jsonl{.skip_malformed = options.get_bool("skip_malformed")};
  jsonl.fields.prompt = options.get_string("prompt_field");
  jsonl.fields.chosen = options.get_string("chosen_field");
  jsonl.fields.rejected = options.get_string("rejected_field");
  if (const config::Node* margin = options.find_path("margin_field"))
    jsonl.fields.margin = margin->as_string();
  std::vector<std::string> files;
  for (const auto& file : options.at_path(files_key).as_array())
    files.push_back(file.as_string());
  auto pairs = read_preference_sequences(files, jsonl, tokenizer, max_length, counts);
  console::info(objective + " " + files_key + ": " + std::to_string(counts.kept) + " pairs, " +
                std::to_string(counts.dropped) + " dropped (longer than sequence_length)");
  if (pairs.empty()) {
    throw Error(objective + ": " + files_key + " gave no pair within sequence_length",
                "check the files, or raise trainer.sequence_length");
  }
  return pairs;
}

void add_preference_fields(config::Schema& schema) {
  add_file_split_fields(schema, "preference pairs");
  schema.add({.key = "prompt_field",
              .type = config::Type::kString,
              .default_value = "prompt",
              .doc = "field of the prompt (optional in the data)"});
  schema.add({.key = "chosen_field",
              .type = config::Type::kString,
              .default_value = "chosen",
              .doc = "field of the preferred response"});
  schema.add({.key = "rejected_field",
              .type = config::Type::kString,
              .default_value = "rejected",
              .doc = "field of the rejected response"});
}

RewardModelObjective::RewardModelObjective(const config::Node& options,
                                           const ObjectiveContext& context)
    : FileSplitObjective(context,
                         [&](const std::string& files_key, PairCounts& counts) {
                           return read_preference_split(options, files_key, context.tokenizer,
                                                        context.trainer.sequence_length,
                                                        "reward_model", counts);
                         }),
      center_coef_(options.get_float("center_coef")),
      pad_(context.tokenizer.specials().pad.value_or(context.tokenizer.specials().require_eos())) {
  require_architecture("reward_model", context.model, {"encoder", "decoder", "encoder_decoder"});
  model_ = RewardModel(context.model, context.tokenizer.vocab_size());
  const std::string& init_from = options.get_string("init_from");
  if (!init_from.empty()) {
    LanguageModel pretrained(context.model, context.tokenizer.vocab_size());
    load_pretrained(*pretrained, init_from);
    copy_state(*pretrained->backbone, *model_->backbone);
  }
}

double RewardModelObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(sequence_length_);
}

train::Batch RewardModelObjective::batch_of(data::Split split,
                                            const std::vector<std::int64_t>& indices) {
  return preference_batch(examples(split), indices, pad_);
}

train::LossTerms RewardModelObjective::loss(const train::Batch& batch) {
  const at::Tensor rewards = model_->forward(batch.at("input_ids"), batch.at("key_valid"));
  const std::int64_t B = batch.n_targets;
  return reward_pair_loss(rewards.slice(0, 0, B), rewards.slice(0, B, 2 * B), batch.at("margin"),
                          center_coef_);
}

void register_reward_model() {
  config::Schema schema;
  add_preference_fields(schema);
  schema.add({.key = "margin_field",
              .type = config::Type::kString,
              .default_value = "margin",
              .doc = "field of the pair's margin (optional in the data; 0 when absent)"});
  schema.add({.key = "center_coef",
              .type = config::Type::kFloat,
              .default_value = 0.0,
              .doc = "coefficient of the centring term mean((r_c + r_r)^2) (0: off)",
              .min = 0.0});
  add_init_from_field(schema,
                      "checkpoint directory (with model.pt) of a pretraining run: its backbone; or "
                      "\"hf:DIR\", a Hugging Face model directory");
  objective_registry().add(
      "reward_model",
      "reward model: scalar head at the last token, -log sigmoid(r_chosen - r_rejected - margin)",
      schema,
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<RewardModelObjective>(options, context);
      },
      all_of({accepts_architectures("reward_model", {"encoder", "decoder", "encoder_decoder"}),
              check_init_from, check_files_exist}));
}

}  // namespace sslx::objectives
