// JSONL corpora, one JSON object per line. Field names are configurable. A malformed line (bad
// JSON, missing field, wrong type, invalid UTF-8) is an error naming file and line, or, when
// `skip_malformed` is set, a counted skip reported in the SkipReport.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/document.h"
#include "data/examples.h"

namespace sslx::data {

struct JsonlFields {
  std::string text = "text";
  std::string label = "label";
  std::string prompt = "prompt";
  std::string completion = "completion";
  std::string messages = "messages";
  std::string role = "role";
  std::string content = "content";
  std::string chosen = "chosen";
  std::string rejected = "rejected";
  std::string margin = "margin";
};

struct JsonlOptions {
  JsonlFields fields;
  bool skip_malformed = false;
};

// {"text"}, or {"text","label"} when `with_label`.
std::vector<Document> read_jsonl_documents(const std::filesystem::path& file, bool with_label,
                                           const JsonlOptions& options, SkipReport& skips);
std::vector<PromptCompletion> read_jsonl_prompt_completion(const std::filesystem::path& file,
                                                           const JsonlOptions& options,
                                                           SkipReport& skips);
std::vector<Conversation> read_jsonl_conversations(const std::filesystem::path& file,
                                                   const JsonlOptions& options, SkipReport& skips);
// {"prompt","chosen","rejected"} or {"chosen","rejected"}, each with an optional numeric
// "margin".
std::vector<PreferencePair> read_jsonl_preferences(const std::filesystem::path& file,
                                                   const JsonlOptions& options, SkipReport& skips);

}  // namespace sslx::data
