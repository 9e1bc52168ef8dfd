// AdamW with decoupled weight decay, and the weight-decay policy: which parameters decay.
// Matrices of linear layers decay; biases, norm weights (every 1-D parameter) and embedding
// tables (token, token-type and learned position embeddings, T5's relative-position buckets: every
// torch::nn::Embedding and nn::LookupTable) do not unless configured. The policy is printed at
// start-up so that a run's log says what it did.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/adamw.h>

#include <memory>
#include <string>
#include <vector>

namespace sslx::train {

struct OptimizerOptions {
  double lr = 3e-4;  // overwritten every step by the schedule
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  double weight_decay = 0.1;
  bool decay_biases_and_norms = false;
  bool decay_embeddings = false;
};

struct ParameterGroups {
  std::vector<at::Tensor> decay, no_decay;
  std::vector<std::string> decay_names, no_decay_names;
  std::int64_t decay_elements = 0, no_decay_elements = 0;
};

// Sorts the trainable parameters of `module` by the policy above.
ParameterGroups split_for_weight_decay(const torch::nn::Module& module,
                                       const OptimizerOptions& options);
// "weight decay 0.1 on 8 tensors (1.05M values); no decay on 14 tensors (12.3k values)"
std::string describe(const ParameterGroups& groups, const OptimizerOptions& options);

std::unique_ptr<torch::optim::AdamW> make_adamw(const ParameterGroups& groups,
                                                const OptimizerOptions& options);
void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace sslx::train
