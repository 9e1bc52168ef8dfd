#include "objectives/clm.h"

#include <torch/nn/functional/loss.h>
#include <torch/torch.h>

#include "objectives/batch_indices.h"
#include "objectives/mlm_masking.h"
#include "objectives/run_checks.h"

namespace sslx::objectives {

namespace F = torch::nn::functional;

train::LossTerms next_token_loss(const at::Tensor& logits, const at::Tensor& labels) {
  // logits (B, T, V), labels (B, T)
  const auto vocab = logits.size(-1);
  const at::Tensor flat_labels = labels.reshape({-1});
  train::LossTerms terms;
  terms.loss_sum =
      F::cross_entropy(logits.reshape({-1, vocab}), flat_labels,
                       F::CrossEntropyFuncOptions().ignore_index(kIgnore).reduction(torch::kSum));
  const at::Tensor valid = flat_labels != kIgnore;
  terms.n_targets = valid.sum().item<std::int64_t>();
  const at::Tensor correct = (logits.reshape({-1, vocab}).argmax(-1) == flat_labels) & valid;
  terms.metrics["accuracy"] = {static_cast<double>(correct.sum().item<std::int64_t>()),
                               static_cast<double>(terms.n_targets)};
  return terms;
}

ClmObjective::ClmObjective(const config::Node& options, const ObjectiveContext& context)
    : document_mask_(options.get_bool("document_mask")),
      batch_size_(context.trainer.batch_size),
      sequence_length_(context.trainer.sequence_length),
      blocks_(context.corpus, context.tokenizer.specials().require_eos(), sequence_length_ + 1),
      sampler_(training_sampler(blocks_.train().size(), context.seed)) {
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
                                    const std::vector<std::int64_t>& indices) const {
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

train::Batch ClmObjective::train_batch() {
  const auto indices = sampled_indices(sampler_, batch_size_);
  return batch_of(blocks_.train(), indices);
}

bool ClmObjective::eval_batch(data::Split split, std::int64_t index, train::Batch& batch) {
  const data::PackedBlocks& blocks = blocks_.of(split);
  const auto indices = evaluation_indices(index, batch_size_, blocks.size());
  if (indices.empty()) return false;
  batch = batch_of(blocks, indices);
  return true;
}

train::LossTerms ClmObjective::loss(const train::Batch& batch) {
  arch::ArchitectureInputs inputs{.token_ids = batch.at("input_ids")};
  if (document_mask_) {
    inputs.segment_ids = batch.at("segment_ids");
    inputs.position_ids = batch.at("position_ids");
  }
  return next_token_loss(model_->logits(inputs), batch.at("labels"));
}

void ClmObjective::save_state(train::TrainerState& state) const {
  state.sampler = sampler_.state();
}

void ClmObjective::load_state(const train::TrainerState& state) {
  sampler_.restore(state.sampler);
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
