// What corpus readers produce: documents with their source position, so that every problem
// found later can still name the file and line it came from.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sslx::data {

struct Document {
  std::string text;
  std::string source;                // file path
  std::int64_t line = 0;             // 1-based line where the document starts
  std::optional<std::string> label;  // classification label, when the source has one
};

// Problems that were skipped rather than fatal, counted and reported (never silently dropped).
struct SkipReport {
  std::int64_t skipped = 0;
  std::vector<std::string> examples;  // the first few "file:line: reason" messages

  void add(const std::string& where, const std::string& reason);
  std::string summary() const;  // "" when nothing was skipped
};

}  // namespace sslx::data
