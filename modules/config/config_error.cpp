#include "config/config_error.h"

namespace sslx::config {
namespace {

std::string render(const std::vector<Diagnostic>& diagnostics) {
  if (diagnostics.size() == 1) return diagnostics.front().str();
  std::string text = std::to_string(diagnostics.size()) + " config errors:";
  for (const auto& diagnostic : diagnostics)
    text += "\n  " + diagnostic.str();
  return text;
}

}  // namespace

std::string Diagnostic::str() const {
  std::string text;
  const std::string where = origin.str();
  if (!where.empty()) text += where + ": ";
  if (!key.empty()) text += key + ": ";
  return text + message;
}

ConfigError::ConfigError(std::vector<Diagnostic> diagnostics)
    : Error(render(diagnostics)), diagnostics_(std::move(diagnostics)) {}

ConfigError::ConfigError(std::string key, Origin origin, std::string message)
    : ConfigError(
          std::vector<Diagnostic>{{std::move(key), std::move(origin), std::move(message)}}) {}

void DiagnosticList::add(std::string key, Origin origin, std::string message) {
  items_.push_back({std::move(key), std::move(origin), std::move(message)});
}

void DiagnosticList::add(const ConfigError& error) {
  items_.insert(items_.end(), error.diagnostics().begin(), error.diagnostics().end());
}

void DiagnosticList::throw_if_any() const {
  if (!items_.empty()) throw ConfigError(items_);
}

}  // namespace sslx::config
