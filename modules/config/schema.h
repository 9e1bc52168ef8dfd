// Schemas: every component declares its keys with type, default and a one-line doc. Validation
// fills defaults, rejects unknown keys (with "did you mean"), checks types, bounds and choices,
// and reports every problem of a config at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_error.h"
#include "config/node.h"

namespace sslx::config {

enum class Type { kBool, kInt, kFloat, kString, kArray, kTable, kAny };
std::string type_name(Type type);

class Schema;
class CheckContext;

// Chooses the schema of a component section by the value of its selector key (e.g. `name`).
// Registries implement this, so config does not depend on them.
class SchemaProvider {
 public:
  virtual ~SchemaProvider() = default;
  virtual std::string kind() const = 0;                        // e.g. "schedule"
  virtual std::string selector_key() const { return "name"; }  // key naming the component
  virtual const Schema* schema_of(std::string_view name) const = 0;
  virtual std::vector<std::string> names() const = 0;
  // Runs the named component's own check over the whole config (see config/check.h).
  virtual void check(std::string_view /*name*/, const CheckContext& /*context*/) const {}
};

struct Field {
  std::string key;
  Type type = Type::kAny;
  // The default value; nullopt makes the key mandatory. For a component field: the default name,
  // where "" makes the component optional (name = "" selects none).
  std::optional<Node> default_value;
  std::string doc;
  std::optional<double> min;  // numbers: inclusive bounds
  std::optional<double> max;
  std::vector<std::string> choices;           // strings: allowed values
  Type element_type = Type::kAny;             // arrays: type of every element
  std::shared_ptr<const Schema> nested;       // tables with fixed keys
  const SchemaProvider* component = nullptr;  // tables that select a registered component

  bool mandatory() const { return !default_value.has_value(); }
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::string doc) : doc_(std::move(doc)) {}

  Schema& add(Field field);
  const std::vector<Field>& fields() const { return fields_; }
  const Field* find(std::string_view key) const;
  const std::string& doc() const { return doc_; }
  std::vector<std::string> keys() const;

 private:
  std::string doc_;
  std::vector<Field> fields_;
};

struct ValidateOptions {
  // Values that still hold ${...} are not type-checked (validation before interpolation).
  bool skip_unresolved = false;
};

// Validates `table` (a table node at dotted `path`) against `schema` in place: fills defaults
// (origin "schema default"), converts ints given for floats. Problems go into `diagnostics`.
void validate(Node& table, const Schema& schema, const std::string& path,
              DiagnosticList& diagnostics, ValidateOptions options = {});

// The value the user writes to mean "mandatory, must be set" (as Hydra's ???).
inline constexpr std::string_view kMissingValue = "???";

}  // namespace sslx::config
