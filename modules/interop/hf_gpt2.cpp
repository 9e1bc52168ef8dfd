// GPT-2 (Radford et al. 2019) as transformers' GPT2LMHeadModel writes it: a pre-norm decoder
// with learned positions, LayerNorm and biases. Its Conv1D layers store weights (in, out), the
// transpose of a Linear's, and the attention's query, key and value projections are one fused
// c_attn of 3E outputs.
#include <string>

#include "interop/hf_families.h"
#include "util/strings.h"

namespace sslx::interop {
namespace {

using arch::ArchitectureKind;

class Gpt2Family : public HfFamily {
 public:
  std::string model_type() const override { return "gpt2"; }
  std::string hf_class() const override { return "GPT2LMHeadModel"; }
  std::string sequence_class() const override { return "GPT2ForSequenceClassification"; }
  std::string base_prefix() const override { return "transformer."; }

  bool ignorable(const std::string& name) const override {
    // Older transformers saved the causal mask of each layer as a buffer.
    return name.ends_with(".attn.bias") || name.ends_with(".attn.masked_bias");
  }

  std::vector<std::string> differences(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    Differences d;
    d.require(spec.kind == ArchitectureKind::decoder,
              "arch = " + spec.arch + ": GPT-2 is a decoder");
    require_learned_layer_norm_blocks(d, o, "GPT-2");
    d.require(o.norm_position == nn::NormPosition::pre, "norm_position: GPT-2 is pre-norm");
    d.require(o.n_token_types == 0, "token_types: GPT-2 has no token types");
    d.require(spec.head || !o.lm_head_transform,
              "lm_head_transform: GPT-2's head has no transform");
    return d.lines;
  }

  nlohmann::json config(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    return {{"model_type", "gpt2"},
            {"architectures", {hf_class()}},
            {"vocab_size", o.vocab_size},
            {"n_positions", o.max_positions},
            {"n_ctx", o.max_positions},
            {"n_embd", o.d_model},
            {"n_layer", o.n_layers},
            {"n_head", o.n_heads},
            {"n_inner", o.d_ff},
            {"activation_function", hf_activation_name(o.activation)},
            {"layer_norm_epsilon", effective_norm_eps(o)},
            {"resid_pdrop", o.dropout},
            {"embd_pdrop", o.embedding_dropout},
            {"attn_pdrop", o.attention_dropout},
            {"initializer_range", 0.02},
            {"scale_attn_weights", true},
            {"scale_attn_by_inverse_layer_idx", false},
            {"reorder_and_upcast_attn", false},
            {"tie_word_embeddings", o.tie_embeddings},
            {"use_cache", true}};
  }

  config::Node model_table(const nlohmann::json& c, const std::string& file) const override {
    check_known_keys(c,
                     {"vocab_size",
                      "n_positions",
                      "n_ctx",
                      "n_embd",
                      "n_layer",
                      "n_head",
                      "n_inner",
                      "activation_function",
                      "layer_norm_epsilon",
                      "resid_pdrop",
                      "embd_pdrop",
                      "attn_pdrop",
                      "summary_type",
                      "summary_use_proj",
                      "summary_activation",
                      "summary_proj_to_labels",
                      "summary_first_dropout",
                      "scale_attn_weights",
                      "scale_attn_by_inverse_layer_idx",
                      "reorder_and_upcast_attn",
                      "add_cross_attention",
                      "is_decoder",
                      "pruned_heads",
                      "is_encoder_decoder"},
                     file);
    for (const char* key : {"scale_attn_weights"}) {
      if (json_or(c, key, true) != true) unsupported(file, key, c[key], "sslx always scales");
    }
    for (const char* key :
         {"scale_attn_by_inverse_layer_idx", "add_cross_attention", "is_encoder_decoder"}) {
      if (json_or(c, key, false) != false)
        unsupported(file, key, c[key], "a GPT-2 decoder without it");
    }
    if (!json_or(c, "pruned_heads", nlohmann::json::object()).empty())
      unsupported(file, "pruned_heads", c["pruned_heads"], "sslx has no pruned heads");
    const std::string activation = sslx_activation_name(c, "activation_function", "gelu_new", file);
    const std::int64_t E = json_int(c, "n_embd", file);
    config::Node m = standard_model_table("decoder");
    m.set("d_model", E);
    m.set("n_layers", json_int(c, "n_layer", file));
    m.set("n_heads", json_int(c, "n_head", file));
    const auto inner = json_or(c, "n_inner", nullptr);
    m.set("d_ff", inner.is_null() ? 4 * E : json_int(c, "n_inner", file));
    m.set("max_positions", json_int(c, "n_positions", file));
    m.set("activation", activation);
    m.set("norm", "layer_norm");
    m.set("norm_eps", json_or(c, "layer_norm_epsilon", 1e-5).get<double>());
    m.set("positions", "learned");
    m.set("dropout", json_or(c, "resid_pdrop", 0.1).get<double>());
    m.set("attention_dropout", json_or(c, "attn_pdrop", 0.1).get<double>());
    m.set("embedding_dropout", json_or(c, "embd_pdrop", 0.1).get<double>());
    m.set("init", "gpt2");
    m.set("tie_embeddings", json_or(c, "tie_word_embeddings", true).get<bool>());
    return m;
  }

  std::vector<TensorRule> rules(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    std::vector<TensorRule> rules = {
        {.hf = "transformer.wte.weight", .sslx = {"backbone.embeddings.tokens.weight"}},
        {.hf = "transformer.wpe.weight", .sslx = {"backbone.embeddings.positions.weight"}},
        {.hf = "transformer.ln_f.weight", .sslx = {"backbone.stack.final_norm.weight"}},
        {.hf = "transformer.ln_f.bias", .sslx = {"backbone.stack.final_norm.bias"}}};
    const std::vector<std::int64_t> qkv_rows(3, o.d_model);
    for (std::int64_t i = 0; i < o.n_layers; ++i) {
      const std::string h = "transformer.h." + std::to_string(i) + ".";
      const std::string s = "backbone.stack.layers." + std::to_string(i) + ".";
      const std::string a = s + "self_attn.";
      for (const char* p : {"weight", "bias"}) {
        const std::string param = p;
        const bool weight = param == "weight";
        rules.push_back({.hf = h + "ln_1." + param, .sslx = {s + "self_attn_norm." + param}});
        rules.push_back(
            {.hf = h + "attn.c_attn." + param,
             .sslx = {a + "q_proj." + param, a + "k_proj." + param, a + "v_proj." + param},
             .rows = qkv_rows,
             .transposed = weight});
        rules.push_back({.hf = h + "attn.c_proj." + param,
                         .sslx = {a + "out_proj." + param},
                         .transposed = weight});
        rules.push_back({.hf = h + "ln_2." + param, .sslx = {s + "ff_norm." + param}});
        rules.push_back({.hf = h + "mlp.c_fc." + param,
                         .sslx = {s + "ff.in_proj." + param},
                         .transposed = weight});
        rules.push_back({.hf = h + "mlp.c_proj." + param,
                         .sslx = {s + "ff.out_proj." + param},
                         .transposed = weight});
      }
    }
    if (!o.tie_embeddings)
      rules.push_back({.hf = "lm_head.weight", .sslx = {"lm_head.proj.weight"}});
    return rules;
  }
};

}  // namespace

const HfFamily& gpt2_family() {
  static const Gpt2Family family;
  return family;
}

}  // namespace sslx::interop
