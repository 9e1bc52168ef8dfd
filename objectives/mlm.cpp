#include "objectives/mlm.h"

#include <torch/torch.h>

#include "config/config_error.h"
#include "data/byte_tokenizer.h"
#include "objectives/run_checks.h"
#include "util/strings.h"

namespace sslx::objectives {
namespace {

constexpr const char* kRngName = "mlm_masking";

bool is_whitespace_byte(TokenId id) {
  const TokenId byte = id - data::ByteTokenizer::kFirstByte;
  return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r';
}

MaskingOptions masking_options(const config::Node& options) {
  return {.variant = options.get_string("variant") == "exact_count"
                         ? MaskingOptions::Variant::kExactCount
                         : MaskingOptions::Variant::kIndependent,
          .rate = options.get_float("rate"),
          .max_predictions = options.get_int("max_predictions"),
          .mask_fraction = options.get_float("mask_fraction"),
          .random_fraction = options.get_float("random_fraction")};
}

}  // namespace

std::vector<bool> byte_word_starts(const std::vector<TokenId>& tokens,
                                   const data::SpecialTokens& specials) {
  std::vector<bool> starts(tokens.size(), true);
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    starts[i] = is_whitespace_byte(tokens[i - 1]) || specials.is_special(tokens[i - 1]);
  }
  return starts;
}

MlmObjective::MlmObjective(const config::Node& options, const ObjectiveContext& context)
    : BlockLmObjective(context, kRngName, context.tokenizer.specials().require_eos(),
                       context.trainer.sequence_length),
      masking_(masking_options(options)),
      whole_word_(options.get_bool("whole_word_masking")),
      specials_(context.tokenizer.specials()) {
  require_architecture("mlm", context.model, {"encoder"});
  if (whole_word_ && context.tokenizer.name() != "byte") {
    throw config::ConfigError(
        "objective.whole_word_masking", options.at_path("whole_word_masking").origin(),
        "whole-word masking knows word starts only for the byte tokenizer, not " +
            in_quotes(context.tokenizer.name()));
  }
  specials_.require_mask();
  model_ = LanguageModel(context.model, context.tokenizer.vocab_size());
}

double MlmObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(sequence_length_);
}

train::Batch MlmObjective::batch_of(const data::PackedBlocks& blocks,
                                    const std::vector<std::int64_t>& indices,
                                    RngStream& rng) const {
  const auto B = static_cast<std::int64_t>(indices.size());
  const std::int64_t L = sequence_length_;
  std::vector<std::int64_t> inputs, labels;
  for (std::int64_t index : indices) {
    const data::PackedBlock block = blocks.block(index);  // L tokens
    const std::vector<bool> starts =
        whole_word_ ? byte_word_starts(block.tokens, specials_) : std::vector<bool>{};
    const MaskedExample example = mask_tokens(block.tokens, L, starts, specials_, masking_, rng);
    inputs.insert(inputs.end(), example.inputs.begin(), example.inputs.end());
    labels.insert(labels.end(), example.labels.begin(), example.labels.end());
  }
  train::Batch batch;
  batch.tensors["input_ids"] = torch::tensor(inputs, torch::kInt64).reshape({B, L});
  batch.tensors["labels"] = torch::tensor(labels, torch::kInt64).reshape({B, L});
  batch.n_tokens = B * L;
  batch.n_targets = (batch.tensors["labels"] != kIgnore).sum().item<std::int64_t>();
  return batch;
}

at::Tensor MlmObjective::hidden_states(const train::Batch& batch) {
  return model_->hidden_states({.token_ids = batch.at("input_ids")});
}

void register_mlm() {
  // The schema's defaults are MaskingOptions' own: written once.
  const MaskingOptions defaults;
  config::Schema schema;
  schema.add({.key = "variant",
              .type = config::Type::kString,
              .default_value = "exact_count",
              .doc = "exact_count: min(max_predictions, max(1, round(n * rate))) positions per "
                     "sequence (BERT); independent: each token with probability rate (HF)",
              .choices = {"exact_count", "independent"}});
  schema.add({.key = "rate",
              .type = config::Type::kFloat,
              .default_value = defaults.rate,
              .doc = "fraction of tokens chosen for prediction",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "max_predictions",
              .type = config::Type::kInt,
              .default_value = defaults.max_predictions,
              .doc = "cap on chosen positions per sequence (exact_count only; BERT: 20 per 128)",
              .min = 1.0});
  schema.add({.key = "mask_fraction",
              .type = config::Type::kFloat,
              .default_value = defaults.mask_fraction,
              .doc = "of the chosen positions: the fraction replaced by <mask>",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "random_fraction",
              .type = config::Type::kFloat,
              .default_value = defaults.random_fraction,
              .doc = "of the chosen positions not masked: the fraction replaced by a random "
                     "token (the rest stay unchanged)",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "whole_word_masking",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "choose whole words (byte tokenizer: a word starts after whitespace)"});
  objective_registry().add(
      "mlm", "masked language modelling (BERT cloze) on an encoder", schema,
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<MlmObjective>(options, context);
      },
      accepts_architectures("mlm", {"encoder"}));
}

}  // namespace sslx::objectives
