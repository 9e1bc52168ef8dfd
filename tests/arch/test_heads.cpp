// Heads on any backbone: tied and untied LM heads, scalar and classification heads, pooling.
// Dimensions: B batch, T positions, E model width, V vocabulary, K classes.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>

#include "arch/tiny_models.h"
#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/heads.h"
#include "architectures/pooling.h"

using namespace sslx;
using namespace sslx::arch;
using sslx::test::make_model;
using sslx::test::max_difference;
using sslx::test::random_tokens;
using sslx::test::tiny_options;

TEST_CASE("pooling: first, last valid and mean over valid positions") {
  const at::Tensor hidden = at::arange(2 * 4 * 3, at::kDouble).view({2, 4, 3});
  const at::Tensor valid = at::tensor({1, 1, 1, 0, 0, 1, 1, 0}).view({2, 4}).to(at::kBool);
  CHECK(at::equal(pool(hidden, valid, Pooling::first), hidden.select(1, 0)));
  CHECK(at::equal(pool(hidden, valid, Pooling::last), at::stack({hidden[0][2], hidden[1][2]})));
  CHECK(at::allclose(
      pool(hidden, valid, Pooling::mean),
      at::stack({hidden[0].narrow(0, 0, 3).mean(0), hidden[1].narrow(0, 1, 2).mean(0)})));
  CHECK(at::equal(pool(hidden, {}, Pooling::last), hidden.select(1, 3)));
  CHECK_THROWS_WITH(pool(hidden, at::zeros({2, 4}, at::kBool), Pooling::mean),
                    Catch::Contains("needs a valid position"));
}

TEST_CASE("a tied LM head reuses the embedding and adds no parameter - untied has its own") {
  auto decoder = make_model<Decoder>(tiny_options());
  const LmHeadOptions options{.d_model = 16, .vocab_size = test::kVocab};
  LmHead tied(options, decoder->token_embedding());
  CHECK(tied->parameters().empty());
  const at::Tensor hidden = decoder->forward({.token_ids = random_tokens(2, 5)}).hidden_states;
  const at::Tensor logits = tied(hidden);
  REQUIRE(logits.sizes() == at::IntArrayRef({2, 5, test::kVocab}));
  CHECK(max_difference(logits, at::matmul(hidden, decoder->token_embedding()->weight.t())) < 1e-12);
  LmHead own(options, nullptr);
  own->to(at::kDouble);
  CHECK(own->parameters().size() == 1);
  CHECK(max_difference(own(hidden), logits) > 1e-3);
}

TEST_CASE("lm_head_for follows tie_embeddings and tied_head_scale") {
  ArchitectureOptions options = tiny_options();
  auto decoder = make_model<Decoder>(options);
  const at::Tensor hidden = at::randn({2, 3, 16}, at::kDouble);
  const at::Tensor embedding = decoder->token_embedding()->weight;
  LmHead tied = lm_head_for(*decoder);
  CHECK(tied->tied());
  CHECK(max_difference(tied(hidden), at::matmul(hidden, embedding.t())) < 1e-12);
  options.tied_head_scale = true;
  auto t5_like = make_model<Decoder>(options);
  LmHead scaled = lm_head_for(*t5_like);
  CHECK(max_difference(scaled(hidden),
                       at::matmul(hidden, t5_like->token_embedding()->weight.t()) / 4.0) < 1e-12);
  options.tie_embeddings = false;
  auto untied = make_model<Decoder>(options);
  LmHead own = lm_head_for(*untied);
  CHECK_FALSE(own->tied());
  CHECK(own->proj->weight.sizes() == at::IntArrayRef({test::kVocab, 16}));
}

