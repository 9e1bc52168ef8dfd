// Plain-text corpora: files (or glob patterns) split into documents by a separator.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/document.h"

namespace sslx::data {

enum class Separator {
  kLine,        // every non-empty line is a document
  kBlankLine,   // documents are separated by one or more empty lines
  kPercentLine  // a line holding only "%" ends a document (fortune files)
};
Separator parse_separator(const std::string& name);  // "line", "blank_line", "percent_line"

// Expands glob patterns (sorted, for a deterministic order); a pattern matching nothing and a
// plain path that does not exist are errors naming them.
std::vector<std::filesystem::path> expand_paths(const std::vector<std::string>& patterns);

// Reads documents; invalid UTF-8 is an error naming file and line. Documents keep inner newlines;
// surrounding whitespace is trimmed and empty documents are dropped (they hold no text).
std::vector<Document> read_text_documents(const std::filesystem::path& file, Separator separator,
                                          const std::string& label = {});

}  // namespace sslx::data
