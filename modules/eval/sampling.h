// The sampling distribution of one generation step, as a pure function of the logits (no
// LibTorch): temperature, then top-k, then top-p (nucleus) filtering, then renormalisation —
// the order of Hugging Face's generate() and of the nucleus-sampling paper.
//
// V vocabulary.
#pragma once

#include <cstdint>
#include <vector>

namespace sslx::eval {

struct SamplingOptions {
  double temperature = 1.0;  // 0: greedy (all mass on the argmax)
  std::int64_t top_k = 0;    // keep the k most likely tokens; 0: off
  double top_p = 1.0;        // keep the smallest most-likely set with mass >= top_p; 1: off
};

// logits (V) -> probabilities (V) summing to 1, zero for filtered tokens. Ties in the ranking
// go to the lower token id, so the result is deterministic. At least one token always survives.
std::vector<double> sampling_distribution(const std::vector<float>& logits,
                                          const SamplingOptions& options);

// The index i where the cumulative probability first exceeds u (u uniform in [0, 1)); zero-
// probability entries are never chosen.
std::int64_t sample_index(const std::vector<double>& probabilities, double u);

}  // namespace sslx::eval