TEST_CASE("lm_head_transform: BERT's dense, activation, LayerNorm, then the projection + bias") {
  ArchitectureOptions options = tiny_options();
  options.lm_head_transform = true;
  options.activation = nn::Activation::gelu;
  options.norm_eps = 1e-12;
  auto encoder = make_model<Encoder>(options);
  LmHead head = lm_head_for(*encoder);
  head->to(at::kDouble);
  {
    const at::NoGradGuard no_grad;
    for (auto& parameter : head->parameters())  // far from the initial ones, zeros, zero bias
      parameter.copy_(at::randn(parameter.sizes(), at::kDouble) * 0.5 + 0.1);
  }
  REQUIRE(head->tied());
  REQUIRE(head->bias.sizes() == at::IntArrayRef({test::kVocab}));
  const at::Tensor hidden = at::randn({2, 3, 16}, at::kDouble);
  // BertPredictionHeadTransform then BertLMPredictionHead's decoder, written out.
  const at::Tensor dense = at::matmul(hidden, head->transform->weight.t()) + head->transform->bias;
  const at::Tensor activated = 0.5 * dense * (1 + at::erf(dense / std::sqrt(2.0)));
  const at::Tensor centred = activated - activated.mean(-1, true);
  const at::Tensor variance = centred.pow(2).mean(-1, true);
  const auto norm = head->named_parameters();
  const at::Tensor normed = centred / at::sqrt(variance + 1e-12) * norm["transform_norm.weight"] +
                            norm["transform_norm.bias"];
  const at::Tensor expected =
      at::matmul(normed, encoder->token_embedding()->weight.t().to(at::kDouble)) + head->bias;
  CHECK(max_difference(head(hidden), expected) < 1e-10);
  // Control: the plain head on the same embedding is another function.
  options.lm_head_transform = false;
  LmHead plain(LmHeadOptions{.d_model = 16, .vocab_size = test::kVocab},
               encoder->token_embedding());
  CHECK(max_difference(plain(hidden), expected) > 1e-2);
  // A gated activation has no single-projection form: refused with the option's name.
  options.lm_head_transform = true;
  options.activation = nn::Activation::swiglu;
  CHECK_THAT(problems(options, false).front().key, Catch::Equals("lm_head_transform"));
}

TEST_CASE("a per-position scalar head gives one value per position (PPO value head)") {
  ScalarHead value(ScalarHeadOptions{.d_model = 16, .per_position = true});
  value->to(at::kDouble);
  const at::Tensor hidden = at::randn({2, 3, 16}, at::kDouble);
  const at::Tensor values = value(hidden);
  REQUIRE(values.sizes() == at::IntArrayRef({2, 3}));
  CHECK(max_difference(values.select(1, 2), value->proj(hidden.select(1, 2)).squeeze(-1)) < 1e-12);
}

TEST_CASE("scalar and classification heads attach to encoder and decoder alike") {
  const at::Tensor tokens = random_tokens(2, 5);
  const at::Tensor valid = at::tensor({1, 1, 1, 1, 1, 1, 1, 1, 0, 0}).view({2, 5}).to(at::kBool);
  auto encoder = make_model<Encoder>(tiny_options());
  auto decoder = make_model<Decoder>(tiny_options());
  ScalarHead value(ScalarHeadOptions{.d_model = 16, .pooling = Pooling::last});
  ClassificationHead classify(ClassificationHeadOptions{
      .d_model = 16, .n_classes = 3, .pooling = Pooling::mean, .pooler = true});
  value->to(at::kDouble);
  classify->to(at::kDouble);
  for (const at::Tensor& hidden :
       {encoder->forward({.token_ids = tokens, .key_valid = valid}).hidden_states,
        decoder->forward({.token_ids = tokens, .key_valid = valid}).hidden_states}) {
    const at::Tensor reward = value(hidden, valid);
    REQUIRE(reward.sizes() == at::IntArrayRef({2}));
    CHECK(max_difference(reward, value->proj(pool(hidden, valid, Pooling::last)).squeeze(-1)) <
          1e-12);
    const at::Tensor logits = classify(hidden, valid);
    REQUIRE(logits.sizes() == at::IntArrayRef({2, 3}));
    const at::Tensor pooled = at::tanh(classify->pooler(pool(hidden, valid, Pooling::mean)));
    CHECK(max_difference(logits, classify->proj(pooled)) < 1e-12);
  }
  CHECK(classify->pooler->weight.numel() == 16 * 16);
}
