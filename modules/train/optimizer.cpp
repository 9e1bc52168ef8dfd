#include "train/optimizer.h"

#include <torch/nn/modules/embedding.h>

#include <cstdio>
#include <set>

#include "nn/lookup_table.h"

namespace sslx::train {
namespace {

std::string human(std::int64_t count) {
  char buffer[32];
  if (count >= 1000000) {
    std::snprintf(buffer, sizeof buffer, "%.2fM", count / 1e6);
  } else if (count >= 1000) {
    std::snprintf(buffer, sizeof buffer, "%.1fk", count / 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(count));
  }
  return buffer;
}

}  // namespace

ParameterGroups split_for_weight_decay(const torch::nn::Module& module,
                                       const OptimizerOptions& options) {
  // Embedding tables are found by what their module is, not by name: any Embedding's weight and
  // every nn::LookupTable's (learned positions, relative-position buckets).
  std::set<const void*> embeddings;
  for (const auto& item : module.named_modules()) {
    if (const auto* embedding = item.value()->as<torch::nn::EmbeddingImpl>()) {
      embeddings.insert(embedding->weight.unsafeGetTensorImpl());
    } else if (const auto* table = dynamic_cast<const nn::LookupTable*>(item.value().get())) {
      embeddings.insert(table->table().unsafeGetTensorImpl());
    }
  }
  ParameterGroups groups;
  std::set<const void*> seen;  // tied weights appear under several names; optimise them once
  for (const auto& item : module.named_parameters(/*recurse=*/true)) {
    const at::Tensor& parameter = item.value();
    if (!parameter.requires_grad() || !seen.insert(parameter.unsafeGetTensorImpl()).second)
      continue;
    const bool is_embedding = embeddings.count(parameter.unsafeGetTensorImpl()) > 0;
    const bool decays = is_embedding ? options.decay_embeddings
                                     : (parameter.dim() >= 2 || options.decay_biases_and_norms);
    if (decays) {
      groups.decay.push_back(parameter);
      groups.decay_names.push_back(item.key());
      groups.decay_elements += parameter.numel();
    } else {
      groups.no_decay.push_back(parameter);
      groups.no_decay_names.push_back(item.key());
      groups.no_decay_elements += parameter.numel();
    }
  }
  return groups;
}

std::string describe(const ParameterGroups& groups, const OptimizerOptions& options) {
  char decay[32];
  std::snprintf(decay, sizeof decay, "%g", options.weight_decay);
  return "weight decay " + std::string(decay) + " on " + std::to_string(groups.decay.size()) +
         " tensors (" + human(groups.decay_elements) + " values); no decay on " +
         std::to_string(groups.no_decay.size()) + " tensors (" + human(groups.no_decay_elements) +
         " values)";
}

std::unique_ptr<torch::optim::AdamW> make_adamw(const ParameterGroups& groups,
                                                const OptimizerOptions& options) {
  const auto base =
      torch::optim::AdamWOptions(options.lr).betas({options.beta1, options.beta2}).eps(options.eps);
  std::vector<torch::optim::OptimizerParamGroup> param_groups;
  if (!groups.decay.empty()) {
    param_groups.emplace_back(
        groups.decay, std::make_unique<torch::optim::AdamWOptions>(
                          torch::optim::AdamWOptions(base).weight_decay(options.weight_decay)));
  }
  if (!groups.no_decay.empty()) {
    param_groups.emplace_back(groups.no_decay,
                              std::make_unique<torch::optim::AdamWOptions>(
                                  torch::optim::AdamWOptions(base).weight_decay(0.0)));
  }
  return std::make_unique<torch::optim::AdamW>(std::move(param_groups), base);
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

}  // namespace sslx::train
