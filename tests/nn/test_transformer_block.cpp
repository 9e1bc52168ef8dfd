// Transformer blocks: pre-norm and post-norm wiring computed by hand from the sub-modules,
// residual dropout only in training, cross-attention, and the init schemes' scales.
// Dimensions: B batch, T positions, S memory positions, E model width, F feed-forward width.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <cmath>
#include <vector>

#include "nn/finite_difference.h"
#include "nn/init.h"
#include "nn/transformer_block.h"

using namespace sslx::nn;

// A namespace named after the file, around its test cases too: a unity build compiles it in
// one translation unit with other test files, whose helpers may share these names.
namespace transformer_block_test {

constexpr std::int64_t B = 2, T = 4, S = 3, E = 8, F = 16, H = 2;

TransformerBlock make(TransformerBlockOptions options) {
  at::manual_seed(5);
  TransformerBlock block(options);
  block->to(at::kDouble);
  block->eval();
  return block;
}

double difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Sample standard deviation of a parameter.
double spread(const at::Tensor& t) {
  return t.std().item<double>();
}

TEST_CASE("pre-norm: x + attn(norm(x)), then + ff(norm(.)) - post-norm: norm(x + attn(x)) ...") {
  const at::Tensor x = at::randn({B, T, E}, at::kDouble);
  const AttentionMask causal{.causal = true};
  auto pre = make({.d_model = E, .n_heads = H, .d_ff = F});
  at::Tensor h = x + pre->self_attn(pre->self_attn_norm.forward(x), causal);
  CHECK(difference(pre->forward(x, {.self_mask = causal}), h + pre->ff(pre->ff_norm.forward(h))) <
        1e-12);
  auto post = make({.d_model = E,
                    .n_heads = H,
                    .d_ff = F,
                    .norm = NormKind::rms_norm,
                    .norm_position = NormPosition::post});
  h = post->self_attn_norm.forward(x + post->self_attn(x, causal));
  const at::Tensor expected = post->ff_norm.forward(h + post->ff(h));
  CHECK(difference(post->forward(x, {.self_mask = causal}), expected) < 1e-12);
  // Negative control: the two wirings differ on the same weights.
  CHECK(difference(pre->forward(x, {.self_mask = causal}), expected) > 1e-3);
}

TEST_CASE("a decoder block cross-attends to the memory between self-attention and ff") {
  auto block = make({.d_model = E, .n_heads = H, .d_ff = F, .cross_attention = true});
  REQUIRE(block->cross_attn);
  const at::Tensor x = at::randn({B, T, E}, at::kDouble);
  const at::Tensor memory = at::randn({B, S, E}, at::kDouble);
  at::Tensor h = x + block->self_attn(block->self_attn_norm.forward(x));
  h = h + block->cross_attn->cross(block->cross_attn_norm.forward(h), memory);
  const at::Tensor expected = h + block->ff(block->ff_norm.forward(h));
  CHECK(difference(block->forward(x, {.memory = memory}), expected) < 1e-12);
  CHECK(difference(block->forward(x, {.memory = at::randn({B, S, E}, at::kDouble)}), expected) >
        1e-3);
}

TEST_CASE("residual dropout acts in training mode only") {
  auto block = make({.d_model = E, .n_heads = H, .d_ff = F, .dropout = 0.5});
  const at::Tensor x = at::randn({B, T, E}, at::kDouble);
  auto plain = make({.d_model = E, .n_heads = H, .d_ff = F});
  CHECK(difference(block->forward(x, {}), plain->forward(x, {})) < 1e-12);
  block->train();
  CHECK(difference(block->forward(x, {}), plain->forward(x, {})) > 1e-3);
}

TEST_CASE("block gradients (GQA, RMSNorm, SwiGLU, cross-attention) match central differences") {
  auto block = make({.d_model = E,
                     .n_heads = H,
                     .n_kv_heads = 1,
                     .d_ff = F,
                     .activation = Activation::swiglu,
                     .norm = NormKind::rms_norm,
                     .cross_attention = true});
  const at::Tensor x = at::randn({1, T, E}, at::kDouble).requires_grad_();
  const at::Tensor memory = at::randn({1, S, E}, at::kDouble).requires_grad_();
  const at::Tensor weights = at::randn({1, T, E}, at::kDouble);
  std::vector<at::Tensor> inputs = {x, memory};
  for (const auto& parameter : block->parameters())
    inputs.push_back(parameter);
  const auto result = sslx::test::compare_gradients(
      [&] {
        return (block->forward(x, {.self_mask = {.causal = true}, .memory = memory}) * weights)
            .sum();
      },
      inputs);
  CHECK(result.max_error < 1e-6);
  CHECK(result.max_gradient > 1e-2);
}

TEST_CASE("init schemes: gpt2 scales residual projections, bert does not, t5 uses fan-in") {
  at::manual_seed(9);
  // Wide enough for sample standard deviations within a few percent.
  const TransformerBlockOptions options{.d_model = 256, .n_heads = 4, .d_ff = 512};
  TransformerBlock block(options);
  initialize(*block, {.scheme = InitScheme::gpt2, .n_layers = 8});
  CHECK(spread(block->self_attn->q_proj->weight) == Approx(0.02).epsilon(0.03));
  CHECK(spread(block->self_attn->out_proj->weight) == Approx(0.02 / 4.0).epsilon(0.03));
  CHECK(spread(block->ff->out_proj->weight) == Approx(0.02 / 4.0).epsilon(0.03));
  CHECK(block->ff->in_proj->bias.abs().max().item<double>() == 0.0);
  initialize(*block, {.scheme = InitScheme::bert, .n_layers = 8});
  CHECK(spread(block->self_attn->out_proj->weight) == Approx(0.02).epsilon(0.03));
  initialize(*block, {.scheme = InitScheme::t5, .n_layers = 8, .d_model = 256});
  CHECK(spread(block->self_attn->q_proj->weight) ==
        Approx(1.0 / std::sqrt(256.0 * 64.0)).epsilon(0.03));
  CHECK(spread(block->self_attn->k_proj->weight) == Approx(1.0 / 16.0).epsilon(0.03));
  CHECK(spread(block->ff->out_proj->weight) == Approx(1.0 / std::sqrt(512.0)).epsilon(0.03));
  CHECK_THROWS_WITH(init_scheme_from_name("xavier"), Catch::Contains("known: gpt2, bert, t5"));
}

}  // namespace transformer_block_test
