// Hugging Face export and import per family: a tiny model of each (random weights far from their
// initial values, a vocabulary not divisible by 8, tied and untied heads) is exported, read back
// and compared tensor by tensor and logit by logit; an independent NumPy forward pass written from
// the published architectures (tests/python/hf_reference_forward.py) reads the exported directory
// by itself and must reproduce sslx's logits, and must not once a convention is broken.
#include "nn/torch_catch.h"

#include <fstream>
#include <functional>
#include <string>

#include "architectures/architecture_registry.h"
#include "architectures/heads.h"
#include "config/toml_io.h"
#include "data/byte_tokenizer.h"
#include "interop/hf_export.h"
#include "interop/hf_import.h"
#include "interop/tensor_file.h"
#include "nn/state_io.h"
#include "objectives/language_model.h"
#include "objectives/reward_model.h"
#include "support.h"
#include "util/error.h"

namespace {

using sslx::config::Node;
using sslx::interop::TensorMap;
namespace stdfs = std::filesystem;

// 263 bytes and specials + 3 sentinels = 266 tokens: not a multiple of 8.
const sslx::data::ByteTokenizer kTokenizer(3);

struct Family {
  std::string name;
  std::string hf_class;
  Node model;
};

Node table(const std::string& arch, std::initializer_list<std::pair<const char*, Node>> values) {
  Node model = sslx::interop::standard_model_table(arch);
  model.set("d_model", 16);
  model.set("n_layers", 2);
  model.set("n_heads", 4);
  model.set("d_ff", 24);
  model.set("max_positions", 16);
  for (const auto& [key, value] : values)
    model.set(key, value);
  return model;
}

std::vector<Family> families(bool tied) {
  return {{"gpt2", "GPT2LMHeadModel",
           table("decoder",
                 {{"activation", "gelu_tanh"}, {"norm_eps", 1e-5}, {"tie_embeddings", tied}})},
          {"llama", "LlamaForCausalLM",
           table("decoder", {{"activation", "swiglu"},
                             {"norm", "rms_norm"},
                             {"norm_eps", 1e-6},
                             {"positions", "rotary"},
                             {"bias", false},
                             {"n_kv_heads", 2},
                             {"tie_embeddings", tied}})},
          {"t5", "T5ForConditionalGeneration",
           table("encoder_decoder", {{"activation", tied ? "relu" : "swiglu"},
                                     {"norm", "rms_norm"},
                                     {"norm_eps", 1e-6},
                                     {"positions", "relative"},
                                     {"relative_buckets", 8},
                                     {"relative_max_distance", 12},
                                     {"bias", false},
                                     {"scale_attention", false},
                                     {"n_decoder_layers", 3},
                                     {"tie_embeddings", tied},
                                     {"tied_head_scale", tied}})},
          {"bert", "BertForMaskedLM",
           table("encoder", {{"activation", tied ? "gelu" : "gelu_tanh"},
                             {"norm_eps", 1e-12},
                             {"norm_position", "post"},
                             {"token_types", 2},
                             {"lm_head_transform", true},
                             {"tie_embeddings", tied}})}};
}

sslx::objectives::LanguageModel random_model(const Node& model_table, std::uint64_t seed) {
  sslx::arch::register_builtin_architectures();
  sslx::objectives::LanguageModel model(model_table, kTokenizer.vocab_size());
  model->eval();
  at::manual_seed(seed);
  const at::NoGradGuard no_grad;
  // Far from the initialisation (norm weights 1, biases 0), so that every tensor matters.
  for (auto& [name, tensor] : sslx::nn::named_state(*model)) {
    const bool norm = name.find("norm") != std::string::npos;
    tensor.copy_(at::randn(tensor.sizes()) * 0.3 + (norm ? 1.0 : 0.0));
  }
  return model;
}

struct Batch {
  at::Tensor input_ids;          // (2, 7)
  at::Tensor decoder_input_ids;  // (2, 5), encoder_decoder only
};

Batch batch(const Node& model_table) {
  at::manual_seed(11);
  Batch b{.input_ids = at::randint(0, kTokenizer.vocab_size(), {2, 7}, at::kLong)};
  if (model_table.get_string("arch") == "encoder_decoder")
    b.decoder_input_ids = at::randint(0, kTokenizer.vocab_size(), {2, 5}, at::kLong);
  return b;
}

at::Tensor logits(sslx::objectives::LanguageModelImpl& model, const Batch& b) {
  const at::NoGradGuard no_grad;
  return model.logits({.token_ids = b.input_ids, .decoder_token_ids = b.decoder_input_ids});
}

// tests/python/hf_reference_forward.py on the export in `dir`, given the inputs and sslx's
// logits (`reference`), must match them; the negative control (the same script with one
// convention of the family broken: GPT-2's Conv1D read as a Linear, Llama's rotation on
// interleaved pairs, T5 scores scaled, BERT's blocks pre-norm) must not.
void check_numpy_reference(const sslx::test::TempDir& dir, const TensorMap& reference,
                           const std::string& family) {
  sslx::interop::write_tensor_file(dir / "reference.safetensors", reference);
  const std::string script = SSLX_SOURCE_DIR "/tests/python/hf_reference_forward.py";
  const auto run = sslx::test::run_command({SSLX_PYTHON, script, dir.path().string()});
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK_THAT(run.out, Catch::Contains(family + ": max abs error"));
  const auto broken =
      sslx::test::run_command({SSLX_PYTHON, script, dir.path().string(), "--negative-control"});
  INFO(broken.out << broken.err);
  CHECK(broken.exit_code == 1);
  CHECK_THAT(broken.out, Catch::Contains("MISMATCH"));
}

sslx::interop::ModelSpec spec_of(const Node& model_table) {
  return sslx::interop::model_spec(model_table, kTokenizer.vocab_size());
}

}  // namespace

