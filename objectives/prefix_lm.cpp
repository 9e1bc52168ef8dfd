#include "objectives/prefix_lm.h"

#include <torch/torch.h>

#include "objectives/mlm_masking.h"
#include "objectives/run_checks.h"
#include "util/error.h"

namespace sslx::objectives {
namespace {

constexpr const char* kRngName = "prefix_lm_split";

}  // namespace

PrefixLmObjective::PrefixLmObjective(const config::Node&, const ObjectiveContext& context)
    : BlockLmObjective(context, kRngName, context.tokenizer.specials().require_eos(),
                       context.trainer.sequence_length + 1),
      encoder_decoder_(is_kind(context.model, "encoder_decoder")) {
  require_architecture("prefix_lm", context.model, {"decoder", "encoder_decoder"});
  if (encoder_decoder_) pad_ = context.tokenizer.specials().require_pad();
  if (sequence_length_ < 2) {
    throw Error("prefix_lm: sequence_length must be at least 2 for a split point in [1, L - 1]");
  }
  model_ = LanguageModel(context.model, context.tokenizer.vocab_size());
}

double PrefixLmObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(sequence_length_);
}

train::Batch PrefixLmObjective::batch_of(const data::PackedBlocks& blocks,
                                         const std::vector<std::int64_t>& indices,
                                         RngStream& rng) const {
  const auto B = static_cast<std::int64_t>(indices.size());
  const std::int64_t L = sequence_length_;
  std::vector<data::PackedBlock> rows;
  std::vector<std::int64_t> splits;
  for (std::int64_t b = 0; b < B; ++b) {
    rows.push_back(blocks.block(indices[b]));  // L + 1 tokens
    splits.push_back(1 + static_cast<std::int64_t>(
                             rng.uniform_below(static_cast<std::uint64_t>(L - 1))));  // [1, L - 1]
  }
  if (encoder_decoder_) return encoder_decoder_batch(rows, splits);
  std::vector<std::int64_t> inputs(B * L), labels(B * L);
  for (std::int64_t b = 0; b < B; ++b) {
    for (std::int64_t t = 0; t < L; ++t) {
      inputs[b * L + t] = rows[b].tokens[t];
      labels[b * L + t] = t + 1 >= splits[b] ? rows[b].tokens[t + 1] : kIgnore;
    }
  }
  train::Batch batch;
  batch.tensors["input_ids"] = torch::tensor(inputs, torch::kInt64).reshape({B, L});
  batch.tensors["labels"] = torch::tensor(labels, torch::kInt64).reshape({B, L});
  batch.tensors["prefix_length"] = torch::tensor(splits, torch::kInt64);
  batch.n_tokens = B * L;
  batch.n_targets = (batch.tensors["labels"] != kIgnore).sum().item<std::int64_t>();
  return batch;
}

train::Batch PrefixLmObjective::encoder_decoder_batch(
    const std::vector<data::PackedBlock>& blocks, const std::vector<std::int64_t>& splits) const {
  const auto B = static_cast<std::int64_t>(blocks.size());
  const std::int64_t L = sequence_length_;
  std::vector<std::int64_t> inputs(B * L, pad_), decoder_inputs(B * L, pad_),
      labels(B * L, kIgnore);
  std::vector<std::uint8_t> valid(B * L, 0);
  for (std::int64_t b = 0; b < B; ++b) {
    const std::vector<data::TokenId>& tokens = blocks[b].tokens;  // L + 1
    const std::int64_t p = splits[b];
    for (std::int64_t t = 0; t < p; ++t) {
      inputs[b * L + t] = tokens[t];
      valid[b * L + t] = 1;
    }
    // Targets tokens[p .. L]; the decoder reads them shifted right behind the start token.
    for (std::int64_t u = 0; u < L + 1 - p; ++u) {
      labels[b * L + u] = tokens[p + u];
      if (u > 0) decoder_inputs[b * L + u] = tokens[p + u - 1];
    }
  }
  train::Batch batch;
  batch.tensors["input_ids"] = torch::tensor(inputs, torch::kInt64).reshape({B, L});
  batch.tensors["key_valid"] = torch::tensor(valid, torch::kUInt8).reshape({B, L}).to(torch::kBool);
  batch.tensors["decoder_input_ids"] = torch::tensor(decoder_inputs, torch::kInt64).reshape({B, L});
  batch.tensors["labels"] = torch::tensor(labels, torch::kInt64).reshape({B, L});
  batch.tensors["prefix_length"] = torch::tensor(splits, torch::kInt64);
  batch.n_tokens = B * (L + 1);  // p prefix tokens and L + 1 - p targets per row
  batch.n_targets = (batch.tensors["labels"] != kIgnore).sum().item<std::int64_t>();
  return batch;
}

at::Tensor PrefixLmObjective::hidden_states(const train::Batch& batch, bool with_masks) {
  arch::ArchitectureInputs inputs{.token_ids = batch.at("input_ids")};
  if (encoder_decoder_) {
    inputs.decoder_token_ids = batch.at("decoder_input_ids");
    if (with_masks) inputs.key_valid = batch.at("key_valid");
  } else if (with_masks) {
    inputs.prefix_length = batch.at("prefix_length");
  }
  return model_->hidden_states(inputs);
}

void register_prefix_lm() {
  objective_registry().add(
      "prefix_lm",
      "prefix language modelling: a random split, a bidirectional prefix (decoder) or the "
      "prefix as encoder input (encoder_decoder), loss after the split",
      config::Schema{},
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<PrefixLmObjective>(options, context);
      },
      accepts_architectures("prefix_lm", {"decoder", "encoder_decoder"}));
}

}  // namespace sslx::objectives
