#include <catch2/catch.hpp>

#include <cmath>
#include <map>

#include "data/markov_source.h"

using namespace sslx::data;

TEST_CASE("Markov source: rows are distributions and pi is stationary") {
  const MarkovSource source({.states = 8, .concentration = 0.5, .seed = 3});
  for (int i = 0; i < 8; ++i) {
    double row = 0;
    for (int j = 0; j < 8; ++j)
      row += source.probability(i, j);
    CHECK(row == Approx(1.0).epsilon(1e-12));
  }
  for (int j = 0; j < 8; ++j) {
    double next = 0;
    for (int i = 0; i < 8; ++i)
      next += source.stationary()[i] * source.probability(i, j);
    CHECK(next == Approx(source.stationary()[j]).epsilon(1e-9));
  }
}

TEST_CASE("Markov source: the empirical conditional entropy of samples matches the rate") {
  const MarkovSource source({.states = 6, .concentration = 0.4, .seed = 11});
  std::map<std::pair<int, int>, double> pair_counts;
  std::map<int, double> from_counts;
  for (std::uint64_t d = 0; d < 40; ++d) {
    const auto tokens = source.sample(5000, d);
    for (std::size_t t = 1; t < tokens.size(); ++t) {
      pair_counts[{tokens[t - 1], tokens[t]}] += 1;
      from_counts[tokens[t - 1]] += 1;
    }
  }
  double total = 0, entropy = 0;
  for (const auto& [pair, count] : pair_counts)
    total += count;
  for (const auto& [pair, count] : pair_counts) {
    entropy -= (count / total) * std::log(count / from_counts[pair.first]);
  }
  CHECK(entropy == Approx(source.entropy_rate()).epsilon(0.01));
  // Lower concentration, lower entropy; the uniform limit is log(states).
  const MarkovSource peaked({.states = 6, .concentration = 0.05, .seed = 11});
  const MarkovSource flat({.states = 6, .concentration = 100.0, .seed = 11});
  CHECK(peaked.entropy_rate() < source.entropy_rate());
  CHECK(flat.entropy_rate() == Approx(std::log(6.0)).epsilon(0.01));
}

TEST_CASE("Markov source: samples are deterministic per document seed") {
  const MarkovSource source({.states = 16, .seed = 1, .first_id = 7});
  CHECK(source.sample(50, 4) == source.sample(50, 4));
  CHECK(source.sample(50, 4) != source.sample(50, 5));
  for (TokenId id : source.sample(500, 9)) {
    CHECK(id >= 7);
    CHECK(id < 7 + 16);
  }
}
