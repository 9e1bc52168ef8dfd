// Writing a trained sslx language model as a Hugging Face model directory that transformers
// loads as is: model.safetensors, config.json, generation_config.json and, for a SentencePiece
// tokenizer, tokenizer.model with tokenizer_config.json and special_tokens_map.json.
#pragma once

#include <c10/core/ScalarType.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "interop/hf_family.h"
#include "interop/tensor_file.h"

namespace sslx::interop {

struct HfExport {
  std::filesystem::path checkpoint;  // what was read
  std::string hf_class;              // "GPT2LMHeadModel", ...
  std::vector<std::string> notes;    // what the directory lacks and why (no tokenizer file, ...)
};

// Writes `directory` from `state` (model.pt names) of a model `spec`, tensors in `dtype`
// (float32 or bfloat16); `tokenizer` gives the special token ids and, for SentencePiece, the
// tokenizer files. Refuses (Error) a model no family holds exactly, naming the options.
HfExport write_hf_directory(const std::filesystem::path& directory, const ModelSpec& spec,
                            const TensorMap& state, const data::Tokenizer& tokenizer,
                            at::ScalarType dtype, const std::string& source);

// The same for a run folder, its checkpoints/ folder or one checkpoint: the model and tokenizer
// are those of the run's config.toml.
HfExport export_run(const std::filesystem::path& source, const std::filesystem::path& directory,
                    at::ScalarType dtype);

}  // namespace sslx::interop
