// Every preset in configs/model/ builds through the registry, runs forward and backward, and
// reports a parameter count: by hand for tiny and small, the published numbers for GPT-2 small,
// BERT-base and T5-small. Save/load round trips are exact and strict about keys and shapes.
// Dimensions: B batch, T positions, E model width, V vocabulary.
#include "nn/torch_catch.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <optional>
#include <string>

#include "architectures/architecture.h"
#include "architectures/architecture_registry.h"
#include "architectures/decoder.h"
#include "architectures/heads.h"
#include "config/schema.h"
#include "config/toml_io.h"
#include "nn/state_io.h"

using namespace sslx;
using namespace sslx::arch;
using sslx::nn::load_state;
using sslx::nn::save_state;

namespace {

// configs/model/<preset>.toml through the [model] schema, with `arch` set when given.
std::shared_ptr<Architecture> build(const std::string& preset, std::int64_t vocab,
                                    std::optional<std::string> name = std::nullopt) {
  register_builtin_architectures();
  config::Node model =
      config::load_toml_file(std::string(SSLX_SOURCE_DIR) + "/configs/model/" + preset + ".toml");
  if (name) model.set("arch", config::Node(*name));
  config::Node root;
  root.set("model", model);
  config::Schema schema;
  schema.add({.key = "model",
              .default_value = config::Node("decoder"),
              .doc = "",
              .component = &architecture_registry()});
  config::DiagnosticList problems;
  config::validate(root, schema, "", problems);
  problems.throw_if_any();
  at::manual_seed(1);
  return std::shared_ptr<Architecture>(architecture_registry().create(*root.find("model"), vocab));
}

// Forward and backward through an LM head on (B, T) tokens; every parameter gets a finite
// gradient.
void forward_backward(Architecture& model, std::int64_t B, std::int64_t T) {
  const at::Tensor tokens = at::randint(model.options().vocab_size, {B, T}, at::kLong);
  ArchitectureInputs inputs{.token_ids = tokens};
  if (model.kind() == ArchitectureKind::encoder_decoder) inputs.decoder_token_ids = tokens;
  const auto outputs = model.forward(inputs);
  REQUIRE(outputs.hidden_states.sizes() == at::IntArrayRef({B, T, model.options().d_model}));
  LmHead head(
      LmHeadOptions{.d_model = model.options().d_model, .vocab_size = model.options().vocab_size},
      model.token_embedding());
  at::log_softmax(head(outputs.hidden_states), -1).mean().backward();
  for (const auto& item : model.named_parameters()) {
    INFO(item.key());
    REQUIRE(item.value().grad().defined());
    CHECK(at::isfinite(item.value().grad()).all().item<bool>());
  }
}

}  // namespace

TEST_CASE("tiny: every architecture builds and trains - counts match the hand computation") {
  // tiny: E 32, L 2, H 4, F 64, P 64, LayerNorm with bias, learned positions; V 50.
  const std::int64_t E = 32, F = 64, P = 64, V = 50;
  const std::int64_t attention = 4 * (E * E + E), ff = E * F + F + F * E + E, norm = 2 * E;
  const std::int64_t layer = attention + ff + 2 * norm;
  auto decoder = build("tiny", V);
  CHECK(decoder->kind() == ArchitectureKind::decoder);
  CHECK(decoder->parameter_count(true) == V * E + P * E + 2 * layer + norm);
  CHECK(decoder->parameter_count(false) == 2 * layer + norm);
  CHECK(decoder->parameter_count(false) == 17152);
  CHECK(decoder->forward_flops_per_token(8) == 2.0 * 17152 + 2.0 * 2 * 8 * E);
  CHECK(decoder->training_flops_per_token(8) == 3.0 * decoder->forward_flops_per_token(8));
  forward_backward(*decoder, 2, 8);
  auto encoder = build("tiny", V, "encoder");
  CHECK(encoder->kind() == ArchitectureKind::encoder);
  CHECK(encoder->parameter_count(true) == decoder->parameter_count(true));
  forward_backward(*encoder, 2, 8);
  auto encoder_decoder = build("tiny", V, "encoder_decoder");
  CHECK(encoder_decoder->kind() == ArchitectureKind::encoder_decoder);
  const std::int64_t decoder_layer = layer + attention + norm;  // + cross-attention and its norm
  CHECK(encoder_decoder->parameter_count(false) == 2 * layer + norm + 2 * decoder_layer + norm);
  CHECK(encoder_decoder->forward_flops_per_token(8) ==
        2.0 * double(encoder_decoder->parameter_count(false)) + 2.0 * 8 * E * (2 + 2 * 2));
  forward_backward(*encoder_decoder, 2, 8);
}

