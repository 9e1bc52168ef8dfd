#include "objectives/clm.h"

#include <torch/torch.h>

#include "objectives/mlm_masking.h"
#include "objectives/run_checks.h"

namespace sslx::objectives {

// CLM draws nothing at random: no stream beside the sampler.
ClmObjective::ClmObjective(const config::Node& options, const ObjectiveContext& context)
    : BlockLmObjective(context, "", context.tokenizer.specials().require_eos(),
                       context.trainer.sequence_length + 1),
      document_mask_(options.get_bool("document_mask")) {
  require_architecture("clm", context.model, {"decoder"});
  model_ = LanguageModel(context.model, context.tokenizer.vocab_size());
}

train::StreamPrediction ClmObjective::stream_prediction() const {
  return {.next_token = true,
          .gap = document_mask_ ? "objective.document_mask = true: the first token of each "
                                  "document is not predicted"
                                : ""};
}

double ClmObjective::training_flops_per_token() const {
  return model_->backbone->training_flops_per_token(sequence_length_);
}

train::Batch ClmObjective::batch_of(const data::PackedBlocks& blocks,
                                    const std::vector<std::int64_t>& indices, RngStream&) const {
  const auto B = static_cast<std::int64_t>(indices.size());
  const std::int64_t L = sequence_length_;
  std::vector<std::int64_t> inputs(B * L), labels(B * L), segments(B * L), positions(B * L);
  for (std::int64_t b = 0; b < B; ++b) {
    const data::PackedBlock block = blocks.block(indices[b]);  // L + 1 tokens
    for (std::int64_t t = 0; t < L; ++t) {
      inputs[b * L + t] = block.tokens[t];
      labels[b * L + t] = block.tokens[t + 1];
      segments[b * L + t] = block.segment_ids[t];
      positions[b * L + t] = block.position_ids[t];
      // The EOS ending a document would be trained to predict the next document's first token.
      if (document_mask_ && block.segment_ids[t + 1] != block.segment_ids[t]) {
        labels[b * L + t] = kIgnore;
      }
    }
  }
  const auto tensor = [B, L](const std::vector<std::int64_t>& values) {
    return torch::tensor(values, torch::kInt64).reshape({B, L});
  };
  train::Batch batch;
  batch.tensors["input_ids"] = tensor(inputs);
  batch.tensors["labels"] = tensor(labels);
  if (document_mask_) {
    batch.tensors["segment_ids"] = tensor(segments);
    batch.tensors["position_ids"] = tensor(positions);
  }
  batch.n_tokens = B * L;
  batch.n_targets = (batch.tensors["labels"] != kIgnore).sum().item<std::int64_t>();
  return batch;
}

at::Tensor ClmObjective::hidden_states(const train::Batch& batch) {
  arch::ArchitectureInputs inputs{.token_ids = batch.at("input_ids")};
  if (document_mask_) {
    inputs.segment_ids = batch.at("segment_ids");
    inputs.position_ids = batch.at("position_ids");
  }
  return model_->hidden_states(inputs);
}

void register_clm() {
  config::Schema schema;
  schema.add({.key = "document_mask",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "keep attention, positions and labels inside each packed document"});
  objective_registry().add(
      "clm", "causal language modelling (GPT): next-token prediction on a decoder", schema,
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<ClmObjective>(options, context);
      },
      accepts_architectures("clm", {"decoder"}));
}

}  // namespace sslx::objectives
