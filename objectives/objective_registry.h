// The registry of objectives ([objective] section, chosen by `name`), and what a factory gets.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/node.h"
#include "data/shard_cache.h"
#include "data/tokenizer.h"
#include "registry/registry.h"
#include "train/objective.h"
#include "train/trainer_options.h"

namespace sslx::objectives {

struct ObjectiveContext {
  const config::Node& model;  // the validated [model] section
  const data::Tokenizer& tokenizer;
  const data::PreparedCorpus& corpus;
  const train::TrainerOptions& trainer;
  std::uint64_t seed;
};

using ObjectiveRegistry = registry::Registry<train::Objective, const ObjectiveContext&>;
ObjectiveRegistry& objective_registry();

// Registers the built-in objectives (idempotent).
void register_builtin_objectives();

// Throws a ConfigError at model.arch when the kind of the selected architecture ("encoder",
// "decoder", "encoder_decoder") is not one of `kinds`. The same rule runs at --dry-run
// (accepts_architectures in objectives/run_checks.h).
void require_architecture(const std::string& objective, const config::Node& model,
                          const std::vector<std::string>& kinds);

// Whether the [model] section selects an architecture of `kind`.
bool is_kind(const config::Node& model, std::string_view kind);

}  // namespace sslx::objectives
