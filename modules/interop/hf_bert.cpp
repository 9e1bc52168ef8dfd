// BERT (Devlin et al. 2019) as transformers' BertForMaskedLM writes it: a post-norm encoder with
// learned absolute positions, token-type embeddings, LayerNorm after the embeddings and after
// each residual sum, biases everywhere, and the masked-LM head BertLMPredictionHead (dense,
// activation, LayerNorm, then the projection to the vocabulary, tied to the word embeddings by
// default, plus an output bias). No pooler: BertForMaskedLM has none. A classifier fine-tuned on
// it is BertForSequenceClassification: the pooler (dense + tanh on the first token, [CLS]),
// dropout, then `classifier` (K, E) with a bias.
#include <string>

#include "interop/hf_families.h"

namespace sslx::interop {
namespace {

using arch::ArchitectureKind;

class BertFamily : public HfFamily {
 public:
  std::string model_type() const override { return "bert"; }
  std::string hf_class() const override { return "BertForMaskedLM"; }
  std::string sequence_class() const override { return "BertForSequenceClassification"; }
  std::string base_prefix() const override { return "bert."; }

  ModelSpec::SequenceHead default_head() const override {
    return {
        .module = "classifier_head", .labels = {}, .pooling = arch::Pooling::first, .pooler = true};
  }

  std::vector<std::string> head_differences(const ModelSpec::SequenceHead& head) const override {
    Differences d;
    d.require(head.pooling == arch::Pooling::first,
              "pooling: BertForSequenceClassification reads the first token ([CLS])");
    d.require(head.pooler, "pooler = false: BertForSequenceClassification has BERT's pooler");
    return d.lines;
  }

  std::vector<TensorRule> head_rules(const ModelSpec::SequenceHead& head) const override {
    std::vector<TensorRule> rules;
    for (const std::string param : {"weight", "bias"}) {
      rules.push_back(
          {.hf = "bert.pooler.dense." + param, .sslx = {head.module + ".pooler." + param}});
      rules.push_back({.hf = "classifier." + param, .sslx = {head.module + ".proj." + param}});
    }
    return rules;
  }

  bool ignorable(const std::string& name) const override {
    // Older transformers saved the position ids 0..P-1 as a buffer.
    return name == "bert.embeddings.position_ids" || name == "embeddings.position_ids";
  }

  std::vector<std::pair<std::string, std::string>> tied_copies(
      const ModelSpec& spec) const override {
    // The projection's bias is the head's bias parameter; its weight, when tied, the embedding.
    std::vector<std::pair<std::string, std::string>> copies = {
        {"cls.predictions.decoder.bias", "cls.predictions.bias"}};
    if (spec.options.tie_embeddings)
      copies.emplace_back("cls.predictions.decoder.weight",
                          "bert.embeddings.word_embeddings.weight");
    return copies;
  }

  std::vector<std::string> differences(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    Differences d;
    d.require(spec.kind == ArchitectureKind::encoder,
              "arch = " + spec.arch + ": BERT is an encoder");
    require_learned_layer_norm_blocks(d, o, "BERT");
    d.require(o.norm_position == nn::NormPosition::post, "norm_position: BERT is post-norm");
    d.require(o.n_token_types > 0, "token_types = 0: BERT adds token-type embeddings (e.g. 2)");
    d.require(spec.head || o.lm_head_transform,
              "lm_head_transform = false: BERT's LM head has a dense + activation + LayerNorm "
              "transform and an output bias");
    return d.lines;
  }

  nlohmann::json config(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    // BERT has one dropout for residuals and embeddings (hidden_dropout_prob): sslx's residual
    // dropout is written; dropout changes training only, never the model's outputs.
    return {{"model_type", "bert"},
            {"architectures", {hf_class()}},
            {"vocab_size", o.vocab_size},
            {"hidden_size", o.d_model},
            {"num_hidden_layers", o.n_layers},
            {"num_attention_heads", o.n_heads},
            {"intermediate_size", o.d_ff},
            {"hidden_act", hf_activation_name(o.activation)},
            {"hidden_dropout_prob", o.dropout},
            {"attention_probs_dropout_prob", o.attention_dropout},
            {"max_position_embeddings", o.max_positions},
            {"type_vocab_size", o.n_token_types},
            {"initializer_range", 0.02},
            {"layer_norm_eps", effective_norm_eps(o)},
            {"position_embedding_type", "absolute"},
            {"is_decoder", false},
            {"tie_word_embeddings", o.tie_embeddings},
            {"use_cache", false}};
  }

