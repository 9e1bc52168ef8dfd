#include "objectives/dpo.h"

#include <torch/torch.h>

#include "objectives/batch_indices.h"
#include "objectives/file_splits.h"
#include "objectives/run_checks.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::objectives {
DpoObjective::DpoObjective(const config::Node& options, const ObjectiveContext& context)
    : FileSplitObjective(context,
                         [&](const std::string& files_key, PairCounts& counts) {
                           return read_preference_split(options, files_key, context.tokenizer,
                                                        context.trainer.sequence_length, "dpo",
                                                        counts);
                         }),
      beta_(options.get_float("beta")),
      label_smoothing_(options.get_float("label_smoothing")),
      kind_(rl::preference_loss_from(options.get_string("loss"))),
      pad_(context.tokenizer.specials().pad.value_or(context.tokenizer.specials().require_eos())) {
  require_architecture("dpo", context.model, {"decoder"});
  auto models = policy_and_reference(context.model, context.tokenizer.vocab_size(),
                                     options.get_string("init_from"));
  policy_ = models.policy;
  reference_ = models.reference;
}

double DpoObjective::training_flops_per_token() const {
  // The policy's forward and backward, and the reference's forward once per pair (cached).
  return policy_->backbone->training_flops_per_token(sequence_length_);
}

at::Tensor DpoObjective::sequence_log_probs(LanguageModelImpl& model,
                                            const train::Batch& batch) const {
  const at::Tensor& ids = batch.at("input_ids");    // (R, T), R = 2B rows
  const at::Tensor& valid = batch.at("key_valid");  // (R, T)
  const at::Tensor logits = model.logits({.token_ids = ids, .key_valid = valid});  // (R, T, V)
  const std::int64_t T = ids.size(1);
  // Position t predicts token t + 1; a response token is one at or after the prompt.
  const at::Tensor targets = ids.slice(1, 1, T);
  const at::Tensor log_p = torch::log_softmax(logits.slice(1, 0, T - 1), -1)
                               .gather(2, targets.unsqueeze(2))
                               .squeeze(2);                                      // (R, T - 1)
  const at::Tensor prompt = batch.at("prompt_length").repeat({2}).unsqueeze(1);  // (R, 1)
  const at::Tensor position = torch::arange(1, T, ids.options()).unsqueeze(0);   // (1, T - 1)
  const at::Tensor response = ((position >= prompt) & valid.slice(1, 1, T)).to(log_p.dtype());
  const at::Tensor sums = (log_p * response).sum(1);
  if (kind_ == rl::PreferenceLoss::ipo) return sums / response.sum(1).clamp_min(1);
  return sums;
}

const at::Tensor& DpoObjective::reference_log_probs(bool validation) {
  at::Tensor& cache = validation ? reference_validation_ : reference_train_;
  if (cache.defined()) return cache;
  const auto& pairs = validation ? validation_ : train_;
  const torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (std::int64_t index = 0;; ++index) {
    const auto indices =
        evaluation_indices(index, batch_size_, static_cast<std::int64_t>(pairs.size()));
    if (indices.empty()) break;
    const train::Batch batch = preference_batch(pairs, indices, pad_).to(device_);
    // Chosen rows, then rejected rows; kept on the CPU, where batches are built.
    const at::Tensor rows = sequence_log_probs(*reference_, batch).cpu();
    const auto B = static_cast<std::int64_t>(indices.size());
    parts.push_back(torch::stack({rows.slice(0, 0, B), rows.slice(0, B, 2 * B)}, 1));
  }
  cache = torch::cat(parts, 0);  // (pairs, 2)
  return cache;
}

train::Batch DpoObjective::batch_of(data::Split split, const std::vector<std::int64_t>& indices) {
  const at::Tensor reference = reference_log_probs(split == data::Split::kValidation)
                                   .index_select(0, torch::tensor(indices, torch::kLong));
  train::Batch batch = preference_batch(examples(split), indices, pad_);
  batch.tensors["reference_chosen"] = reference.select(1, 0);
  batch.tensors["reference_rejected"] = reference.select(1, 1);
  return batch;
}

