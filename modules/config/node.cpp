#include "config/node.h"

#include "util/error.h"
#include "util/strings.h"

namespace sslx::config {

std::string Origin::str() const {
  if (line <= 0) return source;
  // Lines only: a value's column points at the value, not its key, which reads oddly.
  return source + ":" + std::to_string(line);
}

Origin Origin::command_line(std::string_view override_text) {
  return Origin{"command line (" + std::string(override_text) + ")"};
}

Origin Origin::schema_default() {
  return Origin{"schema default"};
}

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "array";
    case Kind::kTable:
      return "table";
  }
  return "?";
}

void Node::set_origin_recursive(const Origin& origin) {
  origin_ = origin;
  if (is_table()) {
    for (auto& [key, child] : as_table())
      child.set_origin_recursive(origin);
  } else if (is_array()) {
    for (auto& child : as_array())
      child.set_origin_recursive(origin);
  }
}

double Node::as_float() const {
  if (kind() == Kind::kInt) return static_cast<double>(as_int());
  return std::get<double>(value_);
}

const Node* Node::find(std::string_view key) const {
  if (!is_table()) return nullptr;
  for (const auto& [name, child] : as_table()) {
    if (name == key) return &child;
  }
  return nullptr;
}

Node* Node::find(std::string_view key) {
  return const_cast<Node*>(static_cast<const Node*>(this)->find(key));
}

Node& Node::set(std::string_view key, Node value) {
  if (Node* existing = find(key)) {
    *existing = std::move(value);
    return *existing;
  }
  auto& table = as_table();
  table.emplace_back(std::string(key), std::move(value));
  return table.back().second;
}

bool Node::erase(std::string_view key) {
  if (!is_table()) return false;
  auto& table = as_table();
  for (auto it = table.begin(); it != table.end(); ++it) {
    if (it->first == key) {
      table.erase(it);
      return true;
    }
  }
  return false;
}

std::vector<std::string> Node::keys() const {
  std::vector<std::string> names;
  if (!is_table()) return names;
  for (const auto& [name, child] : as_table())
    names.push_back(name);
  return names;
}

std::vector<std::string> split_path(std::string_view path) {
  return split(path, '.');
}

const Node* Node::find_path(std::string_view path) const {
  const Node* node = this;
  for (const auto& part : split_path(path)) {
    node = node->find(part);
    if (node == nullptr) return nullptr;
  }
  return node;
}

Node* Node::find_path(std::string_view path) {
  return const_cast<Node*>(static_cast<const Node*>(this)->find_path(path));
}

bool Node::set_path(std::string_view path, Node value, std::string* conflict) {
  const auto parts = split_path(path);
  Node* node = this;
  std::string prefix;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    prefix += (i ? "." : "") + parts[i];
    Node* child = node->find(parts[i]);
    if (child == nullptr) child = &node->set(parts[i], Node(Table{}, value.origin()));
    if (!child->is_table()) {
      if (conflict) *conflict = prefix;
      return false;
    }
    node = child;
  }
  node->set(parts.back(), std::move(value));
  return true;
}

bool Node::erase_path(std::string_view path) {
  const auto parts = split_path(path);
  Node* node = this;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    node = node->find(parts[i]);
    if (node == nullptr) return false;
  }
  return node->erase(parts.back());
}

const Node& Node::at_path(std::string_view path) const {
  const Node* node = find_path(path);
  if (node == nullptr) throw Error("config key " + in_quotes(path) + " is not set");
  return *node;
}

namespace {
void expect_kind(const Node& node, std::string_view path, Kind kind) {
  const bool ok = node.kind() == kind || (kind == Kind::kFloat && node.kind() == Kind::kInt);
  if (!ok) {
    throw Error("config key " + in_quotes(path) + " should be " + std::string(kind_name(kind)) +
                ", not " + std::string(kind_name(node.kind())) + " (" + node.origin().str() + ")");
  }
}
}  // namespace

std::int64_t Node::get_int(std::string_view path) const {
  const Node& node = at_path(path);
  expect_kind(node, path, Kind::kInt);
  return node.as_int();
}

double Node::get_float(std::string_view path) const {
  const Node& node = at_path(path);
  expect_kind(node, path, Kind::kFloat);
  return node.as_float();
}

bool Node::get_bool(std::string_view path) const {
  const Node& node = at_path(path);
  expect_kind(node, path, Kind::kBool);
  return node.as_bool();
}

const std::string& Node::get_string(std::string_view path) const {
  const Node& node = at_path(path);
  expect_kind(node, path, Kind::kString);
  return node.as_string();
}

void merge_into(Node& base, const Node& overlay) {
  if (!base.is_table() || !overlay.is_table()) {
    base = overlay;
    return;
  }
  for (const auto& [key, value] : overlay.as_table()) {
    Node* existing = base.find(key);
    if (existing != nullptr && existing->is_table() && value.is_table()) {
      merge_into(*existing, value);
    } else {
      base.set(key, value);
    }
  }
}

}  // namespace sslx::config
