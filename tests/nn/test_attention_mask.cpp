// The mask builder against masks written out by hand: B batch, T queries, S keys; 1 = allowed.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <vector>

#include "nn/attention_mask.h"

using sslx::nn::allowed_positions;
using sslx::nn::AttentionMask;

namespace {

// (B, 1, T, S) bool from row-major 0/1 values.
at::Tensor expected(std::vector<std::int64_t> values, std::int64_t B, std::int64_t T,
                    std::int64_t S) {
  return at::tensor(values).view({B, 1, T, S}).to(at::kBool);
}

at::Tensor longs(std::vector<std::int64_t> values) {
  return at::tensor(values);
}

at::Tensor build(const AttentionMask& mask, std::int64_t B, std::int64_t T, std::int64_t S) {
  return allowed_positions(mask, B, T, S, at::kCPU);
}

}  // namespace

TEST_CASE("no mask parts means no mask") {
  CHECK_FALSE(build({}, 2, 3, 3).defined());
}

TEST_CASE("causal mask is lower triangular") {
  CHECK(at::equal(build({.causal = true}, 1, 4, 4), expected({1, 0, 0, 0,  //
                                                              1, 1, 0, 0,  //
                                                              1, 1, 1, 0,  //
                                                              1, 1, 1, 1},
                                                             1, 4, 4)));
}

TEST_CASE("causal queries are the last T of S positions when keys are cached") {
  CHECK(at::equal(build({.causal = true}, 1, 2, 5), expected({1, 1, 1, 1, 0,  //
                                                              1, 1, 1, 1, 1},
                                                             1, 2, 5)));
}

TEST_CASE("prefix LM: bidirectional over each sequence's prefix, causal after it") {
  const AttentionMask mask{.causal = true, .prefix_length = longs({2, 0})};
  CHECK(at::equal(build(mask, 2, 4, 4), expected({1, 1, 0, 0,  //
                                                  1, 1, 0, 0,  //
                                                  1, 1, 1, 0,  //
                                                  1, 1, 1, 1,  //
                                                  // prefix 0: plain causal
                                                  1, 0, 0, 0,  //
                                                  1, 1, 0, 0,  //
                                                  1, 1, 1, 0,  //
                                                  1, 1, 1, 1},
                                                 2, 4, 4)));
}

TEST_CASE("key padding hides padded keys from every query") {
  const AttentionMask mask{.key_valid = at::tensor({1, 1, 1, 0}).view({1, 4}).to(at::kBool)};
  CHECK(at::equal(build(mask, 1, 2, 4), expected({1, 1, 1, 0,  //
                                                  1, 1, 1, 0},
                                                 1, 2, 4)));
}

TEST_CASE("packed documents with causal mask give a block-diagonal lower triangle") {
  const AttentionMask mask{.causal = true, .segment_ids = longs({0, 0, 1, 1, 1}).view({1, 5})};
  CHECK(at::equal(build(mask, 1, 5, 5), expected({1, 0, 0, 0, 0,  //
                                                  1, 1, 0, 0, 0,  //
                                                  0, 0, 1, 0, 0,  //
                                                  0, 0, 1, 1, 0,  //
                                                  0, 0, 1, 1, 1},
                                                 1, 5, 5)));
}

TEST_CASE("prefix, padding and segments combine by AND") {
  // Document 0 = positions 0-2 with a prefix of 2 (absolute key positions), document 1 = 3-4,
  // whose last key is padding.
  const AttentionMask mask{.causal = true,
                           .prefix_length = longs({2}),
                           .key_valid = at::tensor({1, 1, 1, 1, 0}).view({1, 5}).to(at::kBool),
                           .segment_ids = longs({0, 0, 0, 1, 1}).view({1, 5})};
  CHECK(at::equal(build(mask, 1, 5, 5), expected({1, 1, 0, 0, 0,  //
                                                  1, 1, 0, 0, 0,  //
                                                  1, 1, 1, 0, 0,  //
                                                  0, 0, 0, 1, 0,  //
                                                  0, 0, 0, 1, 0},
                                                 1, 5, 5)));
}

TEST_CASE("cross-attention segments match query documents to key documents") {
  const AttentionMask mask{.segment_ids = longs({0, 1}).view({1, 2}),
                           .key_segment_ids = longs({0, 0, 1}).view({1, 3})};
  CHECK(at::equal(build(mask, 1, 2, 3), expected({1, 1, 0,  //
                                                  0, 0, 1},
                                                 1, 2, 3)));
}

TEST_CASE("mask parts of the wrong shape or type are refused with the actual sizes") {
  CHECK_THROWS_WITH(build({.prefix_length = longs({1})}, 1, 3, 3),
                    Catch::Contains("prefix_length requires causal = true"));
  CHECK_THROWS_WITH(build({.key_valid = at::ones({2, 3}, at::kBool)}, 2, 4, 4),
                    Catch::Contains("(B, S) = (2, 4), got Bool of shape [2, 3]"));
  CHECK_THROWS_WITH(build({.key_valid = at::ones({2, 4}, at::kLong)}, 2, 4, 4),
                    Catch::Contains("must be a bool tensor"));
  CHECK_THROWS_WITH(build({.segment_ids = at::zeros({1, 2}, at::kLong)}, 1, 2, 3),
                    Catch::Contains("need S == T, got T = 2 queries and S = 3 keys"));
  CHECK_THROWS_WITH(build({.causal = true}, 1, 3, 2),
                    Catch::Contains("got T = 3 queries and S = 2 keys"));
  CHECK_THROWS_WITH(build({.causal = true, .prefix_length = longs({1, 2, 3})}, 2, 3, 3),
                    Catch::Contains("(B) = (2), got Long of shape [3]"));
}
