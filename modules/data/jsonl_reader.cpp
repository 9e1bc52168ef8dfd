#include "data/jsonl_reader.h"

#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "data/utf8.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::data {
namespace {

using Json = nlohmann::json;

// A problem with one line; fatal or skipped depending on the options.
struct LineError {
  std::string reason;
};

const Json& field(const Json& object, const std::string& name) {
  const auto it = object.find(name);
  if (it == object.end()) throw LineError{"missing field " + in_quotes(name)};
  return *it;
}

std::string string_field(const Json& object, const std::string& name) {
  const Json& value = field(object, name);
  if (!value.is_string()) {
    throw LineError{"field " + in_quotes(name) + " should be a string, not " +
                    std::string(value.type_name())};
  }
  return value.get<std::string>();
}

// Calls `parse(object, line_number)` for each non-empty line.
void for_each_object(const std::filesystem::path& file, const JsonlOptions& options,
                     SkipReport& skips,
                     const std::function<void(const Json&, std::int64_t)>& parse) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw IoError("cannot open " + file.string());
  std::string line;
  std::int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (trim(line).empty()) continue;
    const std::string where = file.string() + ":" + std::to_string(number);
    try {
      if (const auto bad = find_invalid_utf8(line)) {
        throw LineError{"invalid UTF-8 at column " + std::to_string(*bad + 1)};
      }
      Json object;
      try {
        object = Json::parse(line);
      } catch (const Json::parse_error& error) {
        throw LineError{std::string("malformed JSON: ") + error.what()};
      }
      if (!object.is_object()) throw LineError{"expected a JSON object"};
      parse(object, number);
    } catch (const LineError& error) {
      if (!options.skip_malformed) {
        throw IoError(where + ": " + error.reason,
                      "fix the line, or set skip_malformed = true to count and skip such lines");
      }
      skips.add(where, error.reason);
    }
  }
}

}  // namespace

std::vector<Document> read_jsonl_documents(const std::filesystem::path& file, bool with_label,
                                           const JsonlOptions& options, SkipReport& skips) {
  std::vector<Document> documents;
  for_each_object(file, options, skips, [&](const Json& object, std::int64_t line) {
    Document document{
        .text = string_field(object, options.fields.text), .source = file.string(), .line = line};
    if (with_label) {
      const Json& label = field(object, options.fields.label);
      if (label.is_string()) {
        document.label = label.get<std::string>();
      } else if (label.is_number_integer()) {
        document.label = std::to_string(label.get<std::int64_t>());
      } else {
        throw LineError{"field " + in_quotes(options.fields.label) +
                        " should be a string or integer"};
      }
    }
    documents.push_back(std::move(document));
  });
  return documents;
}

std::vector<PromptCompletion> read_jsonl_prompt_completion(const std::filesystem::path& file,
                                                           const JsonlOptions& options,
                                                           SkipReport& skips) {
  std::vector<PromptCompletion> examples;
  for_each_object(file, options, skips, [&](const Json& object, std::int64_t line) {
    examples.push_back({string_field(object, options.fields.prompt),
                        string_field(object, options.fields.completion), file.string(), line});
  });
  return examples;
}

std::vector<Conversation> read_jsonl_conversations(const std::filesystem::path& file,
                                                   const JsonlOptions& options, SkipReport& skips) {
  std::vector<Conversation> conversations;
  for_each_object(file, options, skips, [&](const Json& object, std::int64_t line) {
    const Json& messages = field(object, options.fields.messages);
    if (!messages.is_array() || messages.empty()) {
      throw LineError{"field " + in_quotes(options.fields.messages) +
                      " should be a non-empty array"};
    }
    Conversation conversation{.source = file.string(), .line = line};
    for (const Json& message : messages) {
      if (!message.is_object()) throw LineError{"each message should be an object"};
      Message parsed{string_field(message, options.fields.role),
                     string_field(message, options.fields.content)};
      if (parsed.role != "system" && parsed.role != "user" && parsed.role != "assistant") {
        throw LineError{"unknown role " + in_quotes(parsed.role) + " (system, user or assistant)"};
      }
      conversation.messages.push_back(std::move(parsed));
    }
    conversations.push_back(std::move(conversation));
  });
  return conversations;
}

std::vector<PreferencePair> read_jsonl_preferences(const std::filesystem::path& file,
                                                   const JsonlOptions& options, SkipReport& skips) {
  std::vector<PreferencePair> pairs;
  for_each_object(file, options, skips, [&](const Json& object, std::int64_t line) {
    PreferencePair pair{.chosen = string_field(object, options.fields.chosen),
                        .rejected = string_field(object, options.fields.rejected),
                        .source = file.string(),
                        .line = line};
    if (object.contains(options.fields.prompt))
      pair.prompt = string_field(object, options.fields.prompt);
    if (object.contains(options.fields.margin)) {
      const Json& margin = object.at(options.fields.margin);
      if (!margin.is_number()) {
        throw LineError{"field " + in_quotes(options.fields.margin) + " should be a number"};
      }
      pair.margin = margin.get<double>();
    }
    pairs.push_back(std::move(pair));
  });
  return pairs;
}

}  // namespace sslx::data
