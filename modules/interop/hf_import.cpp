#include "interop/hf_import.h"

#include <ATen/ATen.h>

#include <fstream>
#include <set>

#include "architectures/architecture.h"
#include "architectures/architecture_registry.h"
#include "architectures/classifier_table.h"
#include "architectures/heads.h"
#include "config/toml_io.h"
#include "interop/hf_convert.h"
#include "nn/state_io.h"
#include "util/error.h"
#include "util/fs.h"

namespace sslx::interop {
namespace stdfs = std::filesystem;
namespace {

nlohmann::json read_json(const stdfs::path& file) {
  if (!stdfs::is_regular_file(file))
    throw IoError("no " + file.string(),
                  "an HF model directory holds config.json and "
                  "model.safetensors (save_pretrained writes them)");
  try {
    return nlohmann::json::parse(fs::read_text(file));
  } catch (const nlohmann::json::exception& e) {
    throw IoError(file.string() + " is not valid JSON: " + e.what());
  }
}

// Every tensor of the directory's weights: model.safetensors, or the shards its index lists.
TensorMap read_all_tensors(const stdfs::path& directory) {
  const stdfs::path single = directory / "model.safetensors";
  if (stdfs::is_regular_file(single)) return read_tensor_file(single);
  const stdfs::path index_file = directory / "model.safetensors.index.json";
  if (!stdfs::is_regular_file(index_file))
    throw IoError(directory.string() +
                      " holds neither model.safetensors nor "
                      "model.safetensors.index.json",
                  "sslx reads safetensors weights only (pytorch_model.bin is a pickle)");
  const nlohmann::json index = read_json(index_file);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw IoError(index_file.string() + " has no \"weight_map\" object");
  std::map<std::string, std::string> shard_of;
  std::set<std::string> shards;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string() || shard.get<std::string>().find('/') != std::string::npos)
      throw IoError(index_file.string() + ": \"" + name + "\" maps to " + shard.dump() +
                    "; expected a file name in the same directory");
    shard_of.emplace(name, shard.get<std::string>());
    shards.insert(shard.get<std::string>());
  }
  TensorMap tensors;
  for (const auto& shard : shards) {
    for (auto& [name, tensor] : read_tensor_file(directory / shard)) {
      const auto it = shard_of.find(name);
      if (it == shard_of.end() || it->second != shard)
        throw IoError((directory / shard).string() + " holds tensor \"" + name + "\", which " +
                      index_file.string() + " places elsewhere");
      tensors.emplace(name, std::move(tensor));
    }
  }
  for (const auto& [name, shard] : shard_of) {
    if (tensors.count(name) == 0)
      throw IoError(index_file.string() + " places \"" + name + "\" in " + shard +
                    ", which does not hold it");
  }
  return tensors;
}

// The head of a ...ForSequenceClassification config.json, or nullopt for the family's other
// classes. Labels in id order from id2label (transformers writes it, num_labels entries).
std::optional<ModelSpec::SequenceHead> sequence_head_of(const HfFamily& family,
                                                        const nlohmann::json& config,
                                                        const std::string& file) {
  const nlohmann::json classes = json_or(config, "architectures", nlohmann::json::array());
  if (family.sequence_class().empty() || !classes.is_array() || classes.empty() ||
      classes[0] != family.sequence_class())
    return std::nullopt;
  const nlohmann::json id2label = json_or(config, "id2label", nlohmann::json::object());
  ModelSpec::SequenceHead head = family.default_head();
  head.labels.clear();
  for (std::size_t i = 0; i < id2label.size(); ++i) {
    const std::string id = std::to_string(i);
    if (!id2label.is_object() || !id2label.contains(id) || !id2label[id].is_string())
      throw IoError(file + ": \"id2label\" is " + id2label.dump(),
                    "a classifier's config.json maps every id 0..num_labels-1 to a label name");
    head.labels.push_back(id2label[id].get<std::string>());
  }
  if (head.labels.empty())
    throw IoError(file + " names " + family.sequence_class() + " but has no \"id2label\"",
                  "a classifier's config.json maps every id 0..num_labels-1 to a label name");
  const auto problem_type = json_or(config, "problem_type", nullptr);
  if (problem_type == "multi_label_classification")
    unsupported(file, "problem_type", problem_type,
                "sslx's classifiers pick one class (softmax), not several (sigmoid)");
  // sslx's reward model is exactly the decoders' one-label score.
  if (head.labels.size() == 1 && head.pooling == arch::Pooling::last && !head.pooler)
    head.module = "reward_head";
  return head;
}

}  // namespace

HfDirectory read_hf_directory(const stdfs::path& directory) {
  const stdfs::path file = directory / "config.json";
  HfDirectory result{.path = directory, .config = read_json(file)};
  if (!result.config.is_object()) throw IoError(file.string() + " is not a JSON object");
  result.family = &family_for(result.config, file.string());
  result.model_table = result.family->model_table(result.config, file.string());
  result.vocab_size = json_int(result.config, "vocab_size", file.string());
  result.head = sequence_head_of(*result.family, result.config, file.string());
  arch::register_builtin_architectures();
  // The table must build a backbone: the options' own checks, with the file named.
  const ModelSpec spec = model_spec(result.model_table, result.vocab_size);
  const auto problems = arch::problems(spec.options, spec.kind != arch::ArchitectureKind::encoder);
  if (!problems.empty())
    throw IoError(file.string() + " describes a model sslx cannot build: " + problems[0].key +
                  ": " + problems[0].message);
  return result;
}

