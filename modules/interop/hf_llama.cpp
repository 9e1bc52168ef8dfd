// Llama (Touvron et al. 2023) as transformers' LlamaForCausalLM writes it: a pre-norm decoder
// with rotary positions (the half-split rotation sslx also uses, so query and key weights need no
// permutation), RMSNorm, a SwiGLU feed-forward (down(silu(gate(x)) * up(x))), no biases, and
// grouped key/value heads.
#include <cmath>
#include <string>

#include "interop/hf_families.h"

namespace sslx::interop {
namespace {

using arch::ArchitectureKind;
using arch::PositionKind;

// sslx's rotary frequencies use base 10000 (nn/attention.h).
constexpr double kRopeTheta = 10000.0;

class LlamaFamily : public HfFamily {
 public:
  std::string model_type() const override { return "llama"; }
  std::string hf_class() const override { return "LlamaForCausalLM"; }
  std::string sequence_class() const override { return "LlamaForSequenceClassification"; }
  std::string base_prefix() const override { return "model."; }

  bool ignorable(const std::string& name) const override {
    // Some converted checkpoints keep the rotary frequencies as a buffer.
    return name.ends_with(".rotary_emb.inv_freq");
  }

  std::vector<std::string> differences(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    Differences d;
    d.require(spec.kind == ArchitectureKind::decoder,
              "arch = " + spec.arch + ": Llama is a decoder");
    d.require(o.positions == PositionKind::rotary, "positions: Llama has rotary positions");
    d.require(o.norm == nn::NormKind::rms_norm, "norm: Llama uses rms_norm");
    d.require(o.norm_position == nn::NormPosition::pre, "norm_position: Llama is pre-norm");
    d.require(!o.bias, "bias = true: Llama has no biases");
    d.require(o.activation == nn::Activation::swiglu, "activation: Llama uses swiglu");
    d.require(o.scale_attention, "scale_attention = false: Llama scales scores by 1/sqrt(D)");
    d.require(o.n_token_types == 0, "token_types: Llama has no token types");
    d.require(!o.tied_head_scale, "tied_head_scale: Llama's head does not scale");
    d.require(spec.head || !o.lm_head_transform,
              "lm_head_transform: Llama's head has no transform");
    return d.lines;
  }

  nlohmann::json config(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    return {{"model_type", "llama"},
            {"architectures", {hf_class()}},
            {"vocab_size", o.vocab_size},
            {"hidden_size", o.d_model},
            {"intermediate_size", o.d_ff},
            {"num_hidden_layers", o.n_layers},
            {"num_attention_heads", o.n_heads},
            {"num_key_value_heads", o.n_kv_heads > 0 ? o.n_kv_heads : o.n_heads},
            {"head_dim", o.d_model / o.n_heads},
            {"hidden_act", "silu"},
            {"max_position_embeddings", o.max_positions},
            {"rms_norm_eps", effective_norm_eps(o)},
            {"rope_theta", kRopeTheta},
            {"rope_scaling", nullptr},
            {"attention_bias", false},
            {"mlp_bias", false},
            {"attention_dropout", o.attention_dropout},
            {"pretraining_tp", 1},
            {"initializer_range", 0.02},
            {"tie_word_embeddings", o.tie_embeddings},
            {"use_cache", true}};
  }

  config::Node model_table(const nlohmann::json& c, const std::string& file) const override {
    check_known_keys(c,
                     {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                      "num_attention_heads", "num_key_value_heads", "head_dim", "hidden_act",
                      "max_position_embeddings", "rms_norm_eps", "rope_theta", "rope_scaling",
                      "attention_bias", "mlp_bias", "attention_dropout", "pretraining_tp"},
                     file);
    if (json_or(c, "hidden_act", "silu") != "silu")
      unsupported(file, "hidden_act", c["hidden_act"], "sslx's gated feed-forward uses silu");
    if (!json_or(c, "rope_scaling", nullptr).is_null())
      unsupported(file, "rope_scaling", c["rope_scaling"], "sslx's rotary positions are unscaled");
    if (std::abs(json_or(c, "rope_theta", kRopeTheta).get<double>() - kRopeTheta) > 0.0)
      unsupported(file, "rope_theta", c["rope_theta"], "sslx's rotary base is 10000");
    for (const char* key : {"attention_bias", "mlp_bias"}) {
      if (json_or(c, key, false) != false)
        unsupported(file, key, c[key], "sslx's Llama-style decoder has no biases");
    }
    const std::int64_t E = json_int(c, "hidden_size", file);
    const std::int64_t H = json_int(c, "num_attention_heads", file);
    if (json_or(c, "head_dim", nullptr).is_number() && json_int(c, "head_dim", file) * H != E)
      unsupported(file, "head_dim", c["head_dim"], "sslx's head width is hidden_size / heads");
    config::Node m = standard_model_table("decoder");
    m.set("d_model", E);
    m.set("n_layers", json_int(c, "num_hidden_layers", file));
    m.set("n_heads", H);
    m.set("n_kv_heads", json_or(c, "num_key_value_heads", H).get<std::int64_t>());
    m.set("d_ff", json_int(c, "intermediate_size", file));
    m.set("max_positions", json_int(c, "max_position_embeddings", file));
    m.set("activation", "swiglu");
    m.set("norm", "rms_norm");
    m.set("norm_eps", json_or(c, "rms_norm_eps", 1e-6).get<double>());
    m.set("positions", "rotary");
    m.set("bias", false);
    m.set("attention_dropout", json_or(c, "attention_dropout", 0.0).get<double>());
    m.set("tie_embeddings", json_or(c, "tie_word_embeddings", false).get<bool>());
    return m;
  }

  std::vector<TensorRule> rules(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    std::vector<TensorRule> rules = {
        {.hf = "model.embed_tokens.weight", .sslx = {"backbone.embeddings.tokens.weight"}},
        {.hf = "model.norm.weight", .sslx = {"backbone.stack.final_norm.weight"}}};
    for (std::int64_t i = 0; i < o.n_layers; ++i) {
      const std::string h = "model.layers." + std::to_string(i) + ".";
      const std::string s = "backbone.stack.layers." + std::to_string(i) + ".";
      rules.push_back({.hf = h + "input_layernorm.weight", .sslx = {s + "self_attn_norm.weight"}});
      for (const char* p : {"q", "k", "v"}) {
        rules.push_back({.hf = h + "self_attn." + p + "_proj.weight",
                         .sslx = {s + "self_attn." + p + "_proj.weight"}});
      }
      rules.push_back(
          {.hf = h + "self_attn.o_proj.weight", .sslx = {s + "self_attn.out_proj.weight"}});
      rules.push_back(
          {.hf = h + "post_attention_layernorm.weight", .sslx = {s + "ff_norm.weight"}});
      rules.push_back({.hf = h + "mlp.gate_proj.weight", .sslx = {s + "ff.gate_proj.weight"}});
      rules.push_back({.hf = h + "mlp.up_proj.weight", .sslx = {s + "ff.in_proj.weight"}});
      rules.push_back({.hf = h + "mlp.down_proj.weight", .sslx = {s + "ff.out_proj.weight"}});
    }
    if (!o.tie_embeddings)
      rules.push_back({.hf = "lm_head.weight", .sslx = {"lm_head.proj.weight"}});
    return rules;
  }
};

}  // namespace

const HfFamily& llama_family() {
  static const LlamaFamily family;
  return family;
}

}  // namespace sslx::interop
