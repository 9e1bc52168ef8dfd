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
  // A ...ForSequenceClassification directory (config.json's "architectures" names the family's
  // sequence_class()): its head, labels from id2label. One label on the decoders' score is a
  // reward model ("reward_head"), anything else a classifier ("classifier_head").
  std::optional<ModelSpec::SequenceHead> head;

  // The class the directory holds: the family's language model, or its sequence classifier.
  std::string hf_class() const { return head ? family->sequence_class() : family->hf_class(); }
};

// Reads and checks config.json of `directory`; throws IoError naming the file and key.
HfDirectory read_hf_directory(const std::filesystem::path& directory);

// The backbone `model_table` describes (arch, kind, options with `vocab_size`).
ModelSpec model_spec(const config::Node& model_table, std::int64_t vocab_size);

// The name and shape of every tensor of `spec`'s model.pt (a language model, or the sequence
// classifier spec.head describes), from a model built with random weights.
TensorMap model_shapes(const config::Node& model_table, const ModelSpec& spec);

// The model's tensors (model.pt names, float32) of an HF directory, every shape checked against
// its config.json: a language model's, or a sequence classifier's (directory.head).
TensorMap read_hf_weights(const HfDirectory& directory);

// Throws IoError naming the directory when it holds a sequence classifier: `use` ("init_from",
// "generation") needs a language model.
void require_language_model(const HfDirectory& directory, const std::string& use);

// The directory's SentencePiece tokenizer: tokenizer.model, with T5Tokenizer's extra_ids from
// tokenizer_config.json as sslx's sentinels (both number <extra_id_k> down from the top id).
struct HfTokenizerFile {
  std::filesystem::path model;
  std::int64_t sentinels = 0;
};
std::optional<HfTokenizerFile> hf_tokenizer_file(const HfDirectory& directory);

// The run-like folder `sslx import` writes: config.toml ([model], when the directory has
// tokenizer.model [tokenizer], and for a classifier [classifier]: architectures/
// classifier_table.h) and model.pt, which init_from, export and evaluation accept as a
// checkpoint (a language model's; export takes a classifier's too). Returns the number of
// tensors written.
std::size_t import_to_folder(const HfDirectory& directory, const std::filesystem::path& folder);

// "hf:DIR" -> DIR, or nullopt for any other reference: how configs name an HF directory.
std::optional<std::filesystem::path> hf_reference(const std::string& reference);

}  // namespace sslx::interop