train::LossTerms DpoObjective::loss(const train::Batch& batch) {
  const at::Tensor rows = sequence_log_probs(*policy_, batch);
  const std::int64_t B = batch.n_targets;
  const rl::PreferenceTerms terms = rl::preference_losses(
      rows.slice(0, 0, B), rows.slice(0, B, 2 * B), batch.at("reference_chosen"),
      batch.at("reference_rejected"), beta_, label_smoothing_, kind_);
  const auto pairs = static_cast<double>(B);
  train::LossTerms loss{.loss_sum = terms.losses.sum(), .n_targets = B};
  loss.metrics["accuracy"] = {(terms.chosen_rewards > terms.rejected_rewards).sum().item<double>(),
                              pairs};
  loss.metrics["margin"] = {(terms.chosen_rewards - terms.rejected_rewards).sum().item<double>(),
                            pairs};
  loss.metrics["chosen_reward"] = {terms.chosen_rewards.sum().item<double>(), pairs};
  loss.metrics["rejected_reward"] = {terms.rejected_rewards.sum().item<double>(), pairs};
  return loss;
}

void DpoObjective::save_state(train::TrainerState& state) const {
  FileSplitObjective::save_state(state);
  if (reference_train_.defined()) state.tensors["dpo/reference_train"] = reference_train_;
  if (reference_validation_.defined())
    state.tensors["dpo/reference_validation"] = reference_validation_;
}

void DpoObjective::to_device(const c10::Device& device) {
  device_ = device;
  policy_->to(device);
  reference_->to(device);
}

void DpoObjective::load_state(const train::TrainerState& state) {
  FileSplitObjective::load_state(state);
  const auto restore = [&state](const std::string& name, std::size_t pairs, at::Tensor& cache) {
    const auto it = state.tensors.find(name);
    if (it == state.tensors.end()) return;
    if (it->second.size(0) != static_cast<std::int64_t>(pairs)) {
      throw Error("the checkpoint's " + name + " holds " + std::to_string(it->second.size(0)) +
                      " pairs, the data " + std::to_string(pairs),
                  "the preference files changed since the run started: start it afresh");
    }
    cache = it->second.cpu();
  };
  restore("dpo/reference_train", train_.size(), reference_train_);
  restore("dpo/reference_validation", validation_.size(), reference_validation_);
}

void register_dpo() {
  config::Schema schema;
  add_preference_fields(schema);
  add_init_from_field(schema,
                      "checkpoint directory of the SFT run: the policy's start and the reference; "
                      "or \"hf:DIR\", a Hugging Face model directory");
  schema.add({.key = "loss",
              .type = config::Type::kString,
              .default_value = "sigmoid",
              .doc = "sigmoid (DPO) or ipo (IPO's squared loss on mean token log-ratios)",
              .choices = {"sigmoid", "ipo"}});
  schema.add({.key = "beta",
              .type = config::Type::kFloat,
              .default_value = 0.1,
              .doc = "strength of the KL leash to the reference (DPO's beta, IPO's tau)",
              .min = 1e-6});
  schema.add({.key = "label_smoothing",
              .type = config::Type::kFloat,
              .default_value = 0.0,
              .doc = "probability that a label is flipped (conservative DPO); sigmoid loss only",
              .min = 0.0,
              .max = 0.5});
  objective_registry().add(
      "dpo", "DPO / IPO: preference pairs against a frozen reference, no reward model",
      std::move(schema),
      [](const config::Node& options, const ObjectiveContext& context) {
        return std::make_unique<DpoObjective>(options, context);
      },
      all_of({accepts_architectures("dpo", {"decoder"}), check_init_from, check_files_exist}));
}

}  // namespace sslx::objectives
