// The whole path from a file and overrides to a validated config:
//   compose defaults (with group choices) -> apply value overrides -> [caller: load plugins]
//   -> fill schema defaults -> interpolate -> check types -> check nothing is left "???".
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "config/compose.h"
#include "config/experiment_plan.h"
#include "config/node.h"
#include "config/schema.h"
#include "config/sweep.h"

namespace sslx::config {

struct ResolveRequest {
  std::filesystem::path file;
  std::vector<std::string> overrides;              // plain overrides, no sweep syntax
  std::vector<std::filesystem::path> config_dirs;  // extra search roots (--config-dir)
};

struct Resolved {
  Node config;                  // validated, defaults filled, interpolated
  DefaultsEntry defaults_tree;  // which file provided what
  std::vector<std::string> overrides;
  std::vector<SweepAxis> sweep;   // axes of the file's [sweep] table (removed from `config`)
  std::vector<Variant> variants;  // the file's [variants] (removed from `config`)
};

// Called with the composed, overridden (not yet validated) config; returns the schema to check
// it against. This is where plugins named in the config get loaded before validation.
using SchemaForConfig = std::function<Schema(const Node& composed)>;

Resolved resolve(const ResolveRequest& request, const SchemaForConfig& schema_for);

// Composition and overrides only (no schema): what `resolve` validates.
Resolved compose_with_overrides(const ResolveRequest& request);

// Applies value overrides to a composed config; errors name the override.
void apply_overrides(Node& config, const std::vector<Override>& overrides);

}  // namespace sslx::config
