// Causality of decoders (with a negative control on the same weights), packed documents and
// padding invariance.
// Dimensions: B batch, T positions, U decoder positions, E model width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include "arch/tiny_models.h"
#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/encoder_decoder.h"

using namespace sslx;
using namespace sslx::arch;
using sslx::test::make_model;
using sslx::test::max_difference;
using sslx::test::random_tokens;
using sslx::test::tiny_options;

namespace {

constexpr std::int64_t B = 2, T = 7, changed_at = 4;
constexpr double unchanged = 1e-12, changed = 1e-4;

// tokens with a different token at position changed_at.
at::Tensor with_future_change(const at::Tensor& tokens) {
  at::Tensor other = tokens.clone();
  other.select(1, changed_at).add_(1).remainder_(test::kVocab);
  return other;
}

}  // namespace

TEST_CASE(
    "decoder: a future token leaves earlier outputs unchanged - bidirectionally it does not") {
  for (const PositionKind positions : test::kAllPositions) {
    INFO("positions " << int(positions));
    auto decoder = make_model<Decoder>(tiny_options(positions));
    const at::Tensor x = random_tokens(B, T), y = with_future_change(x);
    const at::Tensor a = decoder->forward({.token_ids = x}).hidden_states;
    const at::Tensor b = decoder->forward({.token_ids = y}).hidden_states;
    CHECK(max_difference(a.narrow(1, 0, changed_at), b.narrow(1, 0, changed_at)) < unchanged);
    CHECK(max_difference(a.narrow(1, changed_at, 1), b.narrow(1, changed_at, 1)) > changed);
    // Negative control: an encoder with the decoder's weights sees the change everywhere.
    auto encoder = make_model<Encoder>(tiny_options(positions));
    const at::NoGradGuard no_grad;
    for (const auto& item : decoder->named_parameters())
      encoder->named_parameters()[item.key()].copy_(item.value());
    const at::Tensor c = encoder->forward({.token_ids = x}).hidden_states;
    const at::Tensor d = encoder->forward({.token_ids = y}).hidden_states;
    CHECK(max_difference(c.narrow(1, 0, changed_at), d.narrow(1, 0, changed_at)) > changed);
  }
}

TEST_CASE("decoder prefix LM: prefix positions see the whole prefix, later ones only the past") {
  auto decoder = make_model<Decoder>(tiny_options());
  const at::Tensor x = random_tokens(B, T), y = with_future_change(x);
  const at::Tensor prefix = at::full({B}, changed_at + 1, at::kLong);  // the change is in it
  const at::Tensor a = decoder->forward({.token_ids = x, .prefix_length = prefix}).hidden_states;
  const at::Tensor b = decoder->forward({.token_ids = y, .prefix_length = prefix}).hidden_states;
  CHECK(max_difference(a.narrow(1, 0, changed_at), b.narrow(1, 0, changed_at)) > changed);
  const at::Tensor short_prefix = at::full({B}, 2L, at::kLong);
  const at::Tensor c =
      decoder->forward({.token_ids = x, .prefix_length = short_prefix}).hidden_states;
  const at::Tensor d =
      decoder->forward({.token_ids = y, .prefix_length = short_prefix}).hidden_states;
  CHECK(max_difference(c.narrow(1, 0, changed_at), d.narrow(1, 0, changed_at)) < unchanged);
}

TEST_CASE("encoder_decoder: the decoder side is causal - without the causal mask it is not") {
  for (const PositionKind positions : {PositionKind::learned, PositionKind::relative}) {
    auto model = make_model<EncoderDecoder>(tiny_options(positions));
    const at::Tensor source = random_tokens(B, 5), x = random_tokens(B, T);
    const at::Tensor y = with_future_change(x);
    const auto a = model->forward({.token_ids = source, .decoder_token_ids = x});
    const auto b = model->forward({.token_ids = source, .decoder_token_ids = y});
    CHECK(max_difference(a.hidden_states.narrow(1, 0, changed_at),
                         b.hidden_states.narrow(1, 0, changed_at)) < unchanged);
    CHECK(max_difference(a.hidden_states.narrow(1, changed_at, 1),
                         b.hidden_states.narrow(1, changed_at, 1)) > changed);
    // Negative control: the same decoder stack without the causal mask.
    const auto bidirectional = [&](const at::Tensor& tokens) {
      const at::Tensor embedded = model->embeddings->forward(tokens, at::arange(T));
      return model->decoder->forward(embedded, {.memory = a.encoder_states});
    };
    CHECK(max_difference(bidirectional(x).narrow(1, 0, changed_at),
                         bidirectional(y).narrow(1, 0, changed_at)) > changed);
  }
}

