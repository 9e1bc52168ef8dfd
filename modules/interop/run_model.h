// The language model of an sslx run as export and generation read it: a run folder, its
// checkpoints/ folder, one checkpoint, or a folder written by `sslx import`.
#pragma once

#include <filesystem>
#include <optional>

#include "config/node.h"
#include "interop/hf_family.h"
#include "interop/tensor_file.h"

namespace sslx::interop {

struct RunModel {
  std::filesystem::path checkpoint;   // the folder holding model.pt
  std::filesystem::path config_file;  // the run's config.toml
  config::Node config;                // with [model] and [tokenizer]
  TensorMap state;                    // model.pt
};

// Reads the newest checkpoint of `source` (or the checkpoint given) and the run's config.toml
// (beside model.pt, or two levels up: <run>/checkpoints/step-N). Throws IoError naming what is
// missing.
RunModel read_run_model(const std::filesystem::path& source);

// The sequence head of `run`'s model: a reward model's (reward_head.*), a saved classifier's
// (classifier_head.*, described by config.toml's [classifier]), or nullopt for a language model.
// Throws IoError naming the file when [classifier] is missing or disagrees with model.pt.
std::optional<ModelSpec::SequenceHead> sequence_head(const RunModel& run);

}  // namespace sslx::interop
