#include "architectures/architecture_registry.h"

#include "architectures/decoder.h"
#include "architectures/encoder.h"
#include "architectures/encoder_decoder.h"

namespace sslx::arch {
namespace {

void add_shape(config::Schema& schema) {
  schema.add({.key = "d_model",
              .type = config::Type::kInt,
              .default_value = 256,
              .doc = "model width E",
              .min = 1});
  schema.add({.key = "n_layers",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "blocks per stack (the encoder's in an encoder_decoder)",
              .min = 1});
  schema.add({.key = "n_heads",
              .type = config::Type::kInt,
              .default_value = 4,
              .doc = "attention heads H, dividing d_model",
              .min = 1});
  schema.add({.key = "n_kv_heads",
              .type = config::Type::kInt,
              .default_value = 0,
              .doc = "key/value heads G dividing n_heads (grouped-query attention); 0: n_heads",
              .min = 0});
  schema.add({.key = "d_ff",
              .type = config::Type::kInt,
              .default_value = 1024,
              .doc = "feed-forward width F (gated activations: use 2/3 of a plain F)",
              .min = 1});
  schema.add({.key = "max_positions",
              .type = config::Type::kInt,
              .default_value = 512,
              .doc = "longest sequence; the size of learned position tables",
              .min = 1});
}

void add_choices(config::Schema& schema) {
  schema.add({.key = "activation",
              .type = config::Type::kString,
              .default_value = "gelu",
              .doc = "feed-forward activation (gelu is exact; gelu_tanh is GPT-2's)",
              .choices = {"gelu", "gelu_tanh", "relu", "swiglu", "geglu"}});
  schema.add({.key = "norm",
              .type = config::Type::kString,
              .default_value = "layer_norm",
              .doc = "normalisation layer",
              .choices = {"layer_norm", "rms_norm"}});
  schema.add({.key = "norm_eps",
              .type = config::Type::kFloat,
              .default_value = 0.0,
              .doc = "norm epsilon; 0: the norm's default (layer_norm 1e-5, rms_norm 1e-6)",
              .min = 0.0});
  schema.add({.key = "norm_position",
              .type = config::Type::kString,
              .default_value = "pre",
              .doc = "pre: norm before each sub-layer + final norm (GPT-2, T5); post: after the "
                     "residual sum + embedding norm (BERT)",
              .choices = {"pre", "post"}});
  schema.add({.key = "positions",
              .type = config::Type::kString,
              .default_value = "learned",
              .doc = "position information",
              .choices = {"learned", "sinusoidal", "rotary", "relative", "none"}});
  schema.add({.key = "relative_buckets",
              .type = config::Type::kInt,
              .default_value = 32,
              .doc = "buckets of the relative position bias (positions = relative)",
              .min = 4});
  schema.add({.key = "relative_max_distance",
              .type = config::Type::kInt,
              .default_value = 128,
              .doc = "distance from which all share the last bucket (positions = relative)",
              .min = 2});
  schema.add({.key = "token_types",
              .type = config::Type::kInt,
              .default_value = 0,
              .doc = "token-type (segment A/B) embeddings as in BERT; 0: none",
              .min = 0});
  schema.add({.key = "bias",
              .type = config::Type::kBool,
              .default_value = true,
              .doc = "biases in projections and LayerNorms (T5 has none)"});
  schema.add({.key = "scale_attention",
              .type = config::Type::kBool,
              .default_value = true,
              .doc = "divide attention scores by sqrt(head width); T5 does not"});
}

void add_training(config::Schema& schema) {
  const auto probability = [&](const char* key, const char* doc) {
    schema.add({.key = key,
                .type = config::Type::kFloat,
                .default_value = 0.0,
                .doc = doc,
                .min = 0.0,
                .max = 0.99});
  };
  probability("dropout", "dropout on each sub-layer's output before the residual sum");
  probability("attention_dropout", "dropout on the attention probabilities");
  probability("embedding_dropout", "dropout on the embedding output");
  schema.add({.key = "init",
              .type = config::Type::kString,
              .default_value = "gpt2",
              .doc = "initialisation: gpt2 (0.02, residual projections / sqrt(2 n_layers)), "
                     "bert (0.02), t5 (per-matrix fan-in scales)",
              .choices = {"gpt2", "bert", "t5"}});
  schema.add({.key = "tie_embeddings",
              .type = config::Type::kBool,
              .default_value = true,
              .doc = "the LM head reuses the input token embedding"});
  schema.add({.key = "tied_head_scale",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "a tied LM head scales the hidden states by d_model^-1/2 first (T5)"});
  schema.add({.key = "lm_head_transform",
              .type = config::Type::kBool,
              .default_value = false,
              .doc = "BERT's LM head: dense d_model -> d_model, the activation and the norm before "
                     "the projection to the vocabulary, which gets a bias"});
}

}  // namespace

config::Schema standard_schema(bool encoder_decoder) {
  config::Schema schema;
  add_shape(schema);
  if (encoder_decoder) {
    schema.add({.key = "n_decoder_layers",
                .type = config::Type::kInt,
                .default_value = 0,
                .doc = "blocks in the decoder stack; 0: n_layers",
                .min = 0});
  }
  add_choices(schema);
  add_training(schema);
  return schema;
}

ArchitectureOptions options_from_config(const config::Node& m, std::int64_t vocab_size) {
  ArchitectureOptions o{.vocab_size = vocab_size,
                        .d_model = m.get_int("d_model"),
                        .n_layers = m.get_int("n_layers"),
                        .n_heads = m.get_int("n_heads"),
                        .n_kv_heads = m.get_int("n_kv_heads"),
                        .d_ff = m.get_int("d_ff"),
                        .activation = nn::activation_from_name(m.get_string("activation")),
                        .norm = nn::norm_kind_from_name(m.get_string("norm")),
                        .norm_eps = m.get_float("norm_eps"),
                        .norm_position = nn::norm_position_from_name(m.get_string("norm_position")),
                        .positions = position_kind_from_name(m.get_string("positions")),
                        .max_positions = m.get_int("max_positions"),
                        .relative_buckets = m.get_int("relative_buckets"),
                        .relative_max_distance = m.get_int("relative_max_distance"),
                        .n_token_types = m.get_int("token_types"),
                        .bias = m.get_bool("bias"),
                        .scale_attention = m.get_bool("scale_attention"),
                        .dropout = m.get_float("dropout"),
                        .attention_dropout = m.get_float("attention_dropout"),
                        .embedding_dropout = m.get_float("embedding_dropout"),
                        .init = nn::init_scheme_from_name(m.get_string("init")),
                        .tie_embeddings = m.get_bool("tie_embeddings"),
                        .tied_head_scale = m.get_bool("tied_head_scale")};
  if (m.find("n_decoder_layers") != nullptr) o.n_decoder_layers = m.get_int("n_decoder_layers");
  // Runs saved before sslx had this option resolved their [model] without it: the default.
  if (m.find("lm_head_transform") != nullptr) o.lm_head_transform = m.get_bool("lm_head_transform");
  return o;
}

config::Check check_standard_options(ArchitectureKind kind) {
  return [kind](const config::CheckContext& context) {
    const config::Node& model = context.options();
    const ArchitectureOptions options = options_from_config(model, /*vocab_size=*/1);
    for (const auto& problem : problems(options, kind != ArchitectureKind::encoder)) {
      if (problem.key != "vocab_size") context.error(problem.key, problem.message);
    }
    // Learned positions are a table of max_positions rows: longer inputs have no row.
    const std::int64_t length = context.root().get_int("trainer.sequence_length");
    if (options.positions == PositionKind::learned && length > options.max_positions) {
      context.error_at("trainer.sequence_length",
                       "sequences of " + std::to_string(length) + " tokens exceed the " +
                           std::to_string(options.max_positions) +
                           " learned positions of the model (model.max_positions)");
    }
  };
}

void ArchitectureRegistry::add(std::string name, std::string doc, ArchitectureKind kind,
                               config::Schema schema, Factory factory, config::Check check) {
  const std::string key = name;
  Registry::add(std::move(name), std::move(doc), std::move(schema), std::move(factory),
                std::move(check));
  kinds_[key] = kind;
}

ArchitectureKind ArchitectureRegistry::kind_of(std::string_view name) const {
  require_index(name);
  return kinds_.find(name)->second;
}

ArchitectureKind model_kind(const config::Node& config) {
  return architecture_registry().kind_of(config.get_string("model.arch"));
}

ArchitectureRegistry& architecture_registry() {
  static ArchitectureRegistry registry("architecture", "model backbone", "model", "decoder",
                                       "arch");
  return registry;
}

void register_builtin_architectures() {
  auto& registry = architecture_registry();
  if (registry.contains("decoder")) return;
  using Kind = ArchitectureKind;
  registry.add(
      "encoder", "BERT-like: bidirectional self-attention blocks", Kind::encoder,
      standard_schema(false),
      [](const config::Node& m, std::int64_t vocab) {
        return std::make_unique<Encoder>(options_from_config(m, vocab));
      },
      check_standard_options(Kind::encoder));
  registry.add(
      "decoder", "GPT-like: causal self-attention blocks (prefix LM, KV cache)", Kind::decoder,
      standard_schema(false),
      [](const config::Node& m, std::int64_t vocab) {
        return std::make_unique<Decoder>(options_from_config(m, vocab));
      },
      check_standard_options(Kind::decoder));
  registry.add(
      "encoder_decoder", "T5-like: encoder, and a causal decoder cross-attending to it (KV cache)",
      Kind::encoder_decoder, standard_schema(true),
      [](const config::Node& m, std::int64_t vocab) {
        return std::make_unique<EncoderDecoder>(options_from_config(m, vocab));
      },
      check_standard_options(Kind::encoder_decoder));
}

}  // namespace sslx::arch
