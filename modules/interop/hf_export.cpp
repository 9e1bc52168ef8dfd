#include "interop/hf_export.h"

#include <ATen/ATen.h>

#include "architectures/architecture_registry.h"
#include "data/data_registry.h"
#include "data/lm_data.h"
#include "data/sentencepiece_tokenizer.h"
#include "interop/hf_convert.h"
#include "interop/hf_import.h"
#include "interop/run_model.h"
#include "util/error.h"
#include "util/fs.h"

namespace sslx::interop {
namespace stdfs = std::filesystem;
namespace {

void write_json(const stdfs::path& file, const nlohmann::json& json) {
  fs::write_text_atomic(file, json.dump(2) + "\n");
}

// The piece of special token `id` ("<pad>", "</s>", ...).
std::string piece(const data::Tokenizer& tokenizer, std::optional<data::TokenId> id) {
  return id ? tokenizer.decode({*id}) : std::string();
}

void add_token_ids(nlohmann::json& json, const data::SpecialTokens& specials,
                   bool encoder_decoder) {
  if (specials.bos) json["bos_token_id"] = *specials.bos;
  if (specials.eos) json["eos_token_id"] = *specials.eos;
  if (specials.pad) json["pad_token_id"] = *specials.pad;
  // The decoder starts from the pad token, in T5 and in sslx's encoder-decoder objectives.
  if (encoder_decoder && specials.pad) json["decoder_start_token_id"] = *specials.pad;
}

// tokenizer.model and the files naming its special tokens. T5Tokenizer numbers the sentinels as
// sslx does (<extra_id_0> = vocab_size - 1, after the model's pieces), so it is the class named.
void write_tokenizer(const stdfs::path& directory, const data::Tokenizer& tokenizer,
                     std::int64_t max_positions, HfExport& result) {
  const auto* sentencepiece = dynamic_cast<const data::SentencePieceTokenizer*>(&tokenizer);
  if (sentencepiece == nullptr) {
    result.notes.push_back("no tokenizer files: the " + tokenizer.name() +
                           " tokenizer has no Hugging Face equivalent with the same ids");
    return;
  }
  stdfs::copy_file(sentencepiece->model_path(), directory / "tokenizer.model",
                   stdfs::copy_options::overwrite_existing);
  const data::SpecialTokens& specials = tokenizer.specials();
  nlohmann::json map = nlohmann::json::object();
  const std::pair<const char*, std::optional<data::TokenId>> named[] = {
      {"pad_token", specials.pad}, {"eos_token", specials.eos},   {"unk_token", specials.unk},
      {"bos_token", specials.bos}, {"mask_token", specials.mask}, {"cls_token", specials.cls},
      {"sep_token", specials.sep}};
  for (const auto& [key, id] : named) {
    if (id) map[key] = piece(tokenizer, id);
  }
  nlohmann::json sentinels = nlohmann::json::array();
  for (std::int32_t k = 0; k < specials.sentinel_count; ++k)
    sentinels.push_back(piece(tokenizer, specials.sentinel(k)));
  if (!sentinels.empty()) map["additional_special_tokens"] = sentinels;
  write_json(directory / "special_tokens_map.json", map);
  nlohmann::json config = map;
  config["tokenizer_class"] = "T5Tokenizer";
  config["extra_ids"] = specials.sentinel_count;
  config["model_max_length"] = max_positions;
  write_json(directory / "tokenizer_config.json", config);
}

// A sequence classifier's state for a class whose score layer has no bias (the decoders'
// ...ForSequenceClassification): the bias b (K) moves into the final norm's bias, which in that
// class feeds only the score: with W (K, E), adding a c with W c = b to the norm's output
// gives W (h + c) = W h + b, exact up to rounding (for K = 1, c = b w / |w|^2). A reward model
// needs this: the pairwise loss cannot tell its bias (it cancels in r_chosen - r_rejected), yet
// Adam turns the rounding noise of its gradient into steps of the learning rate's size, so a
// trained bias is small but not 0 (6.1e-5 after 30 steps at lr 3e-4). A backbone whose final norm
// has no bias (RMSNorm: Llama) has no place for it, and is refused unless the bias is exactly 0,
// as is a W whose dependent rows ask for incompatible biases (no c gives that b).
TensorMap without_score_bias(const ModelSpec& spec, const TensorMap& state,
                             const std::vector<TensorRule>& rules, const std::string& hf_class,
                             const std::string& source) {
  if (!spec.head) return state;
  const std::string bias_name = spec.head->module + ".proj.bias";
  const bool written = std::any_of(rules.begin(), rules.end(), [&](const TensorRule& rule) {
    return std::find(rule.sslx.begin(), rule.sslx.end(), bias_name) != rule.sslx.end();
  });
  TensorMap out = state;
  const auto bias_entry = out.find(bias_name);
  if (written || bias_entry == out.end()) return out;
  const at::Tensor bias = bias_entry->second.to(at::kDouble).flatten();
  out.erase(bias_entry);
  if (bias.abs().max().item<double>() == 0.0) return out;
  const std::string value =
      bias.numel() == 1 ? std::to_string(bias.item<double>())
                        : "not 0 (largest " + std::to_string(bias.abs().max().item<double>()) + ")";
  const auto refuse = [&](const std::string& why) {
    throw Error(source + ": " + bias_name + " is " + value + ", but " + hf_class +
                    "'s score layer has no bias and " + why,
                "sslx does not export an approximation");
  };
  const auto norm_bias = out.find("backbone.stack.final_norm.bias");
  if (norm_bias == out.end()) refuse("the backbone's final norm has none to carry it");
  const at::Tensor weight = out.at(spec.head->module + ".proj.weight").to(at::kDouble);  // (K, E)
  // The least-norm c with W c = b (LAPACK's gelsy, which handles a W of lower rank); where no c
  // gives b, what it leaves over says so.
  const at::Tensor shift = std::get<0>(at::linalg_lstsq(weight, bias.unsqueeze(1))).squeeze(1);
  const double scale = std::max(1.0, bias.abs().max().item<double>());
  if (!((weight.mv(shift) - bias).abs().max().item<double>() <= 1e-9 * scale))
    refuse(bias.numel() == 1 ? "the score's weight is 0"
                             : "the score's rows are linearly dependent");
  norm_bias->second =
      (norm_bias->second.to(at::kDouble) + shift).to(norm_bias->second.scalar_type());
  return out;
}

// id2label / label2id of a classifier's config.json, in the order of the projection's rows.
void add_labels(nlohmann::json& config, const std::vector<std::string>& labels) {
  nlohmann::json id2label = nlohmann::json::object(), label2id = nlohmann::json::object();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    id2label[std::to_string(i)] = labels[i];
    label2id[labels[i]] = i;
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
  // One label is a score (a reward model); several are classes trained with cross-entropy.
  config["problem_type"] = labels.size() == 1 ? "regression" : "single_label_classification";
}

}  // namespace

HfExport write_hf_directory(const stdfs::path& directory, const ModelSpec& spec,
                            const TensorMap& state, const data::Tokenizer& tokenizer,
                            at::ScalarType dtype, const std::string& source) {
  if (dtype != at::kFloat && dtype != at::kBFloat16)
    throw Error("export dtype must be float32 or bfloat16, got " +
                std::string(c10::toString(dtype)));
  const HfFamily& family = family_for(spec);
  TensorMap tensors = to_hf_tensors(
      family, spec,
      without_score_bias(spec, state, tensor_rules(family, spec), class_of(family, spec), source),
      source);
  for (auto& [name, tensor] : tensors)
    tensor = tensor.to(dtype);
  stdfs::create_directories(directory);
  write_tensor_file(directory / "model.safetensors", tensors, {{"format", "pt"}});

  const bool encoder_decoder = spec.kind == arch::ArchitectureKind::encoder_decoder;
  nlohmann::json config = family.config(spec);
  if (spec.head) {
    config["architectures"] = {family.sequence_class()};
    add_labels(config, spec.head->labels);
  }
  add_token_ids(config, tokenizer.specials(), encoder_decoder);
  config["torch_dtype"] = dtype == at::kFloat ? "float32" : "bfloat16";
  write_json(directory / "config.json", config);
  // An encoder fills in masks and a classifier scores: neither generates.
  if (spec.kind != arch::ArchitectureKind::encoder && !spec.head) {
    nlohmann::json generation = nlohmann::json::object();
    add_token_ids(generation, tokenizer.specials(), encoder_decoder);
    write_json(directory / "generation_config.json", generation);
  }

  HfExport result{.hf_class = class_of(family, spec)};
  write_tokenizer(directory, tokenizer, spec.options.max_positions, result);
  return result;
}

HfExport export_run(const stdfs::path& source, const stdfs::path& directory, at::ScalarType dtype) {
  const RunModel run = read_run_model(source);
  const TensorMap& state = run.state;
  const config::Node& config = run.config;
  const std::string model_file = (run.checkpoint / "model.pt").string();
  const std::string config_file = run.config_file.string();
  const auto embedding = state.find("backbone.embeddings.tokens.weight");
  if (embedding == state.end())
    throw IoError(model_file + " holds no backbone.embeddings.tokens.weight",
                  "export takes a language model, a reward model or a saved classifier");
  const config::Node& model = config.at_path("model");
  ModelSpec spec = model_spec(model, embedding->second.size(0));
  spec.head = sequence_head(run);
  data::register_builtin_data();
  const auto tokenizer = data::build_tokenizer(config);
  if (tokenizer->vocab_size() != spec.options.vocab_size)
    throw IoError(config_file + ": the tokenizer has " + std::to_string(tokenizer->vocab_size()) +
                  " tokens, " + model_file + " " + std::to_string(spec.options.vocab_size));
  HfExport result = write_hf_directory(directory, spec, state, *tokenizer, dtype, model_file);
  result.checkpoint = run.checkpoint;
  return result;
}

}  // namespace sslx::interop
