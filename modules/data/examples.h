// Structured examples read from JSONL: what SFT, reward modelling and classification consume.
#pragma once

#include <string>
#include <vector>

namespace sslx::data {

struct PromptCompletion {
  std::string prompt;
  std::string completion;
  std::string source;
  std::int64_t line = 0;
};

struct Message {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

struct Conversation {
  std::vector<Message> messages;
  std::string source;
  std::int64_t line = 0;
};

struct PreferencePair {
  std::string prompt;  // empty when the data has no separate prompt
  std::string chosen;
  std::string rejected;
  double margin = 0;  // how much chosen should beat rejected by; 0 when the data has none
  std::string source;
  std::int64_t line = 0;
};

}  // namespace sslx::data
