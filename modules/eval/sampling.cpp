#include "eval/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/error.h"

namespace sslx::eval {

std::vector<double> sampling_distribution(const std::vector<float>& logits,
                                          const SamplingOptions& options) {
  const auto V = static_cast<std::int64_t>(logits.size());
  if (V == 0) throw Error("sampling from an empty vocabulary");
  if (options.temperature < 0 || options.top_k < 0 || options.top_p <= 0 || options.top_p > 1) {
    throw Error("sampling options out of range: temperature " +
                std::to_string(options.temperature) + ", top_k " + std::to_string(options.top_k) +
                ", top_p " + std::to_string(options.top_p));
  }
  // Tokens from most to least likely; stable, so ties keep the lower id first.
  std::vector<std::int64_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&logits](std::int64_t a, std::int64_t b) { return logits[a] > logits[b]; });
  std::vector<double> probabilities(V, 0.0);
  if (options.temperature == 0) {
    probabilities[order.front()] = 1.0;
    return probabilities;
  }
  // Softmax of logits / temperature, shifted by the maximum for stability.
  const double top = logits[order.front()];
  double sum = 0;
  for (std::int64_t i = 0; i < V; ++i) {
    probabilities[i] = std::exp((logits[i] - top) / options.temperature);
    sum += probabilities[i];
  }
  for (auto& p : probabilities)
    p /= sum;
  std::int64_t keep = options.top_k > 0 ? std::min(options.top_k, V) : V;
  if (options.top_p < 1) {
    // Renormalised over the top-k survivors: a token is kept when the mass ranked above it is
    // still below top_p (so the token that crosses top_p is kept, and at least one is).
    double kept_mass = 0;
    for (std::int64_t r = 0; r < keep; ++r)
      kept_mass += probabilities[order[r]];
    double above = 0;
    std::int64_t nucleus = 0;
    while (nucleus < keep && above < options.top_p * kept_mass) {
      above += probabilities[order[nucleus]];
      ++nucleus;
    }
    keep = std::max<std::int64_t>(nucleus, 1);
  }
  double kept = 0;
  for (std::int64_t r = 0; r < V; ++r) {
    if (r < keep) {
      kept += probabilities[order[r]];
    } else {
      probabilities[order[r]] = 0;
    }
  }
  for (auto& p : probabilities)
    p /= kept;
  return probabilities;
}

std::int64_t sample_index(const std::vector<double>& probabilities, double u) {
  double cumulative = 0;
  std::int64_t last_nonzero = -1;
  for (std::size_t i = 0; i < probabilities.size(); ++i) {
    if (probabilities[i] <= 0) continue;
    cumulative += probabilities[i];
    last_nonzero = static_cast<std::int64_t>(i);
    if (u < cumulative) return last_nonzero;
  }
  if (last_nonzero < 0) throw Error("sampling from a distribution without mass");
  return last_nonzero;  // u within rounding of 1
}

}  // namespace sslx::eval