TEST_CASE("padding invariance: pad keys with key_valid = false change no real output") {
  const std::int64_t pads = 3;
  const at::Tensor x = random_tokens(B, T);
  const at::Tensor padded = at::cat({x, at::zeros({B, pads}, at::kLong)}, 1);
  const at::Tensor valid =
      at::cat({at::ones({B, T}, at::kBool), at::zeros({B, pads}, at::kBool)}, 1);
  for (const PositionKind positions : test::kAllPositions) {
    INFO("positions " << int(positions));
    auto encoder = make_model<Encoder>(tiny_options(positions));
    const at::Tensor plain = encoder->forward({.token_ids = x}).hidden_states;
    const at::Tensor masked =
        encoder->forward({.token_ids = padded, .key_valid = valid}).hidden_states.narrow(1, 0, T);
    CHECK(max_difference(plain, masked) < unchanged);
    // Negative control: the same pads, declared valid.
    CHECK(max_difference(plain,
                         encoder->forward({.token_ids = padded}).hidden_states.narrow(1, 0, T)) >
          changed);
  }
  // Decoder with left padding: the real tokens keep positions 0 .. T-1.
  auto decoder = make_model<Decoder>(tiny_options());
  const at::Tensor left = at::cat({at::zeros({B, pads}, at::kLong), x}, 1);
  const at::Tensor left_valid = valid.flip(1);
  const at::Tensor positions = (at::arange(T + pads) - pads).clamp_min(0);
  const at::Tensor plain = decoder->forward({.token_ids = x}).hidden_states;
  const at::Tensor masked =
      decoder->forward({.token_ids = left, .key_valid = left_valid, .position_ids = positions})
          .hidden_states.narrow(1, pads, T);
  CHECK(max_difference(plain, masked) < unchanged);
  CHECK(max_difference(plain, decoder->forward({.token_ids = left, .position_ids = positions})
                                  .hidden_states.narrow(1, pads, T)) > changed);
  // Encoder-decoder: padded encoder input does not reach the decoder.
  auto model = make_model<EncoderDecoder>(tiny_options(PositionKind::relative));
  const at::Tensor target = random_tokens(B, 4);
  const at::Tensor out =
      model->forward({.token_ids = x, .decoder_token_ids = target}).hidden_states;
  const at::Tensor out_padded =
      model->forward({.token_ids = padded, .key_valid = valid, .decoder_token_ids = target})
          .hidden_states;
  CHECK(max_difference(out, out_padded) < unchanged);
  CHECK(max_difference(
            out, model->forward({.token_ids = padded, .decoder_token_ids = target}).hidden_states) >
        changed);
}

TEST_CASE("packed documents: each document's outputs equal the document run alone") {
  // Two documents of lengths 3 and 4 in one row; positions restart at the second.
  const at::Tensor x = random_tokens(1, T);
  const at::Tensor segments = at::tensor({0L, 0L, 0L, 1L, 1L, 1L, 1L}).view({1, T});
  const at::Tensor positions = at::tensor({0L, 1L, 2L, 0L, 1L, 2L, 3L}).view({1, T});
  const at::Tensor second = x.narrow(1, 3, 4);
  for (const PositionKind kind : test::kAllPositions) {
    INFO("positions " << int(kind));
    auto decoder = make_model<Decoder>(tiny_options(kind));
    auto encoder = make_model<Encoder>(tiny_options(kind));
    for (Architecture* model :
         {static_cast<Architecture*>(decoder.get()), static_cast<Architecture*>(encoder.get())}) {
      const at::Tensor alone = model->forward({.token_ids = second}).hidden_states;
      const at::Tensor packed =
          model->forward({.token_ids = x, .segment_ids = segments, .position_ids = positions})
              .hidden_states.narrow(1, 3, 4);
      CHECK(max_difference(packed, alone) < unchanged);
      // Negative control: without segment ids the first document leaks into the second.
      const at::Tensor leaked =
          model->forward({.token_ids = x, .position_ids = positions}).hidden_states.narrow(1, 3, 4);
      CHECK(max_difference(leaked, alone) > changed);
    }
  }
}
