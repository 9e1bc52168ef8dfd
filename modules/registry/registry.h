// Typed registries: name -> factory + config schema + one-line doc, per kind of component
// (schedules, architectures, objectives, ...). Every registry is listed in the RegistryIndex, so
// `sslx list` and the generated config reference see all of them, built-in and plugin alike.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/check.h"
#include "config/node.h"
#include "config/schema.h"

namespace sslx::registry {

class RegistryBase : public config::SchemaProvider {
 public:
  struct Entry {
    std::string name;
    std::string doc;
    config::Schema schema;
    std::string provided_by;  // "built-in" or the path of the plugin that registered it
    // Rules over the whole config that the schema cannot express; may be empty.
    config::Check check;
  };

  // `section`: the top-level config key where a component of this kind is configured (empty
  // when this kind is not configured at the root); `default_name` is used when it is absent.
  RegistryBase(std::string kind, std::string doc, std::string section,
               std::optional<std::string> default_name, std::string selector_key = "name");
  ~RegistryBase() override;
  RegistryBase(const RegistryBase&) = delete;
  RegistryBase& operator=(const RegistryBase&) = delete;

  std::string kind() const override { return kind_; }
  std::string selector_key() const override { return selector_key_; }
  const config::Schema* schema_of(std::string_view name) const override;
  std::vector<std::string> names() const override;
  void check(std::string_view name, const config::CheckContext& context) const override;

  const std::string& doc() const { return doc_; }
  const std::string& section() const { return section_; }
  const std::optional<std::string>& default_name() const { return default_name_; }
  const std::vector<Entry>& entries() const { return entries_; }
  bool contains(std::string_view name) const { return find_index(name).has_value(); }

 protected:
  std::size_t add_entry(std::string name, std::string doc, config::Schema schema,
                        config::Check check = {});
  std::optional<std::size_t> find_index(std::string_view name) const;
  // The entry's index; throws a ConfigError listing the known names when `name` is unknown.
  std::size_t require_index(std::string_view name) const;

 private:
  std::string kind_;
  std::string doc_;
  std::string section_;
  std::optional<std::string> default_name_;
  std::string selector_key_;
  std::vector<Entry> entries_;
};

// A registry of components that are created as Product from their validated config table
// (plus any runtime arguments Args the kind needs, e.g. a vocabulary size).
template <class Product, class... Args>
class Registry : public RegistryBase {
 public:
  using Factory = std::function<std::unique_ptr<Product>(const config::Node& options, Args...)>;
  using RegistryBase::RegistryBase;

  // `check`: the component's rules over the whole config, run when an experiment is planned
  // (config/check.h); a factory may then rely on them.
  void add(std::string name, std::string doc, config::Schema schema, Factory factory,
           config::Check check = {}) {
    add_entry(std::move(name), std::move(doc), std::move(schema), std::move(check));
    factories_.push_back(std::move(factory));
  }

  // `options`: a validated table whose selector key names the component.
  std::unique_ptr<Product> create(const config::Node& options, Args... args) const {
    const std::size_t index = require_index(options.get_string(selector_key()));
    return factories_[index](options, args...);
  }

 private:
  std::vector<Factory> factories_;
};

}  // namespace sslx::registry
