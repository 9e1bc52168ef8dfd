#include "nn/cross_entropy.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

namespace sslx::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per block: about 2 MB of float logits, so that the passes over a block after the first
// (exp, sum; in backward: exp, scale) read it from the cache instead of memory.
std::int64_t rows_per_block(std::int64_t classes) {
  return std::max<std::int64_t>(1, (std::int64_t{1} << 19) / std::max<std::int64_t>(1, classes));
}

// inputs: logits (N, V) float32 contiguous, labels (N) long with ignored rows already set to 0,
// weights (N) float32: 1 for a row with a label, 0 for an ignored one.
// outputs: loss_sum (), predictions (N).
class FusedCrossEntropy : public torch::autograd::Function<FusedCrossEntropy> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& logits,
                               const at::Tensor& labels, const at::Tensor& weights) {
    const std::int64_t N = logits.size(0), V = logits.size(1), block = rows_per_block(V);
    // log sum_j exp(x_j) = max + log_sum with log_sum = log sum_j exp(x_j - max), kept apart
    // (as log_softmax computes it): x - max is exact near the maximum, where it matters.
    at::Tensor max = at::empty({N, 1}, logits.options());
    at::Tensor log_sum = at::empty({N, 1}, logits.options());
    at::Tensor predictions = at::empty({N}, labels.options());
    for (std::int64_t begin = 0; begin < N; begin += block) {
      const std::int64_t end = std::min(N, begin + block);
      const at::Tensor x = logits.slice(0, begin, end);
      auto [block_max, arg_max] = x.max(1, /*keepdim=*/true);
      max.slice(0, begin, end).copy_(block_max);
      log_sum.slice(0, begin, end).copy_((x - block_max).exp_().sum(1, true).log_());
      predictions.slice(0, begin, end).copy_(arg_max.squeeze(1));
    }
    const at::Tensor picked = logits.gather(1, labels.unsqueeze(1));  // (N, 1)
    const at::Tensor loss_sum = (((max - picked) + log_sum).squeeze(1) * weights).sum();
    ctx->save_for_backward({logits, labels, weights, max, log_sum});
    ctx->mark_non_differentiable({predictions});
    return {loss_sum, predictions};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &logits = saved[0], &labels = saved[1], &weights = saved[2], &max = saved[3],
                     &log_sum = saved[4];
    // d loss_sum / d logits[i, j] = weights[i] (softmax(logits[i])[j] - [j == labels[i]]).
    const at::Tensor row_scale = (weights * grad_outputs[0]).unsqueeze(1);  // (N, 1)
    const std::int64_t N = logits.size(0), V = logits.size(1), block = rows_per_block(V);
    at::Tensor grad = at::empty_like(logits);
    for (std::int64_t begin = 0; begin < N; begin += block) {
      const std::int64_t end = std::min(N, begin + block);
      at::Tensor g = grad.slice(0, begin, end);
      at::sub_out(g, logits.slice(0, begin, end), max.slice(0, begin, end));
      g.sub_(log_sum.slice(0, begin, end)).exp_().mul_(row_scale.slice(0, begin, end));
    }
    grad.scatter_add_(1, labels.unsqueeze(1), -row_scale);
    return {grad, at::Tensor(), at::Tensor()};
  }
};

void check_inputs(const at::Tensor& logits, const at::Tensor& labels, std::int64_t ignore_index) {
  TORCH_CHECK(logits.dim() == 2 && logits.is_floating_point(),
              "token_cross_entropy: logits must be (N, V) floating, got ", logits.sizes(), " ",
              logits.scalar_type());
  TORCH_CHECK(labels.dim() == 1 && labels.size(0) == logits.size(0) && !labels.is_floating_point(),
              "token_cross_entropy: labels must be (N = ", logits.size(0), ") integer, got ",
              labels.sizes(), " ", labels.scalar_type());
  const at::Tensor out_of_range =
      (labels != ignore_index) & ((labels < 0) | (labels >= logits.size(1)));
  TORCH_CHECK(!out_of_range.any().item<bool>(), "token_cross_entropy: a label is outside [0, ",
              logits.size(1), ") and is not the ignore index ", ignore_index);
}

}  // namespace

TokenCrossEntropy token_cross_entropy(const at::Tensor& logits, const at::Tensor& labels,
                                      std::int64_t ignore_index, bool fused) {
  check_inputs(logits, labels, ignore_index);
  // float32 as autocast computes a cross-entropy; float64 stays (the gradient checks use it).
  const at::Tensor x =
      (logits.scalar_type() == at::kDouble ? logits : logits.to(at::kFloat)).contiguous();
  if (!fused) {
    return {.loss_sum =
                at::cross_entropy_loss(x, labels, /*weight=*/{}, at::Reduction::Sum, ignore_index),
            .predictions = x.detach().argmax(1)};
  }
  const at::Tensor valid = labels != ignore_index;
  const at::Tensor safe_labels = labels.to(at::kLong).masked_fill(valid.logical_not(), 0);
  const variable_list outputs = FusedCrossEntropy::apply(x, safe_labels, valid.to(x.scalar_type()));
  return {.loss_sum = outputs[0], .predictions = outputs[1]};
}

}  // namespace sslx::nn
