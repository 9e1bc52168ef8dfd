#include "data/markov_source.h"

#include <cmath>

#include "util/error.h"
#include "util/rng.h"

namespace sslx::data {
namespace {

// A Gamma(shape, 1) variate (Marsaglia-Tsang; shape < 1 by the boost trick), for Dirichlet rows.
double gamma_variate(double shape, RngStream& rng) {
  if (shape < 1.0) {
    const double u = rng.uniform01();
    return gamma_variate(shape + 1.0, rng) * std::pow(u > 0 ? u : 1e-300, 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    // Standard normal by Box-Muller.
    const double u1 = std::max(rng.uniform01(), 1e-300);
    const double u2 = rng.uniform01();
    const double x = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    const double v = std::pow(1.0 + c * x, 3);
    if (v <= 0) continue;
    const double u = rng.uniform01();
    if (std::log(std::max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

}  // namespace

MarkovSource::MarkovSource(MarkovOptions options) : options_(options) {
  const std::int32_t n = options.states;
  if (n < 2) throw Error("a Markov source needs at least 2 states");
  if (options.concentration <= 0) throw Error("Markov concentration must be positive");
  RngStream rng(options.seed, "markov-transitions");
  transitions_.assign(static_cast<std::size_t>(n) * n, 0.0);
  for (std::int32_t i = 0; i < n; ++i) {
    double total = 0;
    for (std::int32_t j = 0; j < n; ++j) {
      // A small floor keeps every transition possible, so the chain is irreducible and aperiodic.
      const double weight = gamma_variate(options.concentration, rng) + 1e-6;
      transitions_[i * n + j] = weight;
      total += weight;
    }
    for (std::int32_t j = 0; j < n; ++j)
      transitions_[i * n + j] /= total;
  }
  // Stationary distribution by power iteration (converges: the chain is primitive).
  stationary_.assign(n, 1.0 / n);
  for (int iteration = 0; iteration < 10000; ++iteration) {
    std::vector<double> next(n, 0.0);
    for (std::int32_t i = 0; i < n; ++i) {
      for (std::int32_t j = 0; j < n; ++j)
        next[j] += stationary_[i] * transitions_[i * n + j];
    }
    double change = 0;
    for (std::int32_t j = 0; j < n; ++j)
      change += std::fabs(next[j] - stationary_[j]);
    stationary_ = std::move(next);
    if (change < 1e-15) break;
  }
  for (std::int32_t i = 0; i < n; ++i) {
    double row_entropy = 0;
    for (std::int32_t j = 0; j < n; ++j) {
      const double p = transitions_[i * n + j];
      if (p > 0) row_entropy -= p * std::log(p);
    }
    entropy_rate_ += stationary_[i] * row_entropy;
  }
}

double MarkovSource::probability(std::int32_t from, std::int32_t to) const {
  return transitions_[static_cast<std::size_t>(from) * options_.states + to];
}

std::vector<TokenId> MarkovSource::sample(std::int64_t length, std::uint64_t document_seed) const {
  RngStream rng(options_.seed ^ 0x5bd1e995ULL, "markov-doc-" + std::to_string(document_seed));
  const auto draw = [&rng](const double* probabilities, std::int32_t n) {
    double u = rng.uniform01();
    for (std::int32_t j = 0; j < n - 1; ++j) {
      if (u < probabilities[j]) return j;
      u -= probabilities[j];
    }
    return n - 1;
  };
  const std::int32_t n = options_.states;
  std::vector<TokenId> tokens;
  tokens.reserve(static_cast<std::size_t>(length));
  std::int32_t state = draw(stationary_.data(), n);
  for (std::int64_t t = 0; t < length; ++t) {
    tokens.push_back(options_.first_id + state);
    state = draw(&transitions_[static_cast<std::size_t>(state) * n], n);
  }
  return tokens;
}

}  // namespace sslx::data
