// Command-line overrides, Hydra syntax:
//   a.b=v      set a value (creates the key; the schema rejects keys it does not know)
//   +a.b=v     add a key that is not set yet (an error if it is)
//   ++a.b=v    set whether or not the key exists
//   ~a.b       delete a key (an error if it is not set)
//   group=opt  choose another option of a config group, +group=opt adds one, ~group removes it
// Values are TOML (3, 1e-3, true, [1, 2], {a = 1}, "x"); anything else is taken as a string.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/node.h"

namespace sslx::config {

struct Override {
  enum class Op { kSet, kAdd, kForceSet, kDelete };
  Op op = Op::kSet;
  std::string key;         // dotted path, or a group name
  std::string value_text;  // raw right-hand side; empty for a delete
  std::string text;        // the override as the user wrote it

  Origin origin() const { return Origin::command_line(text); }
  Node value() const;  // value_text parsed as TOML, or the raw text as a string
};

// Throws ConfigError on malformed syntax (missing '=', empty key, bad characters).
Override parse_override(const std::string& text);

// Splits `text` on commas that are not inside brackets, braces, parentheses or quotes.
std::vector<std::string> split_top_level(std::string_view text);

// Sweep values of a right-hand side: "a,b,c", "range([start,] stop[, step])", "choice(a, b)".
// Returns the value texts of each point, or nullopt when `text` is a single value.
std::optional<std::vector<std::string>> parse_sweep_values(std::string_view text,
                                                           const Origin& origin);

}  // namespace sslx::config
