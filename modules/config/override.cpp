#include "config/override.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "config/config_error.h"
#include "config/toml_io.h"
#include "util/strings.h"

namespace sslx::config {
namespace {

bool valid_key(std::string_view key) {
  if (key.empty()) return false;
  const auto parts = split_path(key);
  return std::all_of(parts.begin(), parts.end(),
                     [](const auto& part) { return is_bare_key(part); });
}

// The argument list of "name(...)" when `text` has that form.
std::optional<std::string> call_arguments(std::string_view text, std::string_view name) {
  const std::string trimmed = trim(text);
  if (!starts_with(trimmed, std::string(name) + "(") || trimmed.back() != ')') return std::nullopt;
  return trimmed.substr(name.size() + 1, trimmed.size() - name.size() - 2);
}

std::string format_number(double value) {
  // 15 significant digits hide the representation error of start + i*step (0.30000000000000004).
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.15g", value);
  std::string text = buffer;
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

std::vector<std::string> expand_range(const std::string& arguments, const Origin& origin) {
  auto parts = split_top_level(arguments);
  if (parts.size() == 1) parts.insert(parts.begin(), "0");  // range(stop), as in Python
  if (parts.size() > 3 || trim(parts.back()).empty()) {
    throw ConfigError("", origin, "range() takes (stop), (start, stop) or (start, stop, step)");
  }
  std::vector<Node> numbers;
  for (const auto& part : parts) {
    auto value = parse_toml_value(trim(part), origin);
    if (!value || !value->is_number()) {
      throw ConfigError("", origin,
                        "range() arguments must be numbers, got " + in_quotes(trim(part)));
    }
    numbers.push_back(*value);
  }
  const bool integers = std::all_of(numbers.begin(), numbers.end(),
                                    [](const Node& n) { return n.kind() == Kind::kInt; });
  const double start = numbers[0].as_float();
  const double stop = numbers[1].as_float();
  const double step = numbers.size() == 3 ? numbers[2].as_float() : 1.0;
  if (step == 0.0) throw ConfigError("", origin, "range() step must not be zero");
  // Python semantics: start, start+step, ... while strictly before stop.
  const double count_exact = (stop - start) / step;
  const auto count = static_cast<std::int64_t>(std::max(0.0, std::ceil(count_exact - 1e-9)));
  if (count > 100000)
    throw ConfigError("", origin, "range() would produce more than 100000 values");
  std::vector<std::string> values;
  for (std::int64_t i = 0; i < count; ++i) {
    const double value = start + static_cast<double>(i) * step;
    values.push_back(integers ? std::to_string(static_cast<std::int64_t>(value))
                              : format_number(value));
  }
  if (values.empty()) throw ConfigError("", origin, "range() is empty: no value before stop");
  return values;
}

}  // namespace

Node Override::value() const {
  if (auto parsed = parse_toml_value(value_text, origin())) return *parsed;
  return Node(value_text, origin());
}

Override parse_override(const std::string& text) {
  Override result;
  result.text = text;
  std::string_view rest = text;
  const Origin origin = Origin::command_line(text);
  if (starts_with(rest, "~")) {
    result.op = Override::Op::kDelete;
    rest.remove_prefix(1);
  } else if (starts_with(rest, "++")) {
    result.op = Override::Op::kForceSet;
    rest.remove_prefix(2);
  } else if (starts_with(rest, "+")) {
    result.op = Override::Op::kAdd;
    rest.remove_prefix(1);
  }
  const std::size_t equals = rest.find('=');
  if (equals == std::string_view::npos && result.op != Override::Op::kDelete) {
    throw ConfigError("", origin, "an override needs the form key=value (or ~key to delete)");
  }
  result.key = std::string(rest.substr(0, equals));
  if (equals != std::string_view::npos) result.value_text = std::string(rest.substr(equals + 1));
  if (!valid_key(result.key)) {
    throw ConfigError("", origin,
                      "invalid key " + in_quotes(result.key) +
                          ": use dotted names of letters, digits, '_' and '-' (a.b.c)");
  }
  return result;
}

std::vector<std::string> split_top_level(std::string_view text) {
  std::vector<std::string> parts;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && quote == '"' && i + 1 < text.size()) {
        current += c;
        current += text[++i];
        continue;
      }
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{' || c == '(') {
      ++depth;
    } else if (c == ']' || c == '}' || c == ')') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(current);
      current.clear();
      continue;
    }
    current += c;
  }
  parts.push_back(current);
  return parts;
}

std::optional<std::vector<std::string>> parse_sweep_values(std::string_view text,
                                                           const Origin& origin) {
  if (auto arguments = call_arguments(text, "range")) return expand_range(*arguments, origin);
  std::vector<std::string> parts;
  if (auto arguments = call_arguments(text, "choice")) {
    parts = split_top_level(*arguments);
  } else {
    parts = split_top_level(text);
    if (parts.size() == 1) return std::nullopt;
  }
  std::vector<std::string> values;
  for (const auto& part : parts) {
    const std::string value = trim(part);
    if (value.empty()) throw ConfigError("", origin, "empty value in sweep " + in_quotes(text));
    values.push_back(value);
  }
  return values;
}

}  // namespace sslx::config
