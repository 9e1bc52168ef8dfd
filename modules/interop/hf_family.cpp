#include "interop/hf_family.h"

#include <algorithm>
#include <set>
#include "architectures/architecture_registry.h"
#include "interop/hf_families.h"

#include "util/error.h"
#include "util/strings.h"

namespace sslx::interop {

bool HfFamily::ignorable(const std::string& /*hf_name*/) const {
  return false;
}

std::vector<std::pair<std::string, std::string>> HfFamily::tied_copies(
    const ModelSpec& spec) const {
  if (!spec.options.tie_embeddings) return {};
  for (const auto& rule : rules(spec)) {
    if (rule.sslx == std::vector<std::string>{"backbone.embeddings.tokens.weight"})
      return {{"lm_head.weight", rule.hf}};
  }
  return {};
}

std::vector<std::string> HfFamily::head_differences(const ModelSpec::SequenceHead& head) const {
  const std::string name = sequence_class();
  Differences d;
  d.require(head.pooling == arch::Pooling::last,
            "pooling: " + name + " reads the last non-padding token");
  d.require(!head.pooler, "pooler: " + name + " has none");
  return d.lines;
}

std::vector<TensorRule> HfFamily::head_rules(const ModelSpec::SequenceHead& head) const {
  return {{.hf = "score.weight", .sslx = {head.module + ".proj.weight"}}};
}

std::vector<TensorRule> tensor_rules(const HfFamily& family, const ModelSpec& spec) {
  std::vector<TensorRule> rules = family.rules(spec);
  if (!spec.head) return rules;
  std::erase_if(rules, [](const TensorRule& rule) {
    return std::any_of(rule.sslx.begin(), rule.sslx.end(),
                       [](const std::string& name) { return name.starts_with("lm_head."); });
  });
  for (auto& rule : family.head_rules(*spec.head))
    rules.push_back(std::move(rule));
  return rules;
}

std::string class_of(const HfFamily& family, const ModelSpec& spec) {
  return spec.head ? family.sequence_class() : family.hf_class();
}

const std::vector<const HfFamily*>& hf_families() {
  static const std::vector<const HfFamily*> families = {&gpt2_family(), &llama_family(),
                                                        &t5_family(), &bert_family()};
  return families;
}

const HfFamily& family_for(const ModelSpec& spec) {
  std::vector<std::string> reasons;
  for (const HfFamily* family : hf_families()) {
    auto found = family->differences(spec);
    if (spec.head && family->sequence_class().empty()) {
      found.insert(found.begin(), "no sequence-classification class here");
    } else if (spec.head) {
      for (auto& line : family->head_differences(*spec.head))
        found.push_back(std::move(line));
    }
    if (found.empty()) return *family;
    reasons.push_back(family->hf_class() + ": " + join(found, "; "));
  }
  throw Error("no Hugging Face model family holds this " + spec.arch +
                  (spec.reward_model() ? " reward model"
                   : spec.head         ? " classifier"
                                       : "") +
                  " exactly (sslx never exports an approximation):\n  " + join(reasons, "\n  "),
              "docs/interop.md lists the options each family needs");
}

const HfFamily& family_for(const nlohmann::json& config, const std::string& file) {
  const std::string type = json_string(config, "model_type", file);
  std::vector<std::string> known;
  for (const HfFamily* family : hf_families()) {
    if (family->model_type() == type) return *family;
    known.push_back(family->model_type());
  }
  throw IoError(file + ": model_type \"" + type + "\" is not a family sslx reads",
                "sslx reads model_type " + join(known, ", "));
}

config::Node standard_model_table(const std::string& arch) {
  config::Node table;
  table.set("arch", config::Node(arch));
  const config::Schema schema = arch::standard_schema(arch == "encoder_decoder");
  for (const auto& field : schema.fields()) {
    if (field.default_value) table.set(field.key, *field.default_value);
  }
  return table;
}

namespace {

const nlohmann::json& required(const nlohmann::json& config, const std::string& key,
                               const std::string& file) {
  if (!config.is_object() || !config.contains(key) || config[key].is_null())
    throw IoError(file + ": config.json has no \"" + key + "\"", "the key is required");
  return config[key];
}

[[noreturn]] void wrong_type(const std::string& file, const std::string& key,
                             const nlohmann::json& value, const char* expected) {
  throw IoError(file + ": \"" + key + "\" is " + value.dump() + "; expected " + expected);
}

}  // namespace

std::int64_t json_int(const nlohmann::json& config, const std::string& key,
                      const std::string& file) {
  const auto& value = required(config, key, file);
  if (!value.is_number_integer()) wrong_type(file, key, value, "an integer");
  return value.get<std::int64_t>();
}

double json_number(const nlohmann::json& config, const std::string& key, const std::string& file) {
  const auto& value = required(config, key, file);
  if (!value.is_number()) wrong_type(file, key, value, "a number");
  return value.get<double>();
}

std::string json_string(const nlohmann::json& config, const std::string& key,
                        const std::string& file) {
  const auto& value = required(config, key, file);
  if (!value.is_string()) wrong_type(file, key, value, "a string");
  return value.get<std::string>();
}

nlohmann::json json_or(const nlohmann::json& config, const std::string& key,
                       nlohmann::json fallback) {
  if (!config.is_object() || !config.contains(key) || config[key].is_null()) return fallback;
  return config[key];
}

void check_known_keys(const nlohmann::json& config, const std::vector<std::string>& family_keys,
                      const std::string& file) {
  // PretrainedConfig's own attributes that do not change the forward pass. The ones that do
  // (is_decoder, add_cross_attention, pruned_heads, ...) are absent here: a family that accepts
  // them lists them and checks their value.
  static const std::set<std::string, std::less<>> kGeneric = {"_name_or_path",
                                                              "architectures",
                                                              "model_type",
                                                              "transformers_version",
                                                              "torch_dtype",
                                                              "dtype",
                                                              "bos_token_id",
                                                              "eos_token_id",
                                                              "pad_token_id",
                                                              "sep_token_id",
                                                              "decoder_start_token_id",
                                                              "use_cache",
                                                              "tie_word_embeddings",
                                                              "return_dict",
                                                              "output_hidden_states",
                                                              "output_attentions",
                                                              "torchscript",
                                                              "use_bfloat16",
                                                              "chunk_size_feed_forward",
                                                              "max_length",
                                                              "min_length",
                                                              "do_sample",
                                                              "early_stopping",
                                                              "num_beams",
                                                              "num_beam_groups",
                                                              "diversity_penalty",
                                                              "temperature",
                                                              "top_k",
                                                              "top_p",
                                                              "typical_p",
                                                              "repetition_penalty",
                                                              "length_penalty",
                                                              "no_repeat_ngram_size",
                                                              "encoder_no_repeat_ngram_size",
                                                              "bad_words_ids",
                                                              "num_return_sequences",
                                                              "output_scores",
                                                              "return_dict_in_generate",
                                                              "forced_bos_token_id",
                                                              "forced_eos_token_id",
                                                              "remove_invalid_values",
                                                              "exponential_decay_length_penalty",
                                                              "suppress_tokens",
                                                              "begin_suppress_tokens",
                                                              "finetuning_task",
                                                              "id2label",
                                                              "label2id",
                                                              "num_labels",
                                                              "tokenizer_class",
                                                              "prefix",
                                                              "task_specific_params",
                                                              "problem_type",
                                                              "initializer_range",
                                                              "initializer_factor",
                                                              "_attn_implementation",
                                                              "attn_implementation",
                                                              "_commit_hash"};
  for (const auto& [key, value] : config.items()) {
    if (kGeneric.count(key) == 0 &&
        std::find(family_keys.begin(), family_keys.end(), key) == family_keys.end()) {
      throw IoError(file + ": config.json has \"" + key + "\" = " + value.dump() +
                        ", which sslx does not know for model_type " +
                        json_or(config, "model_type", "?").dump(),
                    "sslx refuses keys it cannot tell to be harmless; remove it if it does not "
                    "change the model");
    }
  }
}

void require_learned_layer_norm_blocks(Differences& d, const arch::ArchitectureOptions& o,
                                       const std::string& family) {
  d.require(o.positions == arch::PositionKind::learned,
            "positions: " + family + " has learned positions");
  d.require(o.norm == nn::NormKind::layer_norm, "norm: " + family + " uses layer_norm");
  d.require(o.bias, "bias = false: " + family + " has biases");
  d.require(hf_activation_name(o.activation) != nullptr,
            "activation: " + family + " takes gelu, gelu_tanh or relu (no gated feed-forward)");
  d.require(o.n_kv_heads == 0 || o.n_kv_heads == o.n_heads,
            "n_kv_heads: " + family + " has one key/value head per query head");
  d.require(o.scale_attention,
            "scale_attention = false: " + family + " scales scores by 1/sqrt(D)");
  d.require(!o.tied_head_scale, "tied_head_scale: " + family + "'s head does not scale");
}

const char* hf_activation_name(nn::Activation activation) {
  switch (activation) {
    case nn::Activation::gelu:
      return "gelu";
    case nn::Activation::gelu_tanh:
      return "gelu_new";
    case nn::Activation::relu:
      return "relu";
    default:
      return nullptr;
  }
}

std::string sslx_activation_name(const nlohmann::json& config, const std::string& key,
                                 const std::string& fallback, const std::string& file) {
  const std::string name = json_or(config, key, fallback).get<std::string>();
  if (name == "gelu" || name == "relu") return name;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return "gelu_tanh";
  unsupported(file, key, config[key], "sslx has gelu, gelu_new (tanh) and relu");
}

double effective_norm_eps(const arch::ArchitectureOptions& options) {
  if (options.norm_eps > 0.0) return options.norm_eps;
  return options.norm == nn::NormKind::rms_norm ? 1e-6 : 1e-5;
}

void unsupported(const std::string& file, const std::string& key, const nlohmann::json& value,
                 const std::string& why) {
  throw IoError(file + ": \"" + key + "\" = " + value.dump() + " has no sslx equivalent: " + why);
}

}  // namespace sslx::interop
