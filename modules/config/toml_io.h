// Reading TOML into config nodes (with file:line origins) and writing nodes back as TOML.
// The only place that includes toml++.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "config/node.h"

namespace sslx::config {

// Parses a TOML file; syntax errors become a ConfigError with file:line:column.
Node load_toml_file(const std::filesystem::path& path);
// Parses TOML text; `source_name` is used in origins and errors.
Node parse_toml(std::string_view text, const std::string& source_name);
// Parses one TOML value ("3", "1e-3", "[1, 2]", "{a = 1}", "\"x\""); nullopt if it is not one.
std::optional<Node> parse_toml_value(std::string_view text, const Origin& origin);

// A key that TOML allows unquoted: letters, digits, '_' and '-'.
bool is_bare_key(std::string_view key);

struct EmitOptions {
  bool annotate_origins = false;  // append "# file:line" to each value line
};
// Writes a table as TOML text; the result parses back to an equal tree.
std::string to_toml(const Node& table, EmitOptions options = {});
// One value in TOML inline syntax: 3, 0.001, "text", [1, 2], {a = 1}.
std::string to_toml_inline(const Node& value);

}  // namespace sslx::config
