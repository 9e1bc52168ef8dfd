// A synthetic token source with a known entropy rate: a first-order Markov chain over V tokens
// whose transition rows are drawn from a seeded Dirichlet-like distribution with `concentration`
// controlling how peaked they are. sslx computes its entropy rate exactly,
//   H = sum_i pi_i * H(P_i)   (nats per token, pi the stationary distribution),
// so training tests can assert that a model's loss approaches this floor.
#pragma once

#include <cstdint>
#include <vector>

#include "data/special_tokens.h"

namespace sslx::data {

struct MarkovOptions {
  std::int32_t states = 16;    // tokens of the chain; ids first_id .. first_id + states - 1
  double concentration = 0.3;  // < 1: peaked rows (low entropy); large: near uniform
  std::uint64_t seed = 0;
  TokenId first_id = 0;
};

class MarkovSource {
 public:
  explicit MarkovSource(MarkovOptions options);

  // A document of `length` tokens started from the stationary distribution.
  std::vector<TokenId> sample(std::int64_t length, std::uint64_t document_seed) const;
  double entropy_rate() const { return entropy_rate_; }  // nats per token
  const std::vector<double>& stationary() const { return stationary_; }
  double probability(std::int32_t from, std::int32_t to) const;

 private:
  MarkovOptions options_;
  std::vector<double> transitions_;  // states x states, rows sum to 1
  std::vector<double> stationary_;
  double entropy_rate_ = 0;
};

}  // namespace sslx::data
