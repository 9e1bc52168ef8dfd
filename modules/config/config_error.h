// Config errors are collected, not thrown one at a time: a user fixing a config sees every
// problem of it in one run.
#pragma once

#include <string>
#include <vector>

#include "config/node.h"
#include "util/error.h"

namespace sslx::config {

struct Diagnostic {
  std::string key;  // full dotted key path, or empty when the problem is not about one key
  Origin origin;    // where the offending value (or the enclosing table) came from
  std::string message;

  std::string str() const;  // "file.toml:3: model.d_model: expected int, got string"
};

class ConfigError : public Error {
 public:
  explicit ConfigError(std::vector<Diagnostic> diagnostics);
  ConfigError(std::string key, Origin origin, std::string message);
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  ExitCode exit_code() const override { return ExitCode::kConfig; }

 private:
  std::vector<Diagnostic> diagnostics_;
};

// Collects diagnostics during a pass and throws them together.
class DiagnosticList {
 public:
  void add(std::string key, Origin origin, std::string message);
  void add(const ConfigError& error);
  bool empty() const { return items_.empty(); }
  void throw_if_any() const;

 private:
  std::vector<Diagnostic> items_;
};

}  // namespace sslx::config
