// The sampling filters (temperature, top-k, top-p) against hand-computed distributions.
#include "nn/torch_catch.h"

#include <cmath>

#include "eval/sampling.h"
#include "util/rng.h"

using namespace sslx::eval;

namespace {

// softmax of logits 2, 1, 0, -1
const std::vector<float> kLogits{2, 1, 0, -1};
double softmax(int i, double temperature = 1) {
  double sum = 0;
  for (const float l : kLogits)
    sum += std::exp(l / temperature);
  return std::exp(kLogits[i] / temperature) / sum;
}

void check_equal(const std::vector<double>& got, const std::vector<double>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("token " << i);
    CHECK(got[i] == Approx(expected[i]).margin(1e-12));
  }
}

}  // namespace

TEST_CASE("sampling: no filter is the softmax; temperature sharpens and flattens") {
  check_equal(sampling_distribution(kLogits, {}), {softmax(0), softmax(1), softmax(2), softmax(3)});
  check_equal(sampling_distribution(kLogits, {.temperature = 2}),
              {softmax(0, 2), softmax(1, 2), softmax(2, 2), softmax(3, 2)});
  CHECK(softmax(0, 2) == Approx(0.4551).epsilon(1e-3));  // e^1 / (e^1 + e^.5 + 1 + e^-.5)
}

TEST_CASE("sampling: temperature 0 is greedy, ties to the lower id") {
  check_equal(sampling_distribution(kLogits, {.temperature = 0}), {1, 0, 0, 0});
  check_equal(sampling_distribution({1, 3, 3}, {.temperature = 0}), {0, 1, 0});
}

TEST_CASE("sampling: top-k keeps the k most likely, renormalised") {
  const double top2 = 1 / (1 + std::exp(-1.0));  // e^2 / (e^2 + e^1) = 0.731
  check_equal(sampling_distribution(kLogits, {.top_k = 2}), {top2, 1 - top2, 0, 0});
  check_equal(sampling_distribution(kLogits, {.top_k = 1}), {1, 0, 0, 0});
  // k beyond the vocabulary is no filter.
  check_equal(sampling_distribution(kLogits, {.top_k = 10}),
              {softmax(0), softmax(1), softmax(2), softmax(3)});
}

TEST_CASE("sampling: top-p keeps the smallest set reaching p, including the crossing token") {
  const double top2 = 1 / (1 + std::exp(-1.0));
  // p = 0.644, 0.237, 0.087, 0.032: 0.644 < 0.7, so token 1 is kept; 0.881 >= 0.7 stops.
  check_equal(sampling_distribution(kLogits, {.top_p = 0.7}), {top2, 1 - top2, 0, 0});
  // 0.644 >= 0.6 already after token 0.
  check_equal(sampling_distribution(kLogits, {.top_p = 0.6}), {1, 0, 0, 0});
  check_equal(sampling_distribution(kLogits, {.top_p = 1e-9}), {1, 0, 0, 0});
  // After top-k = 3 the mass is renormalised: 0.665, 0.245, 0.090; 0.910 >= 0.9 stops at two.
  check_equal(sampling_distribution(kLogits, {.top_k = 3, .top_p = 0.9}), {top2, 1 - top2, 0, 0});
  // Negative control: without top-k, 0.881 < 0.9 and token 2 stays.
  const auto wider = sampling_distribution(kLogits, {.top_p = 0.9});
  CHECK(wider[2] > 0);
  CHECK(wider[3] == 0);
}

TEST_CASE("sampling: sample_index follows the cumulative distribution and skips zeros") {
  const std::vector<double> p{0.5, 0, 0.5};
  CHECK(sample_index(p, 0.0) == 0);
  CHECK(sample_index(p, 0.2) == 0);
  CHECK(sample_index(p, 0.5) == 2);
  CHECK(sample_index(p, 0.999999) == 2);
  // Frequencies of 20000 draws from the top-2 distribution.
  const auto top2 = sampling_distribution(kLogits, {.top_k = 2});
  sslx::RngStream rng(7, "test");
  std::vector<int> counts(4, 0);
  for (int i = 0; i < 20000; ++i)
    ++counts[sample_index(top2, rng.uniform01())];
  CHECK(counts[0] / 20000.0 == Approx(top2[0]).margin(0.015));
  CHECK(counts[2] == 0);
  CHECK(counts[3] == 0);
}

TEST_CASE("sampling: options out of range are refused") {
  CHECK_THROWS(sampling_distribution(kLogits, {.temperature = -1}));
  CHECK_THROWS(sampling_distribution(kLogits, {.top_p = 0}));
  CHECK_THROWS(sampling_distribution({}, {}));
}
