#include "interop/hf_import.h"

#include <ATen/ATen.h>

#include <fstream>
#include <set>

#include "architectures/architecture.h"
#include "architectures/architecture_registry.h"
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

}  // namespace

HfDirectory read_hf_directory(const stdfs::path& directory) {
  const stdfs::path file = directory / "config.json";
  HfDirectory result{.path = directory, .config = read_json(file)};
  if (!result.config.is_object()) throw IoError(file.string() + " is not a JSON object");
  result.family = &family_for(result.config, file.string());
  result.model_table = result.family->model_table(result.config, file.string());
  result.vocab_size = json_int(result.config, "vocab_size", file.string());
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

TensorMap language_model_shapes(const config::Node& model_table, const ModelSpec& spec) {
  arch::register_builtin_architectures();
  const auto backbone = arch::architecture_registry().create(model_table, spec.options.vocab_size);
  TensorMap shapes;
  for (const auto& [name, tensor] : nn::named_state(*backbone))
    shapes.emplace("backbone." + name, tensor);
  // The head a language model builds on this backbone (objectives/language_model.h).
  const arch::LmHead head = arch::lm_head_for(*backbone);
  for (const auto& [name, tensor] : nn::named_state(*head))
    shapes.emplace("lm_head." + name, tensor);
  return shapes;
}

TensorMap read_hf_weights(const HfDirectory& directory) {
  const ModelSpec spec = model_spec(directory.model_table, directory.vocab_size);
  const TensorMap hf = read_all_tensors(directory.path);
  return from_hf_tensors(*directory.family, spec, hf,
                         language_model_shapes(directory.model_table, spec),
                         directory.path.string());
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
  fs::write_text_atomic(folder / "config.toml", "# Imported by `sslx import` from " +
                                                    stdfs::absolute(directory.path).string() +
                                                    " (" + directory.family->hf_class() + ")\n" +
                                                    config::to_toml(config));
  nn::save_state_dict(state, folder / "model.pt");
  return state.size();
}

std::optional<stdfs::path> hf_reference(const std::string& reference) {
  if (!reference.starts_with("hf:")) return std::nullopt;
  return stdfs::path(reference.substr(3));
}

}  // namespace sslx::interop