TEST_CASE("every family round-trips: export, import, same tensors and same logits", "[hf]") {
  for (const bool tied : {true, false}) {
    for (const auto& family : families(tied)) {
      DYNAMIC_SECTION(family.name << (tied ? " tied" : " untied")) {
        const sslx::test::TempDir dir;
        auto model = random_model(family.model, 3);
        const auto result = sslx::interop::write_hf_directory(dir.path(), spec_of(family.model),
                                                              sslx::nn::named_state(*model),
                                                              kTokenizer, at::kFloat, "test model");
        CHECK(result.hf_class == family.hf_class);
        CHECK(!result.notes.empty());  // the byte tokenizer has no HF file: said, not dropped

        const auto directory = sslx::interop::read_hf_directory(dir.path());
        CHECK(directory.family->hf_class() == family.hf_class);
        CHECK(directory.vocab_size == kTokenizer.vocab_size());
        // The same backbone, up to the options that only change training (dropout, init).
        for (const auto& [key, value] : family.model.as_table()) {
          if (key == "dropout" || key == "attention_dropout" || key == "embedding_dropout" ||
              key == "init")
            continue;
          INFO(key << " = " << sslx::config::to_toml_inline(value) << " exported, "
                   << sslx::config::to_toml_inline(directory.model_table.at_path(key))
                   << " imported");
          CHECK(directory.model_table.at_path(key) == value);
        }
        const TensorMap state = sslx::interop::read_hf_weights(directory);
        const TensorMap original = sslx::nn::named_state(*model);
        REQUIRE(state.size() == original.size());
        for (const auto& [name, tensor] : original) {
          INFO(name);
          REQUIRE(state.count(name) == 1);
          CHECK(at::equal(state.at(name), tensor));
        }
        auto imported = random_model(directory.model_table, 4);
        sslx::nn::load_state(*imported, state, "imported");
        const Batch b = batch(family.model);
        CHECK(at::equal(logits(*imported, b), logits(*model, b)));
      }
    }
  }
}

