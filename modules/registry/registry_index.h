// The index of every registry, and the root config schema assembled from them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

  // Who registers components right now: "built-in", or a plugin path while it is loading.
  const std::string& current_provider() const { return provider_; }
  void set_current_provider(std::string provider) { provider_ = std::move(provider); }

 private:
  RegistryIndex() = default;
  std::vector<RegistryBase*> registries_;
  std::vector<config::Field> root_fields_;
  std::string provider_ = "built-in";
};

}  // namespace sslx::registry