  config::Node model_table(const nlohmann::json& c, const std::string& file) const override {
    check_known_keys(
        c,
        {"vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
         "intermediate_size", "hidden_act", "hidden_dropout_prob", "attention_probs_dropout_prob",
         "max_position_embeddings", "type_vocab_size", "layer_norm_eps", "position_embedding_type",
         "is_decoder", "add_cross_attention", "classifier_dropout", "gradient_checkpointing",
         "pruned_heads"},
        file);
    if (json_or(c, "position_embedding_type", "absolute") != "absolute")
      unsupported(file, "position_embedding_type", c["position_embedding_type"],
                  "sslx's BERT has absolute (learned) positions");
    for (const char* key : {"is_decoder", "add_cross_attention"}) {
      if (json_or(c, key, false) != false)
        unsupported(file, key, c[key], "BertForMaskedLM is a bidirectional encoder");
    }
    if (!json_or(c, "pruned_heads", nlohmann::json::object()).empty())
      unsupported(file, "pruned_heads", c["pruned_heads"], "sslx has no pruned heads");
    const std::string activation = sslx_activation_name(c, "hidden_act", "gelu", file);
    const double dropout = json_or(c, "hidden_dropout_prob", 0.1).get<double>();
    config::Node m = standard_model_table("encoder");
    m.set("d_model", json_int(c, "hidden_size", file));
    m.set("n_layers", json_int(c, "num_hidden_layers", file));
    m.set("n_heads", json_int(c, "num_attention_heads", file));
    m.set("d_ff", json_int(c, "intermediate_size", file));
    m.set("max_positions", json_int(c, "max_position_embeddings", file));
    m.set("token_types", json_or(c, "type_vocab_size", 2).get<std::int64_t>());
    m.set("activation", activation);
    m.set("norm", "layer_norm");
    m.set("norm_eps", json_or(c, "layer_norm_eps", 1e-12).get<double>());
    m.set("norm_position", "post");
    m.set("positions", "learned");
    m.set("dropout", dropout);
    m.set("embedding_dropout", dropout);
    m.set("attention_dropout", json_or(c, "attention_probs_dropout_prob", 0.1).get<double>());
    m.set("init", "bert");
    m.set("tie_embeddings", json_or(c, "tie_word_embeddings", true).get<bool>());
    m.set("lm_head_transform", true);
    return m;
  }

  std::vector<TensorRule> rules(const ModelSpec& spec) const override {
    const auto& o = spec.options;
    const std::string e = "bert.embeddings.";
    std::vector<TensorRule> rules = {
        {.hf = e + "word_embeddings.weight", .sslx = {"backbone.embeddings.tokens.weight"}},
        {.hf = e + "position_embeddings.weight", .sslx = {"backbone.embeddings.positions.weight"}},
        {.hf = e + "token_type_embeddings.weight",
         .sslx = {"backbone.embeddings.token_types.weight"}}};
    for (const char* p : {"weight", "bias"}) {
      const std::string param = p;
      rules.push_back(
          {.hf = e + "LayerNorm." + param, .sslx = {"backbone.embeddings.norm." + param}});
      for (std::int64_t i = 0; i < o.n_layers; ++i) {
        const std::string h = "bert.encoder.layer." + std::to_string(i) + ".";
        const std::string s = "backbone.stack.layers." + std::to_string(i) + ".";
        const std::vector<std::pair<std::string, std::string>> names = {
            {"attention.self.query.", "self_attn.q_proj."},
            {"attention.self.key.", "self_attn.k_proj."},
            {"attention.self.value.", "self_attn.v_proj."},
            {"attention.output.dense.", "self_attn.out_proj."},
            {"attention.output.LayerNorm.", "self_attn_norm."},
            {"intermediate.dense.", "ff.in_proj."},
            {"output.dense.", "ff.out_proj."},
            {"output.LayerNorm.", "ff_norm."}};
        for (const auto& [hf, sslx] : names)
          rules.push_back({.hf = h + hf + param, .sslx = {s + sslx + param}});
      }
      rules.push_back({.hf = "cls.predictions.transform.dense." + param,
                       .sslx = {"lm_head.transform." + param}});
      rules.push_back({.hf = "cls.predictions.transform.LayerNorm." + param,
                       .sslx = {"lm_head.transform_norm." + param}});
    }
    rules.push_back({.hf = "cls.predictions.bias", .sslx = {"lm_head.bias"}});
    if (!o.tie_embeddings)
      rules.push_back({.hf = "cls.predictions.decoder.weight", .sslx = {"lm_head.proj.weight"}});
    return rules;
  }
};

}  // namespace

const HfFamily& bert_family() {
  static const BertFamily family;
  return family;
}

}  // namespace sslx::interop