TEST_CASE("a bfloat16 export reads back within bfloat16 precision", "[hf]") {
  const sslx::test::TempDir dir;
  const Node model_table = families(true)[1].model;
  auto model = random_model(model_table, 5);
  sslx::interop::write_hf_directory(dir.path(), spec_of(model_table), sslx::nn::named_state(*model),
                                    kTokenizer, at::kBFloat16, "test model");
  std::map<std::string, std::string> metadata;
  const TensorMap stored = sslx::interop::read_tensor_file(dir / "model.safetensors", &metadata);
  CHECK(metadata.at("format") == "pt");  // transformers refuses files without it
  CHECK(stored.at("model.embed_tokens.weight").scalar_type() == at::kBFloat16);
  const TensorMap state =
      sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path()));
  for (const auto& [name, tensor] : sslx::nn::named_state(*model)) {
    INFO(name);
    CHECK(at::allclose(state.at(name), tensor, /*rtol=*/1.0 / 128, /*atol=*/0.0));
  }
}

TEST_CASE("an independent NumPy forward pass reads the export and matches sslx's logits", "[hf]") {
  for (const bool tied : {true, false}) {
    for (const auto& family : families(tied)) {
      DYNAMIC_SECTION(family.name << (tied ? " tied" : " untied")) {
        const sslx::test::TempDir dir;
        auto model = random_model(family.model, 7);
        sslx::interop::write_hf_directory(dir.path(), spec_of(family.model),
                                          sslx::nn::named_state(*model), kTokenizer, at::kFloat,
                                          "test model");
        const Batch b = batch(family.model);
        TensorMap reference{{"input_ids", b.input_ids}, {"logits", logits(*model, b)}};
        if (b.decoder_input_ids.defined())
          reference.emplace("decoder_input_ids", b.decoder_input_ids);
        check_numpy_reference(dir, reference, family.name);
      }
    }
  }
}

TEST_CASE("export refuses a backbone no family holds exactly, naming the options", "[hf]") {
  const sslx::test::TempDir dir;
  SECTION("rotary positions with LayerNorm") {
    const Node model_table = table("decoder", {{"positions", "rotary"}});
    auto model = random_model(model_table, 1);
    CHECK_THROWS_WITH(
        sslx::interop::write_hf_directory(dir.path(), spec_of(model_table),
                                          sslx::nn::named_state(*model), kTokenizer, at::kFloat,
                                          "m"),
        Catch::Contains("no Hugging Face model family holds this decoder exactly") &&
            Catch::Contains("GPT2LMHeadModel: positions: GPT-2 has learned positions") &&
            Catch::Contains("LlamaForCausalLM: norm: Llama uses rms_norm"));
    CHECK(!stdfs::exists(dir / "model.safetensors"));
  }
  SECTION("a pre-norm encoder") {
    const Node model_table = table("encoder", {});
    auto model = random_model(model_table, 1);
    CHECK_THROWS_WITH(sslx::interop::write_hf_directory(dir.path(), spec_of(model_table),
                                                        sslx::nn::named_state(*model), kTokenizer,
                                                        at::kFloat, "m"),
                      Catch::Contains("arch = encoder: GPT-2 is a decoder") &&
                          Catch::Contains("BertForMaskedLM: norm_position: BERT is post-norm"));
  }
  SECTION("a BERT-like encoder without BERT's LM head transform") {
    Node model_table = families(true)[3].model;
    model_table.set("lm_head_transform", false);
    auto model = random_model(model_table, 1);
    CHECK_THROWS_WITH(sslx::interop::write_hf_directory(dir.path(), spec_of(model_table),
                                                        sslx::nn::named_state(*model), kTokenizer,
                                                        at::kFloat, "m"),
                      Catch::Contains("BertForMaskedLM: lm_head_transform = false"));
  }
  SECTION("a model with a head the family has no place for") {
    const Node model_table = families(true)[0].model;
    auto model = random_model(model_table, 1);
    TensorMap state = sslx::nn::named_state(*model);
    state.emplace("reward_head.proj.weight", at::zeros({1, 16}));
    CHECK_THROWS_WITH(
        sslx::interop::write_hf_directory(dir.path(), spec_of(model_table), state, kTokenizer,
                                          at::kFloat, "model.pt"),
        Catch::Contains("model.pt holds \"reward_head.proj.weight\", which GPT2LMHeadModel has no "
                        "place for"));
  }
}

