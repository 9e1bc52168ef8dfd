#include "config/check.h"

#include "config/schema.h"

namespace sslx::config {

void CheckContext::error(std::string_view key, const std::string& message) const {
  const Node* value = options_.find(key);
  const std::string full = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  diagnostics_.add(full, value != nullptr ? value->origin() : options_.origin(), message);
}

void CheckContext::error_at(const std::string& full_path, const std::string& message) const {
  const Node* value = root_.find_path(full_path);
  diagnostics_.add(full_path, value != nullptr ? value->origin() : Origin{}, message);
}

namespace {

void check_table(const CheckContext& context, const Schema& schema) {
  for (const auto& field : schema.fields()) {
    const Node* value = context.options().find(field.key);
    if (value == nullptr || !value->is_table()) continue;
    const std::string path = context.path().empty() ? field.key : context.path() + "." + field.key;
    if (field.component != nullptr) {
      const Node* name = value->find(field.component->selector_key());
      if (name == nullptr || !name->is_string() || name->as_string().empty()) continue;
      const Schema* nested = field.component->schema_of(name->as_string());
      if (nested == nullptr) continue;
      const CheckContext inner = context.nested(*value, path);
      field.component->check(name->as_string(), inner);
      check_table(inner, *nested);
    } else if (field.nested) {
      check_table(context.nested(*value, path), *field.nested);
    }
  }
}

}  // namespace

void check_components(const Node& config, const Schema& schema, const UpstreamRuns& upstream,
                      DiagnosticList& diagnostics) {
  check_table(CheckContext(config, config, "", upstream, diagnostics), schema);
}

}  // namespace sslx::config
