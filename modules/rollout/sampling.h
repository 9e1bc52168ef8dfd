// The sampling distribution of one generation step, for a whole batch at once: temperature, then
// top-k, then top-p (nucleus) filtering, then renormalisation — the order of Hugging Face's
// generate() and of the nucleus-sampling paper. Computed in float64 so that the distribution, and
// so a sample, does not depend on summation order.
//
// Dimensions: B rows (sequences), V vocabulary.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace sslx::rollout {

struct SamplingOptions {
  double temperature = 1.0;  // 0: greedy (all mass on the argmax)
  std::int64_t top_k = 0;    // keep the k most likely tokens; 0: off
  double top_p = 1.0;        // keep the smallest most-likely set with mass >= top_p; 1: off
};

// Throws sslx::Error naming the option that is out of range.
void check_sampling_options(const SamplingOptions& options);

// logits (B, V) -> probabilities (B, V) float64, each row summing to 1, zero for filtered tokens.
// Ties in the ranking go to the lower token id, so the result is deterministic. At least one
// token of each row always survives.
at::Tensor sampling_probabilities(const at::Tensor& logits, const SamplingOptions& options);

// probabilities (B, V), u (B) float64 uniform in [0, 1) -> (B) int64: the index where the row's
// cumulative probability first exceeds u. Zero-probability entries are never chosen.
at::Tensor sample_indices(const at::Tensor& probabilities, const at::Tensor& u);

// log-probabilities (B, ..., V) of the distribution that the policy is trained as: the
// log-softmax of logits / temperature (temperature 0 counts as 1: greedy decoding has no density
// of its own). Top-k and top-p truncate the sampling distribution further; they are for
// evaluation, and the RL objectives keep them off so that samples follow these probabilities.
at::Tensor policy_log_probs(const at::Tensor& logits, double temperature);

}  // namespace sslx::rollout
