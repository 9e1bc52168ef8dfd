#include "registry/registry.h"

#include "config/config_error.h"
#include "registry/registry_index.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::registry {

RegistryBase::RegistryBase(std::string kind, std::string doc, std::string section,
                           std::optional<std::string> default_name, std::string selector_key)
    : kind_(std::move(kind)),
      doc_(std::move(doc)),
      section_(std::move(section)),
      default_name_(std::move(default_name)),
      selector_key_(std::move(selector_key)) {
  RegistryIndex::instance().add(*this);
}

RegistryBase::~RegistryBase() {
  RegistryIndex::instance().remove(*this);
}

const config::Schema* RegistryBase::schema_of(std::string_view name) const {
  const auto index = find_index(name);
  return index ? &entries_[*index].schema : nullptr;
}

std::vector<std::string> RegistryBase::names() const {
  std::vector<std::string> result;
  for (const auto& entry : entries_)
    result.push_back(entry.name);
  return result;
}

void RegistryBase::check(std::string_view name, const config::CheckContext& context) const {
  const auto index = find_index(name);
  if (index && entries_[*index].check) entries_[*index].check(context);
}

std::size_t RegistryBase::add_entry(std::string name, std::string doc, config::Schema schema,
                                    config::Check check) {
  const std::string provider = RegistryIndex::instance().current_provider();
  if (const auto existing = find_index(name)) {
    throw Error(provider + " registers " + kind_ + " " + in_quotes(name) +
                    ", already registered by " + entries_[*existing].provided_by,
                "give the component another name");
  }
  if (schema.find(selector_key()) != nullptr) {
    throw Error(kind_ + " " + in_quotes(name) + " declares the key " + in_quotes(selector_key()) +
                ", which selects the component and cannot be an option");
  }
  entries_.push_back(
      Entry{std::move(name), std::move(doc), std::move(schema), provider, std::move(check)});
  return entries_.size() - 1;
}

std::optional<std::size_t> RegistryBase::find_index(std::string_view name) const {
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].name == name) return i;
  }
  return std::nullopt;
}

std::size_t RegistryBase::require_index(std::string_view name) const {
  if (const auto index = find_index(name)) return *index;
  std::string message =
      "unknown " + kind_ + " " + in_quotes(name) + "; registered: " + join(names(), ", ");
  const std::string hint = did_you_mean(name, names());
  if (!hint.empty()) message += "; " + hint;
  throw config::ConfigError(section_.empty() ? kind_ : section_ + "." + selector_key(), {},
                            message);
}

}  // namespace sslx::registry
