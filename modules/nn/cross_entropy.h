// The cross-entropy of token predictions, summed over the rows that have a label, with each
// row's arg max for accuracy: what every language-model objective takes from its logits.
//
// Dimensions: N rows (positions), V classes (the vocabulary).
// Two ways to compute the same thing:
//   - fused (the default): one autograd function that reads the logits in row blocks small enough
//     to stay in the cache (about 2 MB each). Forward: each block's max, arg max and log-sum-exp;
//     the loss is lse - logit[label]. Backward: (softmax - one_hot) * grad, written block by
//     block from the logits and the saved lse. It never materialises the (N, V) log-softmax
//     (forward) nor the (N, V) gradient of the log-softmax and the one-hot scatter (backward),
//     and gets the arg max from the forward's own max pass instead of one more pass over the
//     logits.
//   - plain: at::cross_entropy (log_softmax + nll_loss) and a separate argmax, kept to compare
//     with (trainer.fused_cross_entropy = false).
// Both compute in float32 (as autocast does for a cross-entropy; float64 logits stay float64) and
// give the same loss and gradients up to rounding.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sslx::nn {

struct TokenCrossEntropy {
  at::Tensor loss_sum;     // () float: sum over rows with a label of -log softmax(logits)[label]
  at::Tensor predictions;  // (N) long: each row's arg max (no gradient)
};

// logits (N, V) floating, labels (N) integer in [0, V) or ignore_index (that row adds nothing).
// Throws (c10::Error) on other shapes and on a label outside [0, V) that is not ignore_index.
TokenCrossEntropy token_cross_entropy(const at::Tensor& logits, const at::Tensor& labels,
                                      std::int64_t ignore_index, bool fused = true);

}  // namespace sslx::nn
