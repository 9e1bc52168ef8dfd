// The linear probe: a frozen backbone's pooled features, a multinomial logistic regression with
// L2 trained full-batch with L-BFGS on the task's train split, scored on its test split.
//
// Dimensions: N examples, E features, K classes.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace sslx::eval {

struct LogisticRegressionOptions {
  double l2 = 1e-3;  // loss = mean cross-entropy + l2 / 2 * |W|^2 (the bias is not penalised)
  std::int64_t max_iterations = 200;
};

// Features are standardised with the training mean and standard deviation first, so one l2
// means the same for backbones whose features have different scales.
struct LinearClassifier {
  at::Tensor mean, scale;   // (E)
  at::Tensor weight, bias;  // (E, K), (K)
  // x (N, E) -> predicted class indices
  std::vector<std::int64_t> predict(const at::Tensor& x) const;
};

// x (N, E) float, labels N indices in [0, K). Deterministic (zero initialisation, float64).
LinearClassifier fit_logistic_regression(const at::Tensor& x,
                                         const std::vector<std::int64_t>& labels,
                                         std::int64_t n_classes,
                                         const LogisticRegressionOptions& options);

}  // namespace sslx::eval
