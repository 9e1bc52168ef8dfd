// The index of every registry, and the root config schema assembled from them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "config/check.h"
#include "config/schema.h"

namespace sslx::registry {

class RegistryBase;

class RegistryIndex {
 public:
  static RegistryIndex& instance();

  void add(RegistryBase& registry);
  void remove(RegistryBase& registry);
  // Registries sorted by kind.
  std::vector<const RegistryBase*> registries() const;
  // Throws ConfigError naming the known kinds when `kind` is unknown.
  const RegistryBase& find(std::string_view kind) const;

  // Keys of the config root that are not component sections (seed, plugins, ...).
  void add_root_field(config::Field field);
  // Root fields plus one component field per registry with a section.
  config::Schema root_schema() const;

  // A rule over the whole config that belongs to no component (the trainer's budget, say).
  // Named once: registering the same name again is ignored.
  void add_root_check(std::string name, config::Check check);
  // Runs every component's check and every root check over a validated config.
  void check(const config::Node& config, const config::UpstreamRuns& upstream,
             config::DiagnosticList& diagnostics) const;

  // Who registers components right now: "built-in", or a plugin path while it is loading.
  const std::string& current_provider() const { return provider_; }
  void set_current_provider(std::string provider) { provider_ = std::move(provider); }

 private:
  RegistryIndex() = default;
  std::vector<RegistryBase*> registries_;
  std::vector<config::Field> root_fields_;
  std::vector<std::pair<std::string, config::Check>> root_checks_;
  std::string provider_ = "built-in";
};

}  // namespace sslx::registry
