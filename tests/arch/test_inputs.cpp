// What each kind reads from ArchitectureInputs: an input it does not read is refused by name.
// Dropout (embedding, residual, attention) acts in training mode only.
// Dimensions: B batch, T positions.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include "arch/tiny_models.h"
#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/encoder_decoder.h"

using namespace sslx;
using namespace sslx::arch;
using sslx::test::make_model;
using sslx::test::random_tokens;
using sslx::test::tiny_options;

TEST_CASE("an input a kind does not read is an error naming it, not silently ignored") {
  const at::Tensor x = random_tokens(2, 4);
  nn::KvCache cache;
  auto encoder = make_model<Encoder>(tiny_options());
  CHECK_THROWS_WITH(encoder->forward({.token_ids = x, .cache = &cache}),
                    Catch::Contains("encoder does not read cache; it reads token_ids"));
  CHECK_THROWS_WITH(encoder->forward({.token_ids = x, .prefix_length = at::tensor({1L, 2L})}),
                    Catch::Contains("encoder does not read prefix_length"));
  auto decoder = make_model<Decoder>(tiny_options());
  CHECK_THROWS_WITH(decoder->forward({.token_ids = x, .decoder_key_valid = x.gt(0)}),
                    Catch::Contains("decoder does not read decoder_key_valid"));
  CHECK_THROWS_WITH(decoder->forward({.token_ids = x, .encoder_states = at::zeros({2, 4, 16})}),
                    Catch::Contains("decoder does not read encoder_states"));
  auto model = make_model<EncoderDecoder>(tiny_options());
  CHECK_THROWS_WITH(
      model->forward(
          {.token_ids = x, .prefix_length = at::tensor({1L, 2L}), .decoder_token_ids = x}),
      Catch::Contains("encoder_decoder does not read prefix_length"));
  CHECK_THROWS_WITH(model->forward({.token_ids = x}), Catch::Contains("needs decoder_token_ids"));
  // What each kind does read is accepted.
  CHECK(encoder->forward({.token_ids = x, .key_valid = x.ge(0)}).hidden_states.defined());
  CHECK(decoder->forward({.token_ids = x, .prefix_length = at::tensor({1L, 2L})})
            .hidden_states.defined());
}

TEST_CASE("embedding, residual and attention dropout act in training mode only") {
  const at::Tensor x = random_tokens(2, 6);
  const auto plain = make_model<Decoder>(tiny_options(), 3);
  const at::Tensor reference = plain->forward({.token_ids = x}).hidden_states;
  for (const int which : {0, 1, 2}) {
    INFO("dropout kind " << which);
    ArchitectureOptions options = tiny_options();
    (which == 0   ? options.embedding_dropout
     : which == 1 ? options.dropout
                  : options.attention_dropout) = 0.3;
    auto model = make_model<Decoder>(options, 3);  // the same weights as plain
    CHECK(test::max_difference(model->forward({.token_ids = x}).hidden_states, reference) < 1e-12);
    model->train();
    CHECK(test::max_difference(model->forward({.token_ids = x}).hidden_states, reference) > 1e-3);
  }
}
