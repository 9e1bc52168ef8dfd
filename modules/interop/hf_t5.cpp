// T5 (Raffel et al. 2020) as transformers' T5ForConditionalGeneration writes it: a pre-norm
// encoder-decoder with RMSNorm ("T5LayerNorm"), no biases, unscaled attention scores, one
// bucketed relative-position bias table per stack (held by its first block), one embedding table
// shared by both stacks and, when the head is tied, hidden states scaled by d_model^-1/2 before
// it. Feed-forward: "relu" / "gelu" / "gelu_new" (wi, wo) or "gated-silu" (wi_0 gated, wi_1).
#include <string>

#include "interop/hf_families.h"

namespace sslx::interop {
namespace {

using arch::ArchitectureKind;
using arch::PositionKind;
using nn::Activation;

// sslx activation <-> feed_forward_proj. transformers reads "gated-gelu" as the tanh GELU gating
// (T5 v1.1), which sslx's geglu (exact GELU) is not, so geglu has no T5 equivalent.
struct FeedForwardName {
  Activation activation;
  const char* sslx;
  const char* hf;
};
constexpr FeedForwardName kFeedForwards[] = {{Activation::relu, "relu", "relu"},
                                             {Activation::gelu, "gelu", "gelu"},
                                             {Activation::gelu_tanh, "gelu_tanh", "gelu_new"},
                                             {Activation::swiglu, "swiglu", "gated-silu"}};

const FeedForwardName* feed_forward(Activation activation) {
  for (const auto& entry : kFeedForwards)
    if (entry.activation == activation) return &entry;
  return nullptr;
}

class T5Family : public HfFamily {
 public:
  std::string model_type() const override { return "t5"; }
  std::string hf_class() const override { return "T5ForConditionalGeneration"; }

  std::vector<std::pair<std::string, std::string>> tied_copies(
      const ModelSpec& spec) const override {
    // Both stacks' embeddings are the shared table; some files repeat it under these names.
    auto copies = HfFamily::tied_copies(spec);
    copies.emplace_back("encoder.embed_tokens.weight", "shared.weight");
    copies.emplace_back("decoder.embed_tokens.weight", "shared.weight");
    return copies;
  }

  std::vector<std::string> differences(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    Differences d;
    d.require(spec.kind == ArchitectureKind::encoder_decoder,
              "arch = " + spec.arch + ": T5 is an encoder_decoder");
    d.require(o.positions == PositionKind::relative, "positions: T5 has relative positions");
    d.require(o.norm == nn::NormKind::rms_norm, "norm: T5 uses rms_norm");
    d.require(o.norm_position == nn::NormPosition::pre, "norm_position: T5 is pre-norm");
    d.require(!o.bias, "bias = true: T5 has no biases");
    d.require(!o.scale_attention, "scale_attention = true: T5 does not scale scores");
    d.require(feed_forward(o.activation) != nullptr,
              "activation: T5 takes relu, gelu, gelu_tanh or swiglu (its gated-gelu is the tanh "
              "GELU, which sslx's geglu is not)");
    d.require(o.n_kv_heads == 0 || o.n_kv_heads == o.n_heads,
              "n_kv_heads: T5 has one key/value head per query head");
    d.require(o.n_token_types == 0, "token_types: T5 has no token types");
    d.require(!o.lm_head_transform, "lm_head_transform: T5's head has no transform");
    d.require(o.tied_head_scale == o.tie_embeddings,
              "tied_head_scale: T5 scales the hidden states exactly when the head is tied");
    return d.lines;
  }

  nlohmann::json config(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    return {{"model_type", "t5"},
            {"architectures", {hf_class()}},
            {"vocab_size", o.vocab_size},
            {"d_model", o.d_model},
            {"d_kv", o.d_model / o.n_heads},
            {"d_ff", o.d_ff},
            {"num_layers", o.n_layers},
            {"num_decoder_layers", o.n_decoder_layers > 0 ? o.n_decoder_layers : o.n_layers},
            {"num_heads", o.n_heads},
            {"n_positions", o.max_positions},
            {"relative_attention_num_buckets", o.relative_buckets},
            {"relative_attention_max_distance", o.relative_max_distance},
            {"dropout_rate", o.dropout},
            {"layer_norm_epsilon", effective_norm_eps(o)},
            {"feed_forward_proj", feed_forward(o.activation)->hf},
            {"is_encoder_decoder", true},
            {"initializer_factor", 1.0},
            {"tie_word_embeddings", o.tie_embeddings},
            {"use_cache", true}};
  }

