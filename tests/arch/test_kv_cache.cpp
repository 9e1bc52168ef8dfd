// Incremental decoding through the KV cache equals the full forward, for the decoder and the
// decoder side of an encoder-decoder, with every kind of positions.
// Dimensions: B batch, T positions, U decoder positions.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <vector>

#include "arch/tiny_models.h"
#include "architectures/decoder.h"
#include "architectures/encoder_decoder.h"

using namespace sslx;
using namespace sslx::arch;
using sslx::test::make_model;
using sslx::test::max_difference;
using sslx::test::random_tokens;
using sslx::test::tiny_options;

// A namespace named after the file, around its test cases too: a unity build compiles it in
// one translation unit with other test files, whose helpers may share these names.
namespace kv_cache_test {

constexpr std::int64_t B = 2, T = 6;
constexpr double tolerance = 1e-5;  // the brief's bound; float64 agrees to ~1e-15

TEST_CASE("decoder: one token at a time through the KV cache equals the full forward") {
  for (const PositionKind positions : test::kAllPositions) {
    INFO("positions " << int(positions));
    auto decoder = make_model<Decoder>(tiny_options(positions));
    const at::Tensor x = random_tokens(B, T);
    const at::Tensor full = decoder->forward({.token_ids = x}).hidden_states;
    nn::KvCache cache;
    std::vector<at::Tensor> steps;
    // A chunk of 2, then single tokens.
    steps.push_back(
        decoder->forward({.token_ids = x.narrow(1, 0, 2), .cache = &cache}).hidden_states);
    for (std::int64_t t = 2; t < T; ++t)
      steps.push_back(
          decoder->forward({.token_ids = x.narrow(1, t, 1), .cache = &cache}).hidden_states);
    CHECK(cache.length() == T);
    CHECK(max_difference(at::cat(steps, 1), full) < tolerance);
    // Negative control: a step without the cache has lost the context.
    CHECK(max_difference(decoder
                             ->forward({.token_ids = x.narrow(1, T - 1, 1),
                                        .position_ids = at::tensor({T - 1})})
                             .hidden_states,
                         full.narrow(1, T - 1, 1)) > 1e-4);
  }
}

TEST_CASE("decoder cache with padding: key_valid covers cached and new keys") {
  auto decoder = make_model<Decoder>(tiny_options());
  const at::Tensor x = random_tokens(B, T);
  at::Tensor valid = at::ones({B, T}, at::kBool);
  valid[1][0] = false;  // sequence 1 starts with padding
  const at::Tensor full = decoder->forward({.token_ids = x, .key_valid = valid}).hidden_states;
  nn::KvCache cache;
  std::vector<at::Tensor> steps;
  for (std::int64_t t = 0; t < T; ++t) {
    steps.push_back(decoder
                        ->forward({.token_ids = x.narrow(1, t, 1),
                                   .key_valid = valid.narrow(1, 0, t + 1),
                                   .cache = &cache})
                        .hidden_states);
  }
  CHECK(max_difference(at::cat(steps, 1), full) < tolerance);
}

TEST_CASE("encoder_decoder: cached decoding equals the full forward - the encoder runs once") {
  for (const PositionKind positions : test::kAllPositions) {
    INFO("positions " << int(positions));
    auto model = make_model<EncoderDecoder>(tiny_options(positions));
    const at::Tensor source = random_tokens(B, 5), target = random_tokens(B, T);
    at::Tensor source_valid = at::ones({B, 5}, at::kBool);
    source_valid[0][4] = false;
    const auto full = model->forward(
        {.token_ids = source, .key_valid = source_valid, .decoder_token_ids = target});
    nn::KvCache cache;
    std::vector<at::Tensor> steps;
    const auto first = model->forward({.token_ids = source,
                                       .key_valid = source_valid,
                                       .decoder_token_ids = target.narrow(1, 0, 1),
                                       .cache = &cache});
    CHECK(max_difference(first.encoder_states, full.encoder_states) < tolerance);
    steps.push_back(first.hidden_states);
    for (std::int64_t t = 1; t < T; ++t) {
      // No token_ids: the cross-attention keys and values come from the cache.
      const auto step = model->forward({.key_valid = source_valid,
                                        .decoder_token_ids = target.narrow(1, t, 1),
                                        .cache = &cache});
      CHECK_FALSE(step.encoder_states.defined());
      steps.push_back(step.hidden_states);
    }
    CHECK(cache.length() == T);
    CHECK(max_difference(at::cat(steps, 1), full.hidden_states) < tolerance);
    CHECK_THROWS_WITH(model->forward({.token_ids = source,
                                      .key_valid = source_valid,
                                      .decoder_token_ids = target.narrow(1, 0, 1),
                                      .cache = &cache}),
                      Catch::Contains("later steps take no token_ids"));
  }
}

}  // namespace kv_cache_test
