// Classification metrics from predicted and true class indices, as pure functions (no LibTorch)
// so they can be checked against hand-computed values.
//
// K classes; labels are indices in [0, K).
#pragma once

#include <cstdint>
#include <vector>

namespace sslx::eval {

// counts[t * K + p]: examples of true class t predicted as p.
struct Confusion {
  std::int64_t n_classes = 0;
  std::vector<std::int64_t> counts;

  static Confusion of(const std::vector<std::int64_t>& truth,
                      const std::vector<std::int64_t>& predicted, std::int64_t n_classes);
  std::int64_t at(std::int64_t truth, std::int64_t predicted) const {
    return counts[truth * n_classes + predicted];
  }
  std::int64_t total() const;
};

// Fraction of examples on the diagonal.
double accuracy(const Confusion& confusion);

// Mean over classes of F1 = 2 TP / (2 TP + FP + FN), over the classes that occur in the truth or
// in the predictions (as scikit-learn's f1_score(average="macro") with labels = those present);
// a class that occurs but is never predicted right scores 0.
double macro_f1(const Confusion& confusion);

// The accuracy on `test` of always answering the most frequent class of `train` (ties: the
// lowest index): the baseline a classifier must beat.
double majority_accuracy(const std::vector<std::int64_t>& train,
                         const std::vector<std::int64_t>& test, std::int64_t n_classes);

}  // namespace sslx::eval
