#include "config/schema.h"

#include <algorithm>

#include "config/interpolate.h"
#include "config/toml_io.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::config {
namespace {

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string describe(const Node& value) {
  std::string text = to_toml_inline(value);
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return std::string(kind_name(value.kind())) + " " + text;
}

bool kind_matches(Type type, Kind kind) {
  switch (type) {
    case Type::kBool:
      return kind == Kind::kBool;
    case Type::kInt:
      return kind == Kind::kInt;
    case Type::kFloat:
      return kind == Kind::kFloat || kind == Kind::kInt;
    case Type::kString:
      return kind == Kind::kString;
    case Type::kArray:
      return kind == Kind::kArray;
    case Type::kTable:
      return kind == Kind::kTable;
    case Type::kAny:
      return true;
  }
  return false;
}

class Validator {
 public:
  Validator(DiagnosticList& diagnostics, ValidateOptions options)
      : diagnostics_(diagnostics), options_(options) {}

  void table(Node& node, const Schema& schema, const std::string& path,
             const std::string& allowed_extra_key = {}) {
    for (const auto& [key, value] : node.as_table()) {
      if (schema.find(key) != nullptr || key == allowed_extra_key) continue;
      std::string message = "unknown key " + in_quotes(key);
      if (!path.empty()) message += " in [" + path + "]";
      auto candidates = schema.keys();
      if (!allowed_extra_key.empty()) candidates.push_back(allowed_extra_key);
      const std::string hint = did_you_mean(key, candidates);
      message += hint.empty() ? "; valid keys: " + join(candidates, ", ") : "; " + hint;
      diagnostics_.add(join_path(path, key), value.origin(), message);
    }
    for (const auto& field : schema.fields()) {
      const std::string key_path = join_path(path, field.key);
      Node* value = node.find(field.key);
      if (value == nullptr) {
        if (field.mandatory()) {
          diagnostics_.add(
              key_path, node.origin(),
              "missing mandatory key (" + type_name(field.type) + ": " + field.doc + ")");
          continue;
        }
        if (field.component != nullptr) {
          value = &node.set(field.key,
                            Node(Table{{field.component->selector_key(), *field.default_value}},
                                 Origin::schema_default()));
          value->set_origin_recursive(Origin::schema_default());
        } else {
          Node filled = *field.default_value;
          filled.set_origin_recursive(Origin::schema_default());
          value = &node.set(field.key, std::move(filled));
        }
      }
      check(*value, field, key_path);
    }
  }

 private:
  bool unresolved(const Node& value) const {
    return options_.skip_unresolved && value.is_string() && has_interpolation(value.as_string());
  }

  void check(Node& value, const Field& field, const std::string& path) {
    if (value.is_string() && value.as_string() == kMissingValue) {
      diagnostics_.add(
          path, value.origin(),
          "mandatory value is not set (" + type_name(field.type) + ": " + field.doc + ")");
      return;
    }
    if (unresolved(value)) return;
    if (field.component != nullptr) {
      component(value, field, path);
      return;
    }
    if (!kind_matches(field.type, value.kind())) {
      diagnostics_.add(path, value.origin(),
                       "expected " + type_name(field.type) + ", got " + describe(value));
      return;
    }
    if (field.type == Type::kFloat && value.kind() == Kind::kInt) {
      value = Node(value.as_float(), value.origin());
    }
    bounds(value, field, path);
    if (field.type == Type::kArray && field.element_type != Type::kAny) {
      auto& array = value.as_array();
      for (std::size_t i = 0; i < array.size(); ++i) {
        if (unresolved(array[i])) continue;
        if (!kind_matches(field.element_type, array[i].kind())) {
          diagnostics_.add(
              path + "[" + std::to_string(i) + "]", array[i].origin(),
              "expected " + type_name(field.element_type) + ", got " + describe(array[i]));
        } else if (field.element_type == Type::kFloat && array[i].kind() == Kind::kInt) {
          array[i] = Node(array[i].as_float(), array[i].origin());
        }
      }
    }
    if (field.type == Type::kTable && field.nested) table(value, *field.nested, path);
  }

