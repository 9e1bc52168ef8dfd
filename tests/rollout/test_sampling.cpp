// The sampling filters (temperature, top-k, top-p) against hand-computed distributions, one row
// at a time and as a batch.
#include "nn/torch_catch.h"

#include <cmath>

#include "rollout/sampling.h"
#include "util/rng.h"

using namespace sslx::rollout;

namespace {

// The distribution of one row of logits, through the batched function.
std::vector<double> sampling_distribution(const std::vector<float>& logits,
                                          const SamplingOptions& options) {
  const at::Tensor row = torch::tensor(logits, torch::kFloat).reshape({1, -1});
  const at::Tensor p = sampling_probabilities(row, options)[0].contiguous();
  return {p.data_ptr<double>(), p.data_ptr<double>() + p.numel()};
}

std::int64_t sample_index(const std::vector<double>& probabilities, double u) {
  const at::Tensor p = torch::tensor(probabilities, torch::kDouble).reshape({1, -1});
  return sample_indices(p, torch::tensor({u}, torch::kDouble))[0].item<std::int64_t>();
}

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

TEST_CASE("sampling: no filter is the softmax - temperature sharpens and flattens") {
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

TEST_CASE("sampling: a batch is its rows, each filtered on its own") {
  // Row 0 as above; row 1 the reverse order, so its kept tokens are 3 and 2.
  const at::Tensor logits =
      torch::tensor({2.f, 1.f, 0.f, -1.f, -1.f, 0.f, 1.f, 2.f}).reshape({2, 4});
  const at::Tensor p = sampling_probabilities(logits, {.top_k = 2});
  const double top2 = 1 / (1 + std::exp(-1.0));
  CHECK(p[0][0].item<double>() == Approx(top2).margin(1e-12));
  CHECK(p[1][3].item<double>() == Approx(top2).margin(1e-12));
  CHECK(p[1][2].item<double>() == Approx(1 - top2).margin(1e-12));
  CHECK(p[1][0].item<double>() == 0);
  const at::Tensor drawn = sample_indices(p, torch::tensor({0.9, 0.1}, torch::kDouble));
  CHECK(drawn[0].item<std::int64_t>() == 1);
  CHECK(drawn[1].item<std::int64_t>() == 2);  // cumulative over ids: 0, 0, 0.269, 1
}

TEST_CASE("sampling: policy log-probabilities apply the temperature before the log-softmax") {
  const at::Tensor logits = torch::tensor(kLogits).reshape({1, 4});
  const at::Tensor log_p = policy_log_probs(logits, 2.0);
  for (int i = 0; i < 4; ++i)
    CHECK(log_p[0][i].item<double>() == Approx(std::log(softmax(i, 2))).margin(1e-6));
  // Greedy decoding has no density of its own: temperature 0 reads as 1.
  CHECK(policy_log_probs(logits, 0.0)[0][0].item<double>() ==
        Approx(std::log(softmax(0))).margin(1e-6));
}
