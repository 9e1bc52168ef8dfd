#include "config/interpolate.h"

#include <cstdlib>
#include <map>

#include "config/config_error.h"
#include "config/toml_io.h"
#include "util/strings.h"

namespace sslx::config {
namespace {

// One piece of an interpolated string: literal text or a reference.
struct Piece {
  bool is_reference = false;
  std::string text;  // the literal, or the expression inside ${...}
};

std::vector<Piece> tokenize(const std::string& text, const std::string& key, const Origin& origin) {
  std::vector<Piece> pieces;
  std::string literal;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && text.compare(i + 1, 2, "${") == 0) {
      literal += "${";
      i += 2;
      continue;
    }
    if (text.compare(i, 2, "${") == 0) {
      const std::size_t end = text.find('}', i + 2);
      if (end == std::string::npos) {
        throw ConfigError(key, origin, "unterminated interpolation in " + in_quotes(text));
      }
      if (!literal.empty()) pieces.push_back({false, literal});
      literal.clear();
      pieces.push_back({true, trim(text.substr(i + 2, end - i - 2))});
      i = end;
      continue;
    }
    literal += text[i];
  }
  if (!literal.empty()) pieces.push_back({false, literal});
  return pieces;
}

class Interpolator {
 public:
  explicit Interpolator(Node& root) : root_(root) {}

  void run() {
    visit(root_, "");
    diagnostics_.throw_if_any();
  }

 private:
  enum class State { kInProgress, kDone };

  void visit(Node& node, const std::string& path) {
    if (node.is_table()) {
      for (auto& [key, child] : node.as_table())
        visit(child, path.empty() ? key : path + "." + key);
    } else if (node.is_array()) {
      auto& array = node.as_array();
      for (std::size_t i = 0; i < array.size(); ++i) {
        visit(array[i], path + "[" + std::to_string(i) + "]");
      }
    } else if (node.is_string() && has_interpolation(node.as_string())) {
      try {
        resolve(node, path);
      } catch (const ConfigError& error) {
        diagnostics_.add(error);
        state_[path] = State::kDone;  // reported once, not again by every key that refers to it
      }
    }
  }

  void resolve(Node& node, const std::string& path) {
    if (auto it = state_.find(path); it != state_.end()) {
      if (it->second == State::kDone) return;
      std::vector<std::string> chain(chain_.begin(), chain_.end());
      chain.push_back(path);
      throw ConfigError(path, node.origin(), "interpolation cycle: " + join(chain, " -> "));
    }
    state_[path] = State::kInProgress;
    chain_.push_back(path);
    const std::string text = node.as_string();
    const Origin origin = node.origin();
    const auto pieces = tokenize(text, path, origin);
    if (pieces.size() == 1 && pieces[0].is_reference) {
      Node value = evaluate(pieces[0].text, path, origin);
      value.set_origin(origin);
      node = std::move(value);
    } else {
      std::string result;
      for (const auto& piece : pieces) {
        result += piece.is_reference
                      ? as_text(evaluate(piece.text, path, origin), piece.text, path, origin)
                      : piece.text;
      }
      node = Node(result, origin);
    }
    chain_.pop_back();
    state_[path] = State::kDone;
  }

  Node evaluate(const std::string& expression, const std::string& path, const Origin& origin) {
    if (starts_with(expression, "env:")) return environment(expression.substr(4), path, origin);
    Node* target = root_.find_path(expression);
    if (target == nullptr) {
      std::string message = "${" + expression + "} refers to a key that is not set";
      const auto parts = split_path(expression);
      std::string parent_path = join({parts.begin(), parts.end() - 1}, ".");
      const Node* parent = parent_path.empty() ? &root_ : root_.find_path(parent_path);
      if (parent != nullptr) {
        const std::string hint = did_you_mean(parts.back(), parent->keys());
        if (!hint.empty()) message += "; " + hint;
      }
      throw ConfigError(path, origin, message);
    }
    visit_target(*target, expression);
    return *target;
  }

  // Resolves the target first, so that chains (a -> b -> c) and copied tables are complete.
  void visit_target(Node& target, const std::string& target_path) {
    if (target.is_string() && has_interpolation(target.as_string())) {
      resolve(target, target_path);
    } else if (target.is_table() || target.is_array()) {
      visit(target, target_path);
    }
  }

  static Node environment(const std::string& spec, const std::string& path, const Origin& origin) {
    const std::size_t comma = spec.find(',');
    const std::string name = trim(spec.substr(0, comma));
    if (const char* value = std::getenv(name.c_str())) return Node(std::string(value), origin);
    if (comma != std::string::npos) return Node(trim(spec.substr(comma + 1)), origin);
    throw ConfigError(
        path, origin,
        "environment variable " + name + " is not set (give a default: ${env:" + name + ",value})");
  }

  static std::string as_text(const Node& value, const std::string& expression,
                             const std::string& path, const Origin& origin) {
    if (value.is_string()) return value.as_string();
    if (value.is_table() || value.is_array()) {
      throw ConfigError(path, origin,
                        "${" + expression + "} is a " + std::string(kind_name(value.kind())) +
                            " and cannot be part of a longer string");
    }
    return to_toml_inline(value);
  }

  Node& root_;
  std::map<std::string, State> state_;
  std::vector<std::string> chain_;
  DiagnosticList diagnostics_;
};

}  // namespace

bool has_interpolation(const std::string& text) {
  return text.find("${") != std::string::npos;
}

void interpolate(Node& root) {
  Interpolator(root).run();
}

}  // namespace sslx::config
