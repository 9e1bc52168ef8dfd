// Sums a model's gradients over the ranks while the backward pass is still running, as PyTorch
// DistributedDataParallel's reducer does: the parameters go into buckets of about
// `bucket_bytes`, in reverse registration order (the order in which backward produces their
// gradients), and a hook on each parameter's gradient accumulator starts a bucket's all-reduce
// as soon as the last gradient of the bucket has been accumulated. Buckets start in the same
// order on every rank (a bucket waits for the ones before it), as Gloo requires; those whose
// gradients never came (parameters a step did not use) start when the step finishes.
//
// Only the step's last backward pass is reduced (arm() before it): earlier micro-batches of a
// gradient-accumulation step only accumulate.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "dist/process_group.h"

namespace sslx::train {

class GradientReducer {
 public:
  // `parameters`: distinct tensors, the same list on every rank (train::distinct_parameters).
  GradientReducer(dist::ProcessGroup& group, const std::vector<at::Tensor>& parameters,
                  std::size_t bucket_bytes);
  ~GradientReducer();  // removes its hooks
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // The next backward pass is the step's last: reduce its buckets as they fill.
  void arm();
  // Starts the buckets not started yet, waits for all and writes the sums into the gradients
  // (a parameter without a gradient gets the sum of the others', or zeros).
  void finish();

  std::size_t bucket_count() const;
  // Buckets of the last finished step whose all-reduce started during the backward pass.
  std::size_t started_during_backward() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace sslx::train