ModelSpec model_spec(const config::Node& model_table, std::int64_t vocab_size) {
  arch::register_builtin_architectures();
  const std::string arch = model_table.get_string("arch");
  return ModelSpec{.arch = arch,
                   .kind = arch::architecture_registry().kind_of(arch),
                   .options = arch::options_from_config(model_table, vocab_size)};
}

TensorMap model_shapes(const config::Node& model_table, const ModelSpec& spec) {
  arch::register_builtin_architectures();
  const auto backbone = arch::architecture_registry().create(model_table, spec.options.vocab_size);
  TensorMap shapes;
  for (const auto& [name, tensor] : nn::named_state(*backbone))
    shapes.emplace("backbone." + name, tensor);
  const auto add = [&shapes](const std::string& module, const torch::nn::Module& head) {
    for (const auto& [name, tensor] : nn::named_state(head))
      shapes.emplace(module + "." + name, tensor);
  };
  const std::int64_t E = spec.options.d_model;
  if (spec.reward_model()) {  // objectives/reward_model.h
    add("reward_head", *arch::ScalarHead(arch::ScalarHeadOptions{.d_model = E}));
  } else if (spec.head) {  // the fine-tune evaluator's classifier
    add(spec.head->module, *arch::ClassificationHead(arch::ClassificationHeadOptions{
                               .d_model = E,
                               .n_classes = static_cast<std::int64_t>(spec.head->labels.size()),
                               .pooling = spec.head->pooling,
                               .pooler = spec.head->pooler}));
  } else {  // the head a language model builds on this backbone (objectives/language_model.h)
    add("lm_head", *arch::lm_head_for(*backbone));
  }
  return shapes;
}

TensorMap read_hf_weights(const HfDirectory& directory) {
  ModelSpec spec = model_spec(directory.model_table, directory.vocab_size);
  spec.head = directory.head;
  const TensorMap hf = read_all_tensors(directory.path);
  const TensorMap shapes = model_shapes(directory.model_table, spec);
  TensorMap state = from_hf_tensors(*directory.family, spec, hf, shapes, directory.path.string());
  // The decoders' score has no bias; sslx's heads have one, which is then 0.
  if (spec.head) {
    const std::string bias = spec.head->module + ".proj.bias";
    if (state.count(bias) == 0) state.emplace(bias, at::zeros_like(shapes.at(bias)));
  }
  return state;
}

void require_language_model(const HfDirectory& directory, const std::string& use) {
  if (!directory.head) return;
  throw IoError(directory.path.string() + " holds a " + directory.family->sequence_class() + " (" +
                    std::to_string(directory.head->labels.size()) + " labels)",
                use + " needs a language model (" + directory.family->hf_class() + ")");
}

std::optional<HfTokenizerFile> hf_tokenizer_file(const HfDirectory& directory) {
  const stdfs::path model = directory.path / "tokenizer.model";
  if (!stdfs::is_regular_file(model)) return std::nullopt;
  HfTokenizerFile file{.model = model};
  const stdfs::path tokenizer_config = directory.path / "tokenizer_config.json";
  if (stdfs::is_regular_file(tokenizer_config)) {
    const auto extra_ids = json_or(read_json(tokenizer_config), "extra_ids", 0);
    if (!extra_ids.is_number_unsigned())
      throw IoError(tokenizer_config.string() + ": \"extra_ids\" is " + extra_ids.dump() +
                    "; expected a count");
    file.sentinels = extra_ids.get<std::int64_t>();
  }
  return file;
}

std::size_t import_to_folder(const HfDirectory& directory, const stdfs::path& folder) {
  const TensorMap state = read_hf_weights(directory);
  config::Node config;
  config.set("model", directory.model_table);
  stdfs::create_directories(folder);
  if (const auto tokenizer_file = hf_tokenizer_file(directory)) {
    stdfs::copy_file(tokenizer_file->model, folder / "tokenizer.model",
                     stdfs::copy_options::overwrite_existing);
    config::Node tokenizer;
    tokenizer.set("name", "sentencepiece");
    tokenizer.set("model", stdfs::absolute(folder / "tokenizer.model").string());
    tokenizer.set("sentinels", tokenizer_file->sentinels);
    config.set("tokenizer", tokenizer);
  }
  if (directory.head && !directory.head->labels.empty() &&
      directory.head->module == "classifier_head") {
    const char* pooling = directory.head->pooling == arch::Pooling::first  ? "first"
                          : directory.head->pooling == arch::Pooling::last ? "last"
                                                                           : "mean";
    config.set("classifier", arch::to_node({.labels = directory.head->labels,
                                            .pooling = pooling,
                                            .pooler = directory.head->pooler}));
  }
  fs::write_text_atomic(folder / "config.toml", "# Imported by `sslx import` from " +
                                                    stdfs::absolute(directory.path).string() +
                                                    " (" + directory.hf_class() + ")\n" +
                                                    config::to_toml(config));
  nn::save_state_dict(state, folder / "model.pt");
  return state.size();
}

std::optional<stdfs::path> hf_reference(const std::string& reference) {
  if (!reference.starts_with("hf:")) return std::nullopt;
  return stdfs::path(reference.substr(3));
}

}  // namespace sslx::interop
