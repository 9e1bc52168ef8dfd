#include "eval/classification_metrics.h"

#include <algorithm>
#include <numeric>

#include "util/error.h"

namespace sslx::eval {
namespace {

void check_label(std::int64_t label, std::int64_t n_classes, const char* what) {
  if (label < 0 || label >= n_classes) {
    throw Error(std::string(what) + " label " + std::to_string(label) + " is outside [0, " +
                std::to_string(n_classes) + ")");
  }
}

}  // namespace

Confusion Confusion::of(const std::vector<std::int64_t>& truth,
                        const std::vector<std::int64_t>& predicted, std::int64_t n_classes) {
  if (truth.size() != predicted.size()) {
    throw Error("confusion matrix: " + std::to_string(truth.size()) + " true labels but " +
                std::to_string(predicted.size()) + " predictions");
  }
  Confusion confusion{.n_classes = n_classes,
                      .counts = std::vector<std::int64_t>(n_classes * n_classes, 0)};
  for (std::size_t i = 0; i < truth.size(); ++i) {
    check_label(truth[i], n_classes, "true");
    check_label(predicted[i], n_classes, "predicted");
    ++confusion.counts[truth[i] * n_classes + predicted[i]];
  }
  return confusion;
}

std::int64_t Confusion::total() const {
  return std::accumulate(counts.begin(), counts.end(), std::int64_t{0});
}

double accuracy(const Confusion& confusion) {
  const std::int64_t total = confusion.total();
  if (total == 0) throw Error("accuracy of an empty set of examples");
  std::int64_t correct = 0;
  for (std::int64_t k = 0; k < confusion.n_classes; ++k)
    correct += confusion.at(k, k);
  return static_cast<double>(correct) / static_cast<double>(total);
}

double macro_f1(const Confusion& confusion) {
  if (confusion.total() == 0) throw Error("macro-F1 of an empty set of examples");
  const std::int64_t K = confusion.n_classes;
  double sum = 0;
  std::int64_t classes = 0;
  for (std::int64_t k = 0; k < K; ++k) {
    std::int64_t as_truth = 0, as_prediction = 0;
    for (std::int64_t j = 0; j < K; ++j) {
      as_truth += confusion.at(k, j);
      as_prediction += confusion.at(j, k);
    }
    if (as_truth == 0 && as_prediction == 0) continue;
    const std::int64_t tp = confusion.at(k, k);
    // 2 TP + FP + FN = (TP + FN) + (TP + FP)
    sum += 2.0 * static_cast<double>(tp) / static_cast<double>(as_truth + as_prediction);
    ++classes;
  }
  return sum / static_cast<double>(classes);
}

double majority_accuracy(const std::vector<std::int64_t>& train,
                         const std::vector<std::int64_t>& test, std::int64_t n_classes) {
  if (train.empty() || test.empty()) throw Error("majority baseline of an empty split");
  std::vector<std::int64_t> counts(n_classes, 0);
  for (const auto label : train) {
    check_label(label, n_classes, "train");
    ++counts[label];
  }
  const auto majority = std::max_element(counts.begin(), counts.end()) - counts.begin();
  const auto hits = std::count(test.begin(), test.end(), majority);
  return static_cast<double>(hits) / static_cast<double>(test.size());
}

}  // namespace sslx::eval
