#include "objectives/span_corruption.h"

#include <torch/torch.h>

#include <algorithm>

#include "objectives/mlm_masking.h"
#include "objectives/run_checks.h"
#include "util/error.h"

namespace sslx::objectives {
namespace {

constexpr const char* kRngName = "span_corruption_noise";

SpanLengths lengths_from(const config::Node& options, std::int64_t sequence_length) {
  return expanded_lengths(sequence_length, options.get_float("noise_density"),
                          options.get_float("mean_noise_span_length"));
}

}  // namespace

ContiguousBlocks::ContiguousBlocks(const data::TokenCorpus& corpus, std::int64_t block_size)
    : corpus_(corpus), block_size_(block_size) {
  std::int64_t offset = 0;
  for (std::int64_t d = 0; d < corpus.document_count(); ++d) {
    starts_.push_back(offset);
    offset += corpus.document_length(d);
  }
  starts_.push_back(offset);
  blocks_ = offset / block_size_;
}

std::vector<TokenId> ContiguousBlocks::block(std::int64_t index) const {
  std::vector<TokenId> tokens(block_size_);
  std::int64_t offset = index * block_size_;
  // The document holding `offset`: the last start <= offset.
  auto document = std::upper_bound(starts_.begin(), starts_.end(), offset) - starts_.begin() - 1;
  for (std::int64_t filled = 0; filled < block_size_; ++document) {
    const std::int64_t begin = offset - starts_[document];
    const std::int64_t count =
        std::min(block_size_ - filled, corpus_.document_length(document) - begin);
    corpus_.copy_tokens(document, begin, count, tokens.data() + filled);
    filled += count;
    offset += count;
  }
  return tokens;
}

SpanCorruptionObjective::SpanCorruptionObjective(const config::Node& options,
                                                 const ObjectiveContext& context)
    : BlockLmObjective(context, kRngName,
                       lengths_from(options, context.trainer.sequence_length).raw_tokens),
      density_(options.get_float("noise_density")),
      mean_span_(options.get_float("mean_noise_span_length")),
      decoder_only_(is_kind(context.model, "decoder")),
      specials_(context.tokenizer.specials()),
      lengths_(lengths_from(options, context.trainer.sequence_length)) {
  require_architecture("span_corruption", context.model, {"encoder_decoder", "decoder"});
  specials_.require_eos();
  specials_.require_pad();
  model_ = LanguageModel(context.model, context.tokenizer.vocab_size());
}

double SpanCorruptionObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(lengths_.inputs);
}

train::Batch SpanCorruptionObjective::batch_of(const ContiguousBlocks& blocks,
                                               const std::vector<std::int64_t>& indices,
                                               RngStream& rng) const {
  const auto B = static_cast<std::int64_t>(indices.size());
  const std::int64_t I = lengths_.inputs, U = lengths_.targets;
  std::vector<std::int64_t> inputs, targets;
  for (std::int64_t index : indices) {
    const std::vector<TokenId> tokens = blocks.block(index);
    const std::vector<bool> noise =
        random_spans_noise_mask(lengths_.raw_tokens, density_, mean_span_, rng);
    const CorruptedExample example = corrupt_spans(tokens, noise, specials_);
    if (static_cast<std::int64_t>(example.inputs.size()) != I ||
        static_cast<std::int64_t>(example.targets.size()) != U) {
      throw Error("span_corruption: an example has " + std::to_string(example.inputs.size()) +
                  " inputs and " + std::to_string(example.targets.size()) + " targets, expected " +
                  std::to_string(I) + " and " + std::to_string(U));
    }
    inputs.insert(inputs.end(), example.inputs.begin(), example.inputs.end());
    targets.insert(targets.end(), example.targets.begin(), example.targets.end());
  }
  const at::Tensor input_ids = torch::tensor(inputs, torch::kInt64).reshape({B, I});
  const at::Tensor target_ids = torch::tensor(targets, torch::kInt64).reshape({B, U});
  train::Batch batch;
  batch.tensors["inputs"] = input_ids;
  batch.tensors["targets"] = target_ids;
  if (decoder_only_) {
    // inputs ++ targets without its last token; position t predicts token t + 1, kept only
    // where that token is a target.
    batch.tensors["input_ids"] = torch::cat({input_ids, target_ids.slice(1, 0, U - 1)}, 1);
    batch.tensors["labels"] =
        torch::cat({torch::full({B, I - 1}, kIgnore, torch::kInt64), target_ids}, 1);
    batch.tensors["prefix_length"] = torch::full({B}, I, torch::kInt64);
  } else {
    batch.tensors["input_ids"] = input_ids;
    batch.tensors["decoder_input_ids"] =
        torch::cat({torch::full({B, 1}, specials_.require_pad(), torch::kInt64),
                    target_ids.slice(1, 0, U - 1)},
                   1);
    batch.tensors["labels"] = target_ids;
  }
  batch.n_tokens = B * (I + U);
  batch.n_targets = B * U;
  return batch;
}

at::Tensor SpanCorruptionObjective::hidden_states(const train::Batch& batch) {
  if (decoder_only_) {
    return model_->hidden_states(
        {.token_ids = batch.at("input_ids"), .prefix_length = batch.at("prefix_length")});
  }
  return model_->hidden_states(
      {.token_ids = batch.at("input_ids"), .decoder_token_ids = batch.at("decoder_input_ids")});
}

void register_span_corruption() {
  config::Schema schema;
  schema.add({.key = "noise_density",
              .type = config::Type::kFloat,
              .default_value = 0.15,
              .doc = "fraction of raw tokens corrupted",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "mean_noise_span_length",
              .type = config::Type::kFloat,
              .default_value = 3.0,
              .doc = "mean length of a corrupted span",
              .min = 1.0});
  objective_registry().add(
      "span_corruption",
      "T5 span corruption: sentinels for noise spans in the inputs, the spans as targets "
      "(encoder_decoder; decoder with a prefix over the inputs)",
      schema,
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<SpanCorruptionObjective>(options, context);
      },
      accepts_architectures("span_corruption", {"encoder_decoder", "decoder"}));
}

}  // namespace sslx::objectives