TEST_CASE("import refuses HF directories it cannot read exactly, naming file and key", "[hf]") {
  const sslx::test::TempDir dir;
  const Node model_table = families(false)[0].model;
  auto model = random_model(model_table, 1);
  sslx::interop::write_hf_directory(dir.path(), spec_of(model_table), sslx::nn::named_state(*model),
                                    kTokenizer, at::kFloat, "m");
  const auto config_file = dir / "config.json";
  auto config = nlohmann::json::parse(std::ifstream(config_file));
  const auto rewrite = [&](const nlohmann::json& changed) {
    std::ofstream(config_file) << changed.dump();
  };
  SECTION("an unknown key") {
    auto changed = config;
    changed["use_parallel_residual"] = true;
    rewrite(changed);
    CHECK_THROWS_WITH(sslx::interop::read_hf_directory(dir.path()),
                      Catch::Contains("config.json has \"use_parallel_residual\" = true"));
  }
  SECTION("a setting without an sslx equivalent") {
    auto changed = config;
    changed["scale_attn_by_inverse_layer_idx"] = true;
    rewrite(changed);
    CHECK_THROWS_WITH(sslx::interop::read_hf_directory(dir.path()),
                      Catch::Contains("\"scale_attn_by_inverse_layer_idx\" = true has no sslx "
                                      "equivalent"));
  }
  SECTION("an unknown model type") {
    auto changed = config;
    changed["model_type"] = "bloom";
    rewrite(changed);
    CHECK_THROWS_WITH(sslx::interop::read_hf_directory(dir.path()),
                      Catch::Contains("model_type \"bloom\" is not a family sslx reads"));
  }
  SECTION("a shape that config.json does not describe") {
    auto changed = config;
    changed["n_inner"] = 32;
    rewrite(changed);
    CHECK_THROWS_WITH(
        sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path())),
        Catch::Contains("tensor \"transformer.h.0.mlp.c_fc.weight\" is [16, 24], but config.json "
                        "describes [16, 32]"));
  }
  SECTION("a missing tensor") {
    TensorMap tensors = sslx::interop::read_tensor_file(dir / "model.safetensors");
    tensors.erase("transformer.h.1.ln_2.bias");
    sslx::interop::write_tensor_file(dir / "model.safetensors", tensors);
    CHECK_THROWS_WITH(sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path())),
                      Catch::Contains("lacks tensor \"transformer.h.1.ln_2.bias\""));
  }
  SECTION("a tensor the family does not have") {
    TensorMap tensors = sslx::interop::read_tensor_file(dir / "model.safetensors");
    tensors.emplace("score.weight", at::zeros({1, 16}));
    sslx::interop::write_tensor_file(dir / "model.safetensors", tensors);
    CHECK_THROWS_WITH(
        sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path())),
        Catch::Contains("holds tensor \"score.weight\", which GPT2LMHeadModel does not have"));
  }
  SECTION("a base-model file (no transformer. prefix) and saved causal masks are read") {
    TensorMap tensors;
    for (auto& [name, tensor] : sslx::interop::read_tensor_file(dir / "model.safetensors"))
      tensors.emplace(name.starts_with("transformer.") ? name.substr(12) : name, tensor);
    tensors.emplace("h.0.attn.bias", at::ones({1, 1, 16, 16}));
    sslx::interop::write_tensor_file(dir / "model.safetensors", tensors);
    const TensorMap state =
        sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path()));
    CHECK(at::equal(state.at("backbone.stack.layers.1.ff.in_proj.weight"),
                    model->backbone->named_parameters()["stack.layers.1.ff.in_proj.weight"]));
  }
}