  config::Node model_table(const nlohmann::json& c, const std::string& file) const override {
    check_known_keys(c,
                     {"vocab_size", "d_model", "d_kv", "d_ff", "num_layers", "num_decoder_layers",
                      "num_heads", "relative_attention_num_buckets",
                      "relative_attention_max_distance", "dropout_rate", "layer_norm_epsilon",
                      "feed_forward_proj", "dense_act_fn", "is_gated_act", "is_encoder_decoder",
                      "n_positions", "output_past", "gradient_checkpointing", "classifier_dropout"},
                     file);
    const std::string hf_name = json_or(c, "feed_forward_proj", "relu").get<std::string>();
    const FeedForwardName* activation = nullptr;
    for (const auto& entry : kFeedForwards)
      if (hf_name == entry.hf) activation = &entry;
    if (activation == nullptr)
      unsupported(file, "feed_forward_proj", c["feed_forward_proj"],
                  "sslx reads relu, gelu, gelu_new and gated-silu (\"gated-gelu\" gates with the "
                  "tanh GELU, which sslx's geglu is not)");
    const std::int64_t E = json_int(c, "d_model", file);
    const std::int64_t H = json_int(c, "num_heads", file);
    if (json_int(c, "d_kv", file) * H != E)
      unsupported(file, "d_kv", c["d_kv"], "sslx's head width is d_model / num_heads");
    config::Node m = standard_model_table("encoder_decoder");
    m.set("d_model", E);
    m.set("n_layers", json_int(c, "num_layers", file));
    m.set("n_decoder_layers",
          json_or(c, "num_decoder_layers", json_int(c, "num_layers", file)).get<std::int64_t>());
    m.set("n_heads", H);
    m.set("d_ff", json_int(c, "d_ff", file));
    m.set("max_positions", json_or(c, "n_positions", 512).get<std::int64_t>());
    m.set("activation", std::string(activation->sslx));
    m.set("norm", "rms_norm");
    m.set("norm_eps", json_or(c, "layer_norm_epsilon", 1e-6).get<double>());
    m.set("positions", "relative");
    m.set("relative_buckets", json_or(c, "relative_attention_num_buckets", 32).get<std::int64_t>());
    m.set("relative_max_distance",
          json_or(c, "relative_attention_max_distance", 128).get<std::int64_t>());
    m.set("bias", false);
    m.set("scale_attention", false);
    const double dropout = json_or(c, "dropout_rate", 0.1).get<double>();
    m.set("dropout", dropout);
    m.set("attention_dropout", dropout);
    m.set("embedding_dropout", dropout);
    m.set("init", "t5");
    const bool tied = json_or(c, "tie_word_embeddings", true).get<bool>();
    m.set("tie_embeddings", tied);
    m.set("tied_head_scale", tied);
    return m;
  }

  std::vector<TensorRule> rules(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    std::vector<TensorRule> rules = {
        {.hf = "shared.weight", .sslx = {"backbone.embeddings.tokens.weight"}}};
    const bool gated = o.activation == Activation::swiglu;
    const auto stack = [&](const std::string& hf_stack, std::int64_t n_layers, bool decoder) {
      const std::string sslx_stack = "backbone." + hf_stack + ".";
      rules.push_back(
          {.hf = hf_stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight",
           .sslx = {sslx_stack + "relative_bias.weight"}});
      rules.push_back({.hf = hf_stack + ".final_layer_norm.weight",
                       .sslx = {sslx_stack + "final_norm.weight"}});
      for (std::int64_t i = 0; i < n_layers; ++i) {
        const std::string h = hf_stack + ".block." + std::to_string(i) + ".layer.";
        const std::string s = sslx_stack + "layers." + std::to_string(i) + ".";
        const auto attention = [&](const std::string& hf, const std::string& sslx) {
          for (const char* p : {"q", "k", "v"}) {
            rules.push_back({.hf = hf + p + ".weight", .sslx = {sslx + p + "_proj.weight"}});
          }
          rules.push_back({.hf = hf + "o.weight", .sslx = {sslx + "out_proj.weight"}});
        };
        attention(h + "0.SelfAttention.", s + "self_attn.");
        rules.push_back({.hf = h + "0.layer_norm.weight", .sslx = {s + "self_attn_norm.weight"}});
        if (decoder) {
          attention(h + "1.EncDecAttention.", s + "cross_attn.");
          rules.push_back(
              {.hf = h + "1.layer_norm.weight", .sslx = {s + "cross_attn_norm.weight"}});
        }
        const std::string ff = h + (decoder ? "2." : "1.");
        if (gated) {
          rules.push_back(
              {.hf = ff + "DenseReluDense.wi_0.weight", .sslx = {s + "ff.gate_proj.weight"}});
          rules.push_back(
              {.hf = ff + "DenseReluDense.wi_1.weight", .sslx = {s + "ff.in_proj.weight"}});
        } else {
          rules.push_back(
              {.hf = ff + "DenseReluDense.wi.weight", .sslx = {s + "ff.in_proj.weight"}});
        }
        rules.push_back(
            {.hf = ff + "DenseReluDense.wo.weight", .sslx = {s + "ff.out_proj.weight"}});
        rules.push_back({.hf = ff + "layer_norm.weight", .sslx = {s + "ff_norm.weight"}});
      }
    };
    stack("encoder", o.n_layers, false);
    stack("decoder", o.n_decoder_layers > 0 ? o.n_decoder_layers : o.n_layers, true);
    if (!o.tie_embeddings)
      rules.push_back({.hf = "lm_head.weight", .sslx = {"lm_head.proj.weight"}});
    return rules;
  }
};

}  // namespace

const HfFamily& t5_family() {
  static const T5Family family;
  return family;
}

}  // namespace sslx::interop