  void bounds(const Node& value, const Field& field, const std::string& path) {
    if (value.is_number()) {
      const double number = value.as_float();
      if ((field.min && number < *field.min) || (field.max && number > *field.max)) {
        const auto bound = [&field](double limit) {
          return field.type == Type::kInt ? std::to_string(static_cast<std::int64_t>(limit))
                                          : to_toml_inline(Node(limit));
        };
        std::string range = field.min ? ">= " + bound(*field.min) : "";
        if (field.max) range += (range.empty() ? "<= " : " and <= ") + bound(*field.max);
        diagnostics_.add(path, value.origin(),
                         "value " + to_toml_inline(value) + " out of range: must be " + range);
      }
    }
    if (value.is_string() && !field.choices.empty()) {
      const auto& text = value.as_string();
      if (std::find(field.choices.begin(), field.choices.end(), text) == field.choices.end()) {
        std::string message =
            "invalid value " + in_quotes(text) + "; one of: " + join(field.choices, ", ");
        const std::string hint = did_you_mean(text, field.choices);
        if (!hint.empty()) message += "; " + hint;
        diagnostics_.add(path, value.origin(), message);
      }
    }
  }

  void component(Node& value, const Field& field, const std::string& path) {
    const SchemaProvider& provider = *field.component;
    const std::string selector = provider.selector_key();
    if (!value.is_table()) {
      diagnostics_.add(path, value.origin(),
                       "expected a table selecting a " + provider.kind() + " with " + selector +
                           " = \"...\", got " + describe(value));
      return;
    }
    const Node* name = value.find(selector);
    const auto names = provider.names();
    if (name == nullptr) {
      if (!field.default_value) {
        diagnostics_.add(join_path(path, selector), value.origin(),
                         "missing mandatory key: which " + provider.kind() +
                             " (one of: " + join(names, ", ") + ")");
        return;
      }
      value.set(selector, *field.default_value).set_origin(Origin::schema_default());
      name = value.find(selector);
    }
    if (unresolved(*name)) return;
    if (!name->is_string()) {
      diagnostics_.add(join_path(path, selector), name->origin(),
                       "expected string, got " + describe(*name));
      return;
    }
    // An optional component (default name ""): the empty name selects none, with no options.
    if (name->as_string().empty() && field.default_value && field.default_value->is_string() &&
        field.default_value->as_string().empty()) {
      for (const auto& [key, option] : value.as_table()) {
        if (key != selector) {
          diagnostics_.add(join_path(path, key), option.origin(),
                           "no " + provider.kind() + " is selected (" + selector +
                               " = \"\"), so it takes no options; one of: " + join(names, ", "));
        }
      }
      return;
    }
    const Schema* schema = provider.schema_of(name->as_string());
    if (schema == nullptr) {
      std::string message = "unknown " + provider.kind() + " " + in_quotes(name->as_string()) +
                            "; registered: " + (names.empty() ? "(none)" : join(names, ", "));
      const std::string hint = did_you_mean(name->as_string(), names);
      if (!hint.empty()) message += "; " + hint;
      diagnostics_.add(join_path(path, selector), name->origin(), message);
      return;
    }
    table(value, *schema, path, selector);
  }

  DiagnosticList& diagnostics_;
  ValidateOptions options_;
};

}  // namespace

std::string type_name(Type type) {
  switch (type) {
    case Type::kBool:
      return "bool";
    case Type::kInt:
      return "int";
    case Type::kFloat:
      return "float";
    case Type::kString:
      return "string";
    case Type::kArray:
      return "array";
    case Type::kTable:
      return "table";
    case Type::kAny:
      return "any";
  }
  return "?";
}

Schema& Schema::add(Field field) {
  if (find(field.key) != nullptr)
    throw Error("schema declares key " + in_quotes(field.key) + " twice");
  if (field.component != nullptr) field.type = Type::kTable;
  fields_.push_back(std::move(field));
  return *this;
}

const Field* Schema::find(std::string_view key) const {
  for (const auto& field : fields_) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

std::vector<std::string> Schema::keys() const {
  std::vector<std::string> names;
  for (const auto& field : fields_)
    names.push_back(field.key);
  return names;
}

void validate(Node& table, const Schema& schema, const std::string& path,
              DiagnosticList& diagnostics, ValidateOptions options) {
  Validator(diagnostics, options).table(table, schema, path);
}

}  // namespace sslx::config
