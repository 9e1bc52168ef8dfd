#include "config/toml_io.h"

#include <toml++/toml.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

#include "config/config_error.h"
#include "util/fs.h"

namespace sslx::config {
namespace {

Origin origin_of(const toml::node& node, const std::string& source_name) {
  const auto& begin = node.source().begin;
  return Origin{source_name, static_cast<int>(begin.line), static_cast<int>(begin.column)};
}

Node convert(const toml::node& node, const std::string& source_name, const std::string& key_path) {
  const Origin origin = origin_of(node, source_name);
  switch (node.type()) {
    case toml::node_type::table: {
      Table table;
      for (const auto& [key, child] : *node.as_table()) {
        const std::string child_path =
            key_path.empty() ? std::string(key.str()) : key_path + "." + std::string(key.str());
        table.emplace_back(std::string(key.str()), convert(child, source_name, child_path));
      }
      // toml++ keeps keys sorted; restore the order in which they were written.
      std::stable_sort(table.begin(), table.end(), [](const auto& a, const auto& b) {
        const Origin& x = a.second.origin();
        const Origin& y = b.second.origin();
        return std::tie(x.line, x.column) < std::tie(y.line, y.column);
      });
      return Node(std::move(table), origin);
    }
    case toml::node_type::array: {
      Array array;
      for (const auto& child : *node.as_array()) {
        array.push_back(convert(child, source_name, key_path));
      }
      return Node(std::move(array), origin);
    }
    case toml::node_type::string:
      return Node(node.as_string()->get(), origin);
    case toml::node_type::integer:
      return Node(node.as_integer()->get(), origin);
    case toml::node_type::floating_point:
      return Node(node.as_floating_point()->get(), origin);
    case toml::node_type::boolean:
      return Node(node.as_boolean()->get(), origin);
    default:
      throw ConfigError(key_path, origin,
                        "dates and times are not supported in sslx configs; use a string");
  }
}

Node parse_with_name(std::string_view text, const std::string& source_name) {
  try {
    const toml::table table = toml::parse(text, source_name);
    return convert(table, source_name, "");
  } catch (const toml::parse_error& error) {
    const auto& begin = error.source().begin;
    throw ConfigError("", Origin{source_name, static_cast<int>(begin.line)},
                      "TOML syntax error at column " + std::to_string(begin.column) + ": " +
                          std::string(error.description()));
  }
}

std::string quote_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string emit_key(std::string_view key) {
  return is_bare_key(key) ? std::string(key) : quote_string(key);
}

std::string emit_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[400];
  // Shortest digits that read back to the same double, written like Python's repr: plain
  // decimals for moderate magnitudes (0.0001, 3e-05 and 1e+16 beyond them).
  const double magnitude = std::fabs(value);
  const bool plain = magnitude == 0.0 || (magnitude >= 1e-4 && magnitude < 1e16);
  const auto result =
      std::to_chars(buffer, buffer + sizeof buffer, value,
                    plain ? std::chars_format::fixed : std::chars_format::scientific);
  std::string text(buffer, result.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void emit_table_body(const Node& table, const std::string& path, const EmitOptions& options,
                     std::string& out) {
  const auto annotate = [&](const Node& value) {
    if (options.annotate_origins && !value.origin().source.empty()) {
      out += "  # " + value.origin().str();
    }
  };
  for (const auto& [key, value] : table.as_table()) {
    if (value.is_table()) continue;
    out += emit_key(key) + " = " + to_toml_inline(value);
    annotate(value);
    out += "\n";
  }
  for (const auto& [key, value] : table.as_table()) {
    if (!value.is_table()) continue;
    const std::string child_path = path.empty() ? emit_key(key) : path + "." + emit_key(key);
    out += "\n[" + child_path + "]";
    annotate(value);
    out += "\n";
    emit_table_body(value, child_path, options, out);
  }
}

}  // namespace

Node load_toml_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    throw ConfigError("", Origin{path.string()}, "config file does not exist");
  }
  return parse_with_name(fs::read_text(path), path.string());
}

Node parse_toml(std::string_view text, const std::string& source_name) {
  return parse_with_name(text, source_name);
}

bool is_bare_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<Node> parse_toml_value(std::string_view text, const Origin& origin) {
  const std::string document = "value = " + std::string(text) + "\n";
  try {
    const toml::table table = toml::parse(document);
    if (table.size() != 1) return std::nullopt;
    Node node = convert(*table.get("value"), origin.source, "");
    node.set_origin_recursive(origin);
    return node;
  } catch (const toml::parse_error&) {
    return std::nullopt;
  } catch (const ConfigError&) {
    return std::nullopt;  // a date or time: the caller treats the text as a plain string
  }
}

std::string to_toml_inline(const Node& value) {
  switch (value.kind()) {
    case Kind::kBool:
      return value.as_bool() ? "true" : "false";
    case Kind::kInt:
      return std::to_string(value.as_int());
    case Kind::kFloat:
      return emit_float(value.as_float());
    case Kind::kString:
      return quote_string(value.as_string());
    case Kind::kArray: {
      std::string out = "[";
      const auto& array = value.as_array();
      for (std::size_t i = 0; i < array.size(); ++i) {
        out += (i ? ", " : "") + to_toml_inline(array[i]);
      }
      return out + "]";
    }
    case Kind::kTable: {
      std::string out = "{";
      const auto& table = value.as_table();
      for (std::size_t i = 0; i < table.size(); ++i) {
        out +=
            (i ? ", " : " ") + emit_key(table[i].first) + " = " + to_toml_inline(table[i].second);
      }
      return out + (table.empty() ? "}" : " }");
    }
  }
  return {};
}

std::string to_toml(const Node& table, EmitOptions options) {
  std::string out;
  emit_table_body(table, "", options, out);
  if (!out.empty() && out.front() == '\n') out.erase(0, 1);
  return out;
}

}  // namespace sslx::config
