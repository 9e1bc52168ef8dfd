#include "registry/registry_index.h"

#include <algorithm>

#include "config/config_error.h"
#include "registry/registry.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::registry {

RegistryIndex& RegistryIndex::instance() {
  // Never destroyed: registries that are static objects of other libraries unregister themselves
  // at exit, possibly after this library's statics would have been destroyed.
  static auto* index = new RegistryIndex();
  return *index;
}

void RegistryIndex::add(RegistryBase& registry) {
  for (const auto* existing : registries_) {
    if (existing->kind() == registry.kind()) {
      throw Error("two registries for the kind " + in_quotes(registry.kind()));
    }
  }
  registries_.push_back(&registry);
}

void RegistryIndex::remove(RegistryBase& registry) {
  registries_.erase(std::remove(registries_.begin(), registries_.end(), &registry),
                    registries_.end());
}

std::vector<const RegistryBase*> RegistryIndex::registries() const {
  std::vector<const RegistryBase*> sorted(registries_.begin(), registries_.end());
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->kind() < b->kind(); });
  return sorted;
}

const RegistryBase& RegistryIndex::find(std::string_view kind) const {
  std::vector<std::string> kinds;
  for (const auto* registry : registries()) {
    if (registry->kind() == kind) return *registry;
    kinds.push_back(registry->kind());
  }
  std::string message =
      "unknown component kind " + in_quotes(kind) + "; kinds: " + join(kinds, ", ");
  const std::string hint = did_you_mean(kind, kinds);
  if (!hint.empty()) message += "; " + hint;
  throw config::ConfigError("", config::Origin{"command line"}, message);
}

void RegistryIndex::add_root_field(config::Field field) {
  for (const auto& existing : root_fields_) {
    if (existing.key == field.key) return;  // registering built-ins twice is harmless
  }
  root_fields_.push_back(std::move(field));
}

void RegistryIndex::add_root_check(std::string name, config::Check check) {
  for (const auto& [existing, rule] : root_checks_) {
    if (existing == name) return;  // registering built-ins twice is harmless
  }
  root_checks_.emplace_back(std::move(name), std::move(check));
}

void RegistryIndex::check(const config::Node& config, const config::UpstreamRuns& upstream,
                          config::DiagnosticList& diagnostics) const {
  config::check_components(config, root_schema(), upstream, diagnostics);
  const config::CheckContext context(config, config, "", upstream, diagnostics);
  for (const auto& [name, rule] : root_checks_)
    rule(context);
}

config::Schema RegistryIndex::root_schema() const {
  config::Schema schema("the root of an sslx config");
  for (const auto& field : root_fields_)
    schema.add(field);
  for (const auto* registry : registries()) {
    if (registry->section().empty()) continue;
    config::Field field{.key = registry->section(), .doc = registry->doc(), .component = registry};
    if (registry->default_name()) field.default_value = config::Node(*registry->default_name());
    schema.add(std::move(field));
  }
  return schema;
}

}  // namespace sslx::registry