TEST_CASE("small: the default experiment size") {
  const std::int64_t E = 256, F = 1024, L = 4;
  const std::int64_t layer = 4 * (E * E + E) + (E * F + F + F * E + E) + 4 * E;
  auto model = build("small", 256);
  CHECK(model->parameter_count(false) == L * layer + 2 * E);
  CHECK(model->parameter_count(false) == 3159552);
  forward_backward(*model, 2, 8);
}

TEST_CASE("gpt2_small has GPT-2 small's 124,439,808 parameters") {
  auto model = build("gpt2_small", 50257);
  CHECK(model->parameter_count(true) == 124439808);
  CHECK(model->parameter_count(false) == 124439808 - 50257 * 768 - 1024 * 768);
  forward_backward(*model, 1, 8);
}

TEST_CASE(
    "bert_base: 108,891,648 in the backbone, 109,482,240 with the pooler, "
    "109,514,298 with the masked-LM head") {
  auto model = build("bert_base", 30522);
  CHECK(model->kind() == ArchitectureKind::encoder);
  CHECK(model->parameter_count(true) == 108891648);
  ClassificationHead classifier(ClassificationHeadOptions{
      .d_model = 768, .n_classes = 2, .pooling = Pooling::first, .pooler = true});
  const std::int64_t pooler = classifier->pooler->weight.numel() + classifier->pooler->bias.numel();
  CHECK(model->parameter_count(true) + pooler == 109482240);
  // BERT's MLM head: dense + LayerNorm transform and an output bias, projection tied.
  LmHead head = lm_head_for(*model);
  std::int64_t head_parameters = 0;
  for (const auto& parameter : head->parameters())
    head_parameters += parameter.numel();
  CHECK(head_parameters == 768 * 768 + 768 + 2 * 768 + 30522);
  CHECK(model->parameter_count(true) + head_parameters == 109514298);
  forward_backward(*model, 1, 8);
}

TEST_CASE("t5_small has T5-small's 60,506,624 parameters") {
  auto model = build("t5_small", 32128);
  CHECK(model->kind() == ArchitectureKind::encoder_decoder);
  CHECK(model->parameter_count(true) == 60506624);
  forward_backward(*model, 1, 8);
}

TEST_CASE("save and load round trip exactly - another key set or shape is refused by name") {
  const auto dir = std::filesystem::temp_directory_path() / "sslx_arch_state_io";
  std::filesystem::create_directories(dir);
  for (const char* name : {"encoder", "decoder", "encoder_decoder"}) {
    INFO(name);
    auto model = build("tiny", 50, name);
    const auto path = dir / (std::string(name) + ".pt");
    save_state(*model, path);
    at::manual_seed(99);
    auto other = build("tiny", 50, name);
    {
      const at::NoGradGuard no_grad;
      for (auto& parameter : other->parameters())
        parameter.normal_();
    }
    load_state(*other, path);
    const auto mine = model->named_parameters(), theirs = other->named_parameters();
    REQUIRE(mine.keys() == theirs.keys());
    for (const auto& item : mine)
      CHECK(at::equal(item.value(), theirs[item.key()]));
  }
  // Another vocabulary: one shape differs. Token types: a key the file lacks. An encoder-decoder's
  // file: keys the decoder does not have.
  auto wider = build("tiny", 51);
  CHECK_THROWS_WITH(load_state(*wider, dir / "decoder.pt"),
                    Catch::Contains("\"embeddings.tokens.weight\" is [50, 32]"));
  auto decoder = build("tiny", 50, "decoder");
  ArchitectureOptions with_types = decoder->options();
  with_types.n_token_types = 2;
  Decoder typed(with_types);
  CHECK_THROWS_WITH(load_state(typed, dir / "decoder.pt"),
                    Catch::Contains("lacks \"embeddings.token_types.weight\""));
  CHECK_THROWS_WITH(load_state(*decoder, dir / "encoder_decoder.pt"),
                    Catch::Contains("which the model does not have"));
  std::filesystem::remove_all(dir);
}
