// A Hugging Face model family (GPT-2, Llama, T5, BERT) as sslx sees it: which backbones it holds
// exactly, its config.json, and where each sslx parameter goes in its model.safetensors. One
// file per family (hf_gpt2.cpp, hf_llama.cpp, hf_t5.cpp, hf_bert.cpp); hf_families() lists them,
// and export, import and `init_from = "hf:DIR"` go through this interface only.
//
// sslx names are those of a language model's model.pt: "backbone.<parameter>" and, for an untied
// head, "lm_head.proj.weight"; a sequence classifier's head is "<module>.proj.*" (SequenceHead).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "architectures/architecture_kind.h"
#include "architectures/architecture_options.h"
#include "architectures/pooling.h"
#include "config/node.h"

namespace sslx::interop {

// A backbone as sslx builds it: the [model] table's arch and options (vocab_size included).
struct ModelSpec {
  std::string arch;  // the registered architecture: "decoder", "encoder", "encoder_decoder"
  arch::ArchitectureKind kind = arch::ArchitectureKind::decoder;
  arch::ArchitectureOptions options;
  // A sequence classifier instead of a language model: no LM head, one row of logits per sequence.
  struct SequenceHead {
    // "reward_head": a reward model (objectives/reward_model.h), one score at the last valid
    // position; "classifier_head": the fine-tune evaluator's classifier (architectures/heads.h
    // ClassificationHead), one logit per class.
    std::string module = "reward_head";
    std::vector<std::string> labels = {"LABEL_0"};  // one per row of <module>.proj.weight
    arch::Pooling pooling = arch::Pooling::last;
    bool pooler = false;  // BERT's dense + tanh before the projection (<module>.pooler.*)
  };
  std::optional<SequenceHead> head;
  bool reward_model() const { return head && head->module == "reward_head"; }
};

// One tensor of the HF file and the sslx tensors it holds.
struct TensorRule {
  std::string hf;
  // One name, or several stacked along dimension 0 (GPT-2's fused query/key/value projection);
  // `rows` then gives each one's size along dimension 0.
  std::vector<std::string> sslx;
  std::vector<std::int64_t> rows;
  bool transposed = false;  // stored (in, out), as GPT-2's Conv1D layers do
};

class HfFamily {
 public:
  virtual ~HfFamily() = default;
  // config.json's "model_type" ("gpt2") and the class its "architectures" names.
  virtual std::string model_type() const = 0;
  virtual std::string hf_class() const = 0;
  // The class of a sequence classifier (reward models included): "GPT2ForSequenceClassification";
  // "" when the family has none.
  virtual std::string sequence_class() const { return ""; }
  // What stops sequence_class() from holding `head` exactly, one "<option>: why" line each. By
  // default the decoders' class: `score` (K, E) without bias at the last non-padding token.
  virtual std::vector<std::string> head_differences(const ModelSpec::SequenceHead& head) const;
  // The head sequence_class() has, as sslx builds it (labels left empty). By default the
  // decoders': pooling last, no pooler.
  virtual ModelSpec::SequenceHead default_head() const {
    return {.module = "classifier_head", .labels = {}};
  }
  // Where the head's tensors go. By default "score.weight" <- "<module>.proj.weight": the bias,
  // which that class lacks, is carried by the final norm's bias on export (hf_export.cpp).
  virtual std::vector<TensorRule> head_rules(const ModelSpec::SequenceHead& head) const;
  // What stops this family from holding `spec` exactly, one "<option>: why" line each (e.g.
  // "norm = layer_norm: Llama uses RMSNorm"); empty when it holds it.
  virtual std::vector<std::string> differences(const ModelSpec& spec) const = 0;
  // config.json for `spec` (differences() empty); special token ids are added by the exporter.
  virtual nlohmann::json config(const ModelSpec& spec) const = 0;
  // The [model] table (standard keys, see standard_model_table) of a config.json of this family;
  // throws IoError naming `file` and the key that is missing or has no sslx equivalent.
  virtual config::Node model_table(const nlohmann::json& config, const std::string& file) const = 0;
  // Where every sslx tensor of `spec`'s language model goes (backbone and LM head).
  virtual std::vector<TensorRule> rules(const ModelSpec& spec) const = 0;
  // Tensors that HF files may hold without being parameters (GPT-2's saved causal masks).
  virtual bool ignorable(const std::string& hf_name) const;
  // Tensors that HF files may hold as copies of another of their tensors (tied weights that some
  // writers save anyway): (copy, the tensor it repeats). Read only when equal, never written.
  // By default, with tie_embeddings, "lm_head.weight" repeating the token embedding.
  virtual std::vector<std::pair<std::string, std::string>> tied_copies(const ModelSpec& spec) const;
  // The prefix that the family's base model (GPT2Model, LlamaModel) leaves out of its names;
  // files saved from it are read too.
  virtual std::string base_prefix() const { return ""; }
};

// The rules of `spec` as the file holds it: the family's, or for a sequence classifier the
// backbone's and head_rules() (the LM head's left out).
std::vector<TensorRule> tensor_rules(const HfFamily& family, const ModelSpec& spec);
// The class `spec` is written as: hf_class(), or sequence_class() for a sequence classifier.
std::string class_of(const HfFamily& family, const ModelSpec& spec);

// The families sslx reads and writes.
const std::vector<const HfFamily*>& hf_families();

// The family that holds `spec` exactly; throws Error listing each family's differences.
const HfFamily& family_for(const ModelSpec& spec);
// The family of a config.json (by "model_type"); throws IoError naming `file` and the known ones.
const HfFamily& family_for(const nlohmann::json& config, const std::string& file);

// A [model] table with every standard key at its default value, `arch` set: what families fill.
config::Node standard_model_table(const std::string& arch);

// config.json helpers for the families: a required key of the expected type, or IoError naming
// `file` and the key.
std::int64_t json_int(const nlohmann::json& config, const std::string& key,
                      const std::string& file);
double json_number(const nlohmann::json& config, const std::string& key, const std::string& file);
std::string json_string(const nlohmann::json& config, const std::string& key,
                        const std::string& file);
// The value of an optional key, or `fallback` when absent or null.
nlohmann::json json_or(const nlohmann::json& config, const std::string& key,
                       nlohmann::json fallback);
// Throws IoError naming the first key of `config` that is neither in `family_keys` nor one of the
// settings every transformers config has (names, token ids, generation defaults, labels): a key
// sslx does not know might change the model, so it is never ignored.
void check_known_keys(const nlohmann::json& config, const std::vector<std::string>& family_keys,
                      const std::string& file);

// The norm's epsilon with sslx's default filled in (options.norm_eps = 0).
double effective_norm_eps(const arch::ArchitectureOptions& options);

// differences() lines: `line` when `holds` is false.
struct Differences {
  std::vector<std::string> lines;
  void require(bool holds, std::string line) {
    if (!holds) lines.push_back(std::move(line));
  }
};

// What GPT-2 and BERT both need (blocks as in the original Transformer): learned positions,
// LayerNorm, biases, a plain activation, one key/value head per query head, scaled scores, no
// head scale. `family` names the family in the lines ("GPT-2").
void require_learned_layer_norm_blocks(Differences& d, const arch::ArchitectureOptions& o,
                                       const std::string& family);

// transformers' name (ACT2FN) of a plain sslx activation: gelu -> "gelu", gelu_tanh ->
// "gelu_new", relu -> "relu"; nullptr for a gated one.
const char* hf_activation_name(nn::Activation activation);
// The sslx name of a transformers activation ("gelu_new" and "gelu_pytorch_tanh" -> "gelu_tanh"),
// or IoError naming `file` and `key`.
std::string sslx_activation_name(const nlohmann::json& config, const std::string& key,
                                 const std::string& fallback, const std::string& file);

// Throws IoError naming `file`, `key` and its value: a setting sslx has no equivalent for.
[[noreturn]] void unsupported(const std::string& file, const std::string& key,
                              const nlohmann::json& value, const std::string& why);

}  // namespace sslx::interop
