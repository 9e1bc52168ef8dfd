// Reading a local Hugging Face model directory (config.json and model.safetensors, or shards
// listed by model.safetensors.index.json) as an sslx backbone and LM head. Nothing is
// downloaded: the directory is on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "interop/hf_family.h"
#include "interop/tensor_file.h"

namespace sslx::interop {

struct HfDirectory {
  std::filesystem::path path;
  const HfFamily* family = nullptr;
  nlohmann::json config;     // config.json
  config::Node model_table;  // the [model] table that builds the same backbone
  std::int64_t vocab_size = 0;
};

// Reads and checks config.json of `directory`; throws IoError naming the file and key.
HfDirectory read_hf_directory(const std::filesystem::path& directory);

// The backbone `model_table` describes (arch, kind, options with `vocab_size`).
ModelSpec model_spec(const config::Node& model_table, std::int64_t vocab_size);

// The name and shape of every tensor of a language model of `spec` (model.pt names), from a
// backbone built with random weights.
TensorMap language_model_shapes(const config::Node& model_table, const ModelSpec& spec);

// The language model's tensors (model.pt names, float32) of an HF directory, every shape checked
// against its config.json.
TensorMap read_hf_weights(const HfDirectory& directory);

// The directory's SentencePiece tokenizer: tokenizer.model, with T5Tokenizer's extra_ids from
// tokenizer_config.json as sslx's sentinels (both number <extra_id_k> down from the top id).
struct HfTokenizerFile {
  std::filesystem::path model;
  std::int64_t sentinels = 0;
};
std::optional<HfTokenizerFile> hf_tokenizer_file(const HfDirectory& directory);

// The run-like folder `sslx import` writes: config.toml ([model] and, when the directory has
// tokenizer.model, [tokenizer]) and model.pt, which init_from, export and evaluation accept as a
// checkpoint. Returns the number of tensors written.
std::size_t import_to_folder(const HfDirectory& directory, const std::filesystem::path& folder);

// "hf:DIR" -> DIR, or nullopt for any other reference: how configs name an HF directory.
std::optional<std::filesystem::path> hf_reference(const std::string& reference);

}  // namespace sslx::interop
