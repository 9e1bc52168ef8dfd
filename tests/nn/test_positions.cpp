// Absolute positions: learned embeddings and fixed sinusoids.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>

#include "nn/learned_positions.h"
#include "nn/sinusoidal_positions.h"

using sslx::nn::LearnedPositions;
using sslx::nn::LearnedPositionsOptions;
using sslx::nn::sinusoidal_positions;

TEST_CASE("learned positions look up one row per position, and train only those rows") {
  LearnedPositions positions(LearnedPositionsOptions{.max_positions = 10, .d_model = 4});
  const at::Tensor ids = at::tensor({0L, 3L, 2L, 2L}).view({2, 2});
  const at::Tensor out = positions(ids);
  REQUIRE(out.sizes() == at::IntArrayRef({2, 2, 4}));
  CHECK(at::equal(out[0][1], positions->weight[3]));
  CHECK(at::equal(out[1][0], positions->weight[2]));
  out.sum().backward();
  // d(sum)/d(row) = number of times the row was used.
  const at::Tensor uses = at::tensor({1.0F, 0.0F, 2.0F, 1.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F, 0.0F});
  CHECK(at::equal(positions->weight.grad(), uses.view({10, 1}).expand({10, 4})));
  // The initial scale is the documented N(0, 0.02²), not LibTorch's N(0, 1) for embeddings.
  const double std = positions->weight.std().item<double>();
  CHECK(std > 0.01);
  CHECK(std < 0.04);
}

TEST_CASE("learned positions refuse positions out of range, naming them") {
  LearnedPositions positions(LearnedPositionsOptions{.max_positions = 10, .d_model = 4});
  CHECK_THROWS_WITH(positions(at::tensor({0L, 10L})),
                    Catch::Contains("in [0, 10), got values from 0 to 10"));
  CHECK_THROWS_WITH(positions(at::tensor({-1L, 3L})), Catch::Contains("from -1 to 3"));
}

TEST_CASE("sinusoidal positions: sin on even channels, cos on odd, by hand") {
  // E = 4, base 10000: frequencies 1 and 10000^(-2/4) = 0.01.
  const at::Tensor pe = sinusoidal_positions(at::tensor({0L, 3L}), 4, 10000.0, at::kDouble);
  REQUIRE(pe.sizes() == at::IntArrayRef({2, 4}));
  CHECK(at::allclose(pe[0], at::tensor({0.0, 1.0, 0.0, 1.0}), 0, 1e-15));
  const at::Tensor expected =
      at::tensor({std::sin(3.0), std::cos(3.0), std::sin(0.03), std::cos(0.03)});
  CHECK(at::allclose(pe[1], expected, 0, 1e-15));
  CHECK(sinusoidal_positions(at::zeros({2, 5}, at::kLong), 8).sizes() ==
        at::IntArrayRef({2, 5, 8}));
}

TEST_CASE("sinusoidal dot products depend only on the distance between positions") {
  const at::Tensor pe =
      sinusoidal_positions(at::arange(40, at::kLong), 16, 10000.0, at::kDouble);  // (40, 16)
  const auto dot = [&](int a, int b) { return pe[a].dot(pe[b]).item<double>(); };
  CHECK(dot(5, 2) == Approx(dot(33, 30)).epsilon(1e-12));
  CHECK(std::abs(dot(5, 2) - dot(5, 3)) > 1e-3);  // a different distance gives another value
}

TEST_CASE("sinusoidal positions refuse an odd width") {
  CHECK_THROWS_WITH(sinusoidal_positions(at::arange(3, at::kLong), 5),
                    Catch::Contains("even d_model > 0, got 5"));
}
