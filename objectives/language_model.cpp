#include "objectives/language_model.h"

#include <torch/torch.h>

#include "architectures/architecture_registry.h"
#include "interop/hf_import.h"
#include "nn/cross_entropy.h"
#include "nn/state_io.h"
#include "objectives/mlm_masking.h"
#include "train/checkpoint.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {

LanguageModelImpl::LanguageModelImpl(const config::Node& model, std::int64_t vocab_size) {
  backbone = register_module(
      "backbone", std::shared_ptr<arch::Architecture>(
                      arch::architecture_registry().create(model, vocab_size).release()));
  lm_head = register_module("lm_head", arch::lm_head_for(*backbone));
}

at::Tensor LanguageModelImpl::hidden_states(const arch::ArchitectureInputs& inputs) {
  return backbone->forward(inputs).hidden_states;
}

at::Tensor LanguageModelImpl::logits(const arch::ArchitectureInputs& inputs) {
  return lm_head(hidden_states(inputs));
}

void load_pretrained(LanguageModelImpl& model, const std::filesystem::path& directory) {
  if (const auto hf = interop::hf_reference(directory.string())) {
    const interop::HfDirectory source = interop::read_hf_directory(*hf);
    interop::require_language_model(source, "init_from");
    nn::load_state(model, interop::read_hf_weights(source), "hf:" + hf->string());
    console::info("init_from: loaded " + source.family->hf_class() + " from " + hf->string());
    return;
  }
  const auto file = train::resolve_checkpoint(directory) / "model.pt";
  if (!std::filesystem::is_regular_file(file)) {
    throw Error(
        "init_from: " + directory.string() + " holds no checkpoint (no " + file.string() + ")",
        "give a checkpoint directory (<run>/checkpoints/step-NNNNNNNN), a run's "
        "checkpoints/ folder or a run folder");
  }
  nn::load_state(model, train::model_file(file.parent_path()));
  console::info("init_from: loaded " + file.string());
}

void copy_state(const torch::nn::Module& from, torch::nn::Module& to) {
  const std::map<std::string, at::Tensor> source = nn::named_state(from);
  std::vector<std::pair<at::Tensor, at::Tensor>> copies;
  std::size_t count = 0;
  const auto collect = [&](const std::string& name, const at::Tensor& target) {
    const auto it = source.find(name);
    TORCH_CHECK(it != source.end(), "copy_state: the source has no \"", name, "\"");
    TORCH_CHECK(it->second.sizes() == target.sizes(), "copy_state: \"", name, "\" is ",
                it->second.sizes(), " in the source and ", target.sizes(), " in the target");
    copies.emplace_back(target, it->second);
    ++count;
  };
  for (const auto& item : to.named_parameters())
    collect(item.key(), item.value());
  for (const auto& item : to.named_buffers())
    collect(item.key(), item.value());
  TORCH_CHECK(count == source.size(), "copy_state: the source has ", source.size(),
              " tensors and the target ", count);
  const at::NoGradGuard no_grad;
  for (auto& [target, value] : copies)
    target.copy_(value);
}

PolicyAndReference policy_and_reference(const config::Node& model, std::int64_t vocab_size,
                                        const std::string& init_from) {
  PolicyAndReference models{.policy = LanguageModel(model, vocab_size),
                            .reference = LanguageModel(model, vocab_size)};
  if (!init_from.empty()) load_pretrained(*models.policy, init_from);
  copy_state(*models.policy, *models.reference);
  models.reference->eval();
  for (auto& parameter : models.reference->parameters())
    parameter.requires_grad_(false);
  return models;
}

namespace {

// Loss terms from the cross-entropy of `labels` (N), which hold no kIgnore or are counted
// without it.
train::LossTerms loss_terms(const nn::TokenCrossEntropy& entropy, const at::Tensor& labels) {
  const at::Tensor valid = labels != kIgnore;
  train::LossTerms terms;
  terms.loss_sum = entropy.loss_sum;
  terms.n_targets = valid.sum().item<std::int64_t>();
  const at::Tensor correct = (entropy.predictions == labels) & valid;
  terms.metrics["accuracy"] = {static_cast<double>(correct.sum().item<std::int64_t>()),
                               static_cast<double>(terms.n_targets)};
  return terms;
}

}  // namespace

train::LossTerms next_token_loss(const at::Tensor& logits, const at::Tensor& labels) {
  // logits (B, T, V), labels (B, T)
  const at::Tensor flat_labels = labels.reshape({-1});
  return loss_terms(nn::token_cross_entropy(logits.reshape({-1, logits.size(-1)}), flat_labels,
                                            kIgnore, /*fused=*/false),
                    flat_labels);
}

train::LossTerms token_loss(LanguageModelImpl& model, const at::Tensor& hidden,
                            const at::Tensor& labels, const train::TokenLossOptions& options) {
  // hidden (B, T, E), labels (B, T)
  at::Tensor rows = hidden.reshape({-1, hidden.size(-1)});  // (B T, E)
  at::Tensor row_labels = labels.reshape({-1});
  if (options.labelled_rows_only) {
    const at::Tensor labelled = (row_labels != kIgnore).nonzero().squeeze(1);  // (N)
    if (labelled.size(0) < row_labels.size(0)) {  // CLM labels every row: nothing to select
      rows = rows.index_select(0, labelled);
      row_labels = row_labels.index_select(0, labelled);
    }
  }
  const at::Tensor logits = model.lm_head(rows.unsqueeze(0)).squeeze(0);  // (N, V)
  return loss_terms(
      nn::token_cross_entropy(logits, row_labels, kIgnore, options.fused_cross_entropy),
      row_labels);
}

}  // namespace sslx::objectives
