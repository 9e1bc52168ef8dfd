// T5 relative position buckets against values from an independent float64 reimplementation
// (tests/python/t5_relative_buckets.py), and the bias table's shape, offset and gradients.
// Dimensions: T queries, S keys, H heads, K buckets.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nn/finite_difference.h"
#include "nn/relative_position_bias.h"

using sslx::nn::relative_position_bucket;
using sslx::nn::RelativePositionBias;
using sslx::nn::RelativePositionBiasOptions;

TEST_CASE("relative_position_bucket equals T5's for every checked-in case") {
  std::ifstream file(SSLX_SOURCE_DIR "/tests/python/t5_relative_buckets.txt");
  REQUIRE(file.good());
  const at::Tensor positions = at::arange(-300, 301, at::kLong);
  int cases = 0;
  for (std::string line; std::getline(file, line);) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    int bidirectional = 0;
    std::int64_t num_buckets = 0, max_distance = 0;
    std::string colon;
    in >> bidirectional >> num_buckets >> max_distance >> colon;
    std::vector<std::int64_t> expected;
    for (std::int64_t value = 0; in >> value;)
      expected.push_back(value);
    REQUIRE(expected.size() == 601);
    const at::Tensor buckets =
        relative_position_bucket(positions, bidirectional != 0, num_buckets, max_distance);
    INFO("bidirectional " << bidirectional << ", " << num_buckets << " buckets, max distance "
                          << max_distance);
    CHECK(at::equal(buckets, at::tensor(expected)));
    ++cases;
  }
  CHECK(cases == 5);
}

TEST_CASE("relative_position_bucket: exact near 0, direction split, last bucket far away") {
  const at::Tensor p = at::tensor({-3L, -1L, 0L, 1L, 3L, 1000L, -1000L});
  // Bidirectional, 32 buckets: 16 per direction, exact below 8; keys after the query from 16.
  CHECK(at::equal(relative_position_bucket(p, true, 32, 128),
                  at::tensor({3L, 1L, 0L, 17L, 19L, 31L, 15L})));
  // Unidirectional: keys after the query (p > 0) all fall in bucket 0.
  CHECK(at::equal(relative_position_bucket(p, false, 32, 128),
                  at::tensor({3L, 1L, 0L, 0L, 0L, 0L, 31L})));
}

TEST_CASE("relative position bias: (1, H, T, S) looked up by bucket, offset for cached keys") {
  at::manual_seed(3);
  RelativePositionBias bias(RelativePositionBiasOptions{.n_heads = 2, .bidirectional = false});
  const at::Tensor full = bias(5, 5);  // (1, H, 5, 5)
  REQUIRE(full.sizes() == at::IntArrayRef({1, 2, 5, 5}));
  const at::Tensor buckets = relative_position_bucket(
      at::arange(5).unsqueeze(0) - at::arange(5).unsqueeze(1), false, 32, 128);
  CHECK(at::equal(full[0][1], bias->weight.select(1, 1).index({buckets})));
  // The last two queries after three cached keys see the same bias as in the full square.
  CHECK(at::equal(bias(2, 5, 3), full.narrow(2, 3, 2)));
}

TEST_CASE("relative position bias gradients match central differences") {
  at::manual_seed(4);
  RelativePositionBias bias(
      RelativePositionBiasOptions{.n_heads = 2, .num_buckets = 8, .max_distance = 16});
  bias->to(at::kDouble);
  const at::Tensor weights = at::randn({1, 2, 4, 6}, at::kDouble);
  const auto result = sslx::test::compare_gradients([&] { return (bias(4, 6, 2) * weights).sum(); },
                                                    {bias->weight});
  CHECK(result.max_error < 1e-6);
  CHECK(result.max_gradient > 0.1);
}