TEST_CASE("sharded safetensors are read through their index", "[hf]") {
  const sslx::test::TempDir dir;
  const Node model_table = families(true)[1].model;
  auto model = random_model(model_table, 2);
  sslx::interop::write_hf_directory(dir.path(), spec_of(model_table), sslx::nn::named_state(*model),
                                    kTokenizer, at::kFloat, "m");
  // Split model.safetensors into two shards and an index, as save_pretrained does for large models.
  const TensorMap all = sslx::interop::read_tensor_file(dir / "model.safetensors");
  stdfs::remove(dir / "model.safetensors");
  TensorMap first, second;
  nlohmann::json index = {{"metadata", {{"total_size", 0}}},
                          {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, tensor] : all) {
    const bool early = name.find("layers.1.") == std::string::npos;
    (early ? first : second).emplace(name, tensor);
    index["weight_map"][name] =
        early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
  }
  sslx::interop::write_tensor_file(dir / "model-00001-of-00002.safetensors", first);
  sslx::interop::write_tensor_file(dir / "model-00002-of-00002.safetensors", second);
  std::ofstream(dir / "model.safetensors.index.json") << index.dump();
  const TensorMap state =
      sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path()));
  for (const auto& [name, tensor] : sslx::nn::named_state(*model)) {
    INFO(name);
    CHECK(at::equal(state.at(name), tensor));
  }
  SECTION("a tensor in another shard than the index says") {
    index["weight_map"]["model.layers.1.mlp.up_proj.weight"] = "model-00001-of-00002.safetensors";
    std::ofstream(dir / "model.safetensors.index.json") << index.dump();
    CHECK_THROWS_WITH(sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path())),
                      Catch::Contains("holds tensor \"model.layers.1.mlp.up_proj.weight\"") &&
                          Catch::Contains("places elsewhere"));
  }
}

TEST_CASE("tied tensors that a file repeats are read when equal and refused when not", "[hf]") {
  struct Copy {
    std::size_t family;
    std::string copy, original;
  };
  // GPT-2's tied lm_head, BERT's decoder weight and bias, T5's per-stack embeddings.
  for (const Copy& c :
       {Copy{0, "lm_head.weight", "transformer.wte.weight"},
        Copy{3, "cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"},
        Copy{3, "cls.predictions.decoder.bias", "cls.predictions.bias"},
        Copy{2, "encoder.embed_tokens.weight", "shared.weight"}}) {
    DYNAMIC_SECTION(c.copy) {
      const sslx::test::TempDir dir;
      const Node model_table = families(true)[c.family].model;
      auto model = random_model(model_table, 6);
      sslx::interop::write_hf_directory(dir.path(), spec_of(model_table),
                                        sslx::nn::named_state(*model), kTokenizer, at::kFloat, "m");
      TensorMap tensors = sslx::interop::read_tensor_file(dir / "model.safetensors");
      REQUIRE(tensors.count(c.copy) == 0);  // sslx writes each tensor once
      tensors.emplace(c.copy, tensors.at(c.original).clone());
      sslx::interop::write_tensor_file(dir / "model.safetensors", tensors);
      const TensorMap state =
          sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path()));
      CHECK(state.size() == sslx::nn::named_state(*model).size());

      tensors.at(c.copy) = tensors.at(c.copy) + 1e-3;
      sslx::interop::write_tensor_file(dir / "model.safetensors", tensors);
      CHECK_THROWS_WITH(
          sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path())),
          Catch::Contains("holds \"" + c.copy + "\" different from \"" + c.original + "\""));
    }
  }
}

