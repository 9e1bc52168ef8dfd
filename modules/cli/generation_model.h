// What `sslx generate` samples from: a language model and its tokenizer, read from a run folder,
// its checkpoints/ folder, one checkpoint, a folder written by `sslx import`, or a Hugging Face
// directory (config.json + model.safetensors + tokenizer.model).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "architectures/architecture_kind.h"
#include "data/tokenizer.h"
#include "objectives/language_model.h"

namespace sslx::cli {

struct GenerationModel {
  objectives::LanguageModel model{nullptr};  // in eval mode
  std::unique_ptr<data::Tokenizer> tokenizer;
  arch::ArchitectureKind kind = arch::ArchitectureKind::decoder;
  std::int64_t max_positions = 0;
  std::string description;  // what was loaded, for the first line of output
};

// Throws IoError naming what is missing; an encoder (no generation) is refused.
GenerationModel load_generation_model(const std::filesystem::path& source);

}  // namespace sslx::cli
