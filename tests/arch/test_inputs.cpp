// What each kind reads from ArchitectureInputs: an input it does not read is refused by name.
// Dropout (embedding, residual, attention) acts in training mode only.
// Dimensions: B batch, T positions.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include "arch/tiny_models.h"
#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/encoder_decoder.h"
#include "architectures/transformer_stack.h"

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

TEST_CASE("a cross-attention stack without memory or a filled cache says what it needs") {
  TransformerStack stack(tiny_options(),
                         StackOptions{.n_layers = 2, .causal = true, .cross_attention = true});
  stack->to(at::kDouble);
  const at::Tensor x = at::randn({2, 3, 16}, at::kDouble);
  CHECK_THROWS_WITH(stack->forward(x, {}), Catch::Contains("needs memory, or a cache filled"));
  nn::KvCache cache;  // sized by the stack, but nothing cached yet
  CHECK_THROWS_WITH(stack->forward(x, {.cache = &cache}),
                    Catch::Contains("needs memory, or a cache filled"));
  // With memory it runs, and it fills the cache so that the next step needs no memory.
  CHECK(
      stack->forward(x, {.memory = at::randn({2, 5, 16}, at::kDouble), .cache = &cache}).sizes() ==
      x.sizes());
  CHECK(stack->forward(x.narrow(1, 0, 1), {.cache = &cache}).size(1) == 1);
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