TEST_CASE("a reward model exports as ...ForSequenceClassification, read by the NumPy forward",
          "[hf]") {
  // GPT-2 and Llama: the backbone and `score` (1, E) without bias at the last token.
  const auto all = families(true);
  for (const std::size_t index : {std::size_t{0}, std::size_t{1}}) {
    const Family& family = all[index];
    DYNAMIC_SECTION(family.name) {
      const sslx::test::TempDir dir;
      sslx::arch::register_builtin_architectures();
      sslx::objectives::RewardModel model(family.model, kTokenizer.vocab_size());
      model->eval();
      at::manual_seed(8);
      {
        const at::NoGradGuard no_grad;
        for (auto& [name, tensor] : sslx::nn::named_state(*model)) {
          const bool norm = name.find("norm") != std::string::npos;
          tensor.copy_(at::randn(tensor.sizes()) * 0.3 + (norm ? 1.0 : 0.0));
        }
        // Training leaves a small bias (Adam on the rounding noise of its gradient).
        model->reward_head->proj->bias.fill_(0.25);
      }
      auto spec = spec_of(family.model);
      spec.head = sslx::interop::ModelSpec::SequenceHead{};
      if (family.name == "llama") {
        // RMSNorm has no bias to carry the score's: refused, then exported once it is 0.
        CHECK_THROWS_WITH(
            sslx::interop::write_hf_directory(dir / "biased", spec, sslx::nn::named_state(*model),
                                              kTokenizer, at::kFloat, "reward model"),
            Catch::Contains("reward_head.proj.bias is 0.25") &&
                Catch::Contains("LlamaForSequenceClassification's score layer has no bias and "
                                "the backbone's final norm has none to carry it"));
        const at::NoGradGuard no_grad;
        model->reward_head->proj->bias.zero_();
      }
      const auto result = sslx::interop::write_hf_directory(
          dir.path(), spec, sslx::nn::named_state(*model), kTokenizer, at::kFloat, "reward model");
      const std::string hf_class = family.name == "gpt2" ? "GPT2ForSequenceClassification"
                                                         : "LlamaForSequenceClassification";
      CHECK(result.hf_class == hf_class);
      const auto config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
      CHECK(config["architectures"] == nlohmann::json::array({hf_class}));
      CHECK(config["id2label"].size() == 1);
      CHECK(!stdfs::exists(dir / "generation_config.json"));
      const TensorMap stored = sslx::interop::read_tensor_file(dir / "model.safetensors");
      CHECK(stored.at("score.weight").sizes() == at::IntArrayRef({1, 16}));
      CHECK(stored.count("lm_head.weight") == 0);

      const Batch b = batch(family.model);
      at::Tensor rewards;
      {
        const at::NoGradGuard no_grad;
        rewards = model->forward(b.input_ids, at::ones_like(b.input_ids, at::kBool));
      }
      check_numpy_reference(
          dir, {{"input_ids", b.input_ids}, {"logits", rewards.view({-1, 1}).contiguous()}},
          family.name);

      // GPT-2 carries the bias in ln_f's: the reference above saw the biased rewards.
      if (family.name == "gpt2") CHECK(model->reward_head->proj->bias.item<double>() == 0.25);
    }
  }
  SECTION("a family without a reward-model class refuses") {
    const Node model_table = families(true)[2].model;  // T5
    auto spec = spec_of(model_table);
    spec.head = sslx::interop::ModelSpec::SequenceHead{};
    CHECK_THROWS_WITH(
        sslx::interop::family_for(spec),
        Catch::Contains("encoder_decoder reward model exactly") &&
            Catch::Contains("T5ForConditionalGeneration: no sequence-classification class here"));
  }
}

TEST_CASE(
    "a classifier exports as ...ForSequenceClassification, read by the NumPy forward and "
    "imported back",
    "[hf]") {
  // BERT: [CLS] through the pooler, then `classifier` with its bias. GPT-2: the last token,
  // `score` without bias, the head's bias carried by ln_f's. Three labels, random weights.
  struct Case {
    std::size_t family;
    std::string hf_class;
    sslx::arch::Pooling pooling;
    bool pooler;
  };
  const auto all = families(true);
  for (const Case& c :
       {Case{3, "BertForSequenceClassification", sslx::arch::Pooling::first, true},
        Case{0, "GPT2ForSequenceClassification", sslx::arch::Pooling::last, false}}) {
    const Family& family = all[c.family];
    DYNAMIC_SECTION(family.name) {
      const sslx::test::TempDir dir;
      sslx::arch::register_builtin_architectures();
      const auto backbone =
          sslx::arch::architecture_registry().create(family.model, kTokenizer.vocab_size());
      sslx::arch::ClassificationHead head(sslx::arch::ClassificationHeadOptions{
          .d_model = 16, .n_classes = 3, .pooling = c.pooling, .pooler = c.pooler});
      backbone->eval();
      head->eval();
      at::manual_seed(9);
      TensorMap state;
      {
        const at::NoGradGuard no_grad;
        for (auto& [name, tensor] : sslx::nn::named_state(*backbone))
          state.emplace("backbone." + name, tensor);
        for (auto& [name, tensor] : sslx::nn::named_state(*head))
          state.emplace("classifier_head." + name, tensor);
        for (auto& [name, tensor] : state) {
          const bool norm = name.find("norm") != std::string::npos;
          tensor.copy_(at::randn(tensor.sizes()) * 0.3 + (norm ? 1.0 : 0.0));
        }
      }
      auto spec = spec_of(family.model);
      spec.head = sslx::interop::ModelSpec::SequenceHead{.module = "classifier_head",
                                                         .labels = {"neg", "neutral", "pos"},
                                                         .pooling = c.pooling,
                                                         .pooler = c.pooler};
      const auto result = sslx::interop::write_hf_directory(dir.path(), spec, state, kTokenizer,
                                                            at::kFloat, "classifier");
      CHECK(result.hf_class == c.hf_class);
      const auto config = nlohmann::json::parse(std::ifstream(dir / "config.json"));
      CHECK(config["architectures"] == nlohmann::json::array({c.hf_class}));
      CHECK(config["id2label"] == nlohmann::json({{"0", "neg"}, {"1", "neutral"}, {"2", "pos"}}));
      const TensorMap stored = sslx::interop::read_tensor_file(dir / "model.safetensors");
      if (c.pooler) {
        CHECK(stored.at("classifier.weight").sizes() == at::IntArrayRef({3, 16}));
        CHECK(stored.at("classifier.bias").sizes() == at::IntArrayRef({3}));
        CHECK(stored.at("bert.pooler.dense.weight").sizes() == at::IntArrayRef({16, 16}));
        CHECK(stored.count("cls.predictions.bias") == 0);
      } else {
        CHECK(stored.at("score.weight").sizes() == at::IntArrayRef({3, 16}));
        CHECK(stored.count("score.bias") == 0);
      }

      const Batch b = batch(family.model);
      at::Tensor logits;
      {
        const at::NoGradGuard no_grad;
        logits = head->forward(backbone->forward({.token_ids = b.input_ids}).hidden_states);
      }
      check_numpy_reference(dir, {{"input_ids", b.input_ids}, {"logits", logits}}, family.name);

      // Imported: the head as it was (GPT-2's bias now 0, carried by ln_f), the same logits.
      const auto directory = sslx::interop::read_hf_directory(dir.path());
      CHECK(directory.hf_class() == c.hf_class);
      REQUIRE(directory.head);
      CHECK(directory.head->module == "classifier_head");
      CHECK(directory.head->labels == std::vector<std::string>{"neg", "neutral", "pos"});
      CHECK(directory.head->pooling == c.pooling);
      CHECK(directory.head->pooler == c.pooler);
      const TensorMap read = sslx::interop::read_hf_weights(directory);
      REQUIRE(read.size() == state.size());
      for (const auto& [name, tensor] : state) {
        INFO(name);
        const bool moved = !c.pooler && (name == "classifier_head.proj.bias" ||
                                         name == "backbone.stack.final_norm.bias");
        CHECK(at::equal(read.at(name), tensor) != moved);
      }
      sslx::nn::load_state(*backbone, sslx::nn::submodule_state(read, "backbone"), "imported");
      sslx::nn::load_state(*head, sslx::nn::submodule_state(read, "classifier_head"), "imported");
      const at::NoGradGuard no_grad;
      const at::Tensor again =
          head->forward(backbone->forward({.token_ids = b.input_ids}).hidden_states);
      CHECK((again - logits).abs().max().item<double>() < 1e-5);
    }
  }
}

TEST_CASE("a classifier no sequence class holds exactly is refused, naming why", "[hf]") {
  const auto all = families(true);
  using Head = sslx::interop::ModelSpec::SequenceHead;
  auto bert = spec_of(all[3].model);
  bert.head = Head{.module = "classifier_head",
                   .labels = {"a", "b"},
                   .pooling = sslx::arch::Pooling::mean,
                   .pooler = true};
  CHECK_THROWS_WITH(sslx::interop::family_for(bert),
                    Catch::Contains("encoder classifier exactly") &&
                        Catch::Contains("pooling: BertForSequenceClassification reads the first "
                                        "token ([CLS])"));
  auto gpt2 = spec_of(all[0].model);
  gpt2.head = Head{.module = "classifier_head",
                   .labels = {"a", "b"},
                   .pooling = sslx::arch::Pooling::last,
                   .pooler = true};
  CHECK_THROWS_WITH(sslx::interop::family_for(gpt2),
                    Catch::Contains("pooler: GPT2ForSequenceClassification has none"));

  // Two equal rows of the score with different biases: no shift of ln_f gives both.
  at::manual_seed(5);
  gpt2.head->pooler = false;
  sslx::arch::register_builtin_architectures();
  const auto backbone =
      sslx::arch::architecture_registry().create(all[0].model, kTokenizer.vocab_size());
  TensorMap state;
  for (auto& [name, tensor] : sslx::nn::named_state(*backbone))
    state.emplace("backbone." + name, tensor.detach().clone());
  const at::Tensor row = at::randn({1, 16});
  state.emplace("classifier_head.proj.weight", at::cat({row, row}, 0));
  state.emplace("classifier_head.proj.bias", at::tensor({0.5f, -0.5f}));
  const sslx::test::TempDir dir;
  CHECK_THROWS_WITH(sslx::interop::write_hf_directory(dir.path(), gpt2, state, kTokenizer,
                                                      at::kFloat, "dependent"),
                    Catch::Contains("classifier_head.proj.bias is not 0") &&
                        Catch::Contains("the score's rows are linearly dependent"));
  // With equal biases the shift exists (any c with w.c = 0.5): exported.
  state.at("classifier_head.proj.bias") = at::tensor({0.5f, 0.5f});
  CHECK(sslx::interop::write_hf_directory(dir.path(), gpt2, state, kTokenizer, at::kFloat, "equal")
            .hf_class == "GPT2ForSequenceClassification");

  // Reading it back: a classifier's config.json must name its labels, and sslx's classifiers
  // pick one class.
  const auto config_file = dir / "config.json";
  const auto original = nlohmann::json::parse(std::ifstream(config_file));
  CHECK(sslx::interop::read_hf_directory(dir.path()).head->labels ==
        std::vector<std::string>{"a", "b"});
  const auto rewrite = [&](const std::function<void(nlohmann::json&)>& change) {
    nlohmann::json config = original;
    change(config);
    std::ofstream(config_file) << config.dump();
  };
  rewrite([](nlohmann::json& c) { c.erase("id2label"); });
  CHECK_THROWS_WITH(sslx::interop::read_hf_directory(dir.path()),
                    Catch::Contains("config.json names GPT2ForSequenceClassification but has no "
                                    "\"id2label\""));
  rewrite([](nlohmann::json& c) { c["id2label"] = {{"0", "a"}, {"2", "b"}}; });
  CHECK_THROWS_WITH(sslx::interop::read_hf_directory(dir.path()),
                    Catch::Contains("config.json: \"id2label\" is {\"0\":\"a\",\"2\":\"b\"}"));
  rewrite([](nlohmann::json& c) { c["problem_type"] = "multi_label_classification"; });
  CHECK_THROWS_WITH(sslx::interop::read_hf_directory(dir.path()),
                    Catch::Contains("\"problem_type\" = \"multi_label_classification\" has no "
                                    "sslx equivalent"));
  // A language model's directory is not one: its config.json names the LM class.
  rewrite([](nlohmann::json& c) { c["architectures"] = {"GPT2LMHeadModel"}; });
  CHECK_THROWS_WITH(sslx::interop::read_hf_weights(sslx::interop::read_hf_directory(dir.path())),
                    Catch::Contains("holds tensor \"score.weight\", which GPT2LMHeadModel does "
                                    "not have"));
}
