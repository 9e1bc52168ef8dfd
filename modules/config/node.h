// The configuration tree: TOML's value types, each value remembering where it came from.
//
// Every value carries an Origin (file:line, "command line", "schema default", ...) so that errors
// and `sslx config show --defaults-tree` can name the source of every key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace sslx::config {

struct Origin {
  std::string source;  // file path, or a description such as "command line"
  int line = 0;        // 1-based; 0 when the source has no lines
  int column = 0;

  std::string str() const;  // "file.toml:3", "file.toml", "command line"
  static Origin command_line(std::string_view override_text);
  static Origin schema_default();
};

enum class Kind { kBool, kInt, kFloat, kString, kArray, kTable };
std::string_view kind_name(Kind kind);  // "bool", "int", "float", "string", "array", "table"

class Node;
using Array = std::vector<Node>;
// Insertion-ordered: configs print in the order they were written.
using Table = std::vector<std::pair<std::string, Node>>;

class Node {
 public:
  Node() : value_(Table{}) {}
  Node(bool v, Origin o = {}) : value_(v), origin_(std::move(o)) {}
  Node(std::int64_t v, Origin o = {}) : value_(v), origin_(std::move(o)) {}
  Node(int v, Origin o = {}) : value_(static_cast<std::int64_t>(v)), origin_(std::move(o)) {}
  Node(double v, Origin o = {}) : value_(v), origin_(std::move(o)) {}
  Node(std::string v, Origin o = {}) : value_(std::move(v)), origin_(std::move(o)) {}
  Node(const char* v, Origin o = {}) : value_(std::string(v)), origin_(std::move(o)) {}
  Node(Array v, Origin o = {}) : value_(std::move(v)), origin_(std::move(o)) {}
  Node(Table v, Origin o = {}) : value_(std::move(v)), origin_(std::move(o)) {}

  Kind kind() const { return static_cast<Kind>(value_.index()); }
  bool is_table() const { return kind() == Kind::kTable; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_number() const { return kind() == Kind::kInt || kind() == Kind::kFloat; }

  const Origin& origin() const { return origin_; }
  void set_origin(Origin origin) { origin_ = std::move(origin); }
  // Sets the origin of this node and of everything below it.
  void set_origin_recursive(const Origin& origin);

  bool as_bool() const { return std::get<bool>(value_); }
  std::int64_t as_int() const { return std::get<std::int64_t>(value_); }
  double as_float() const;  // accepts int as well
  const std::string& as_string() const { return std::get<std::string>(value_); }
  const Array& as_array() const { return std::get<Array>(value_); }
  Array& as_array() { return std::get<Array>(value_); }
  const Table& as_table() const { return std::get<Table>(value_); }
  Table& as_table() { return std::get<Table>(value_); }

  // Table access by one key (no dots). find() returns nullptr when absent or not a table.
  const Node* find(std::string_view key) const;
  Node* find(std::string_view key);
  Node& set(std::string_view key, Node value);  // replaces or appends
  bool erase(std::string_view key);
  std::vector<std::string> keys() const;

  // Access by dotted path "a.b.c".
  const Node* find_path(std::string_view path) const;
  Node* find_path(std::string_view path);
  // Creates intermediate tables; an intermediate that is not a table is an error (returns
  // nullopt with the offending prefix in `conflict`).
  bool set_path(std::string_view path, Node value, std::string* conflict = nullptr);
  bool erase_path(std::string_view path);

  // Typed getters for validated configs; throw sslx::Error naming the path when absent or mistyped.
  std::int64_t get_int(std::string_view path) const;
  double get_float(std::string_view path) const;
  bool get_bool(std::string_view path) const;
  const std::string& get_string(std::string_view path) const;
  const Node& at_path(std::string_view path) const;

  bool operator==(const Node& other) const { return value_ == other.value_; }

 private:
  std::variant<bool, std::int64_t, double, std::string, Array, Table> value_;
  Origin origin_;
};

// Recursively merges `overlay` into `base`: tables merge key by key, everything else (arrays
// included) is replaced. This is the composition rule of defaults lists and overrides.
void merge_into(Node& base, const Node& overlay);

// Splits "a.b.c" into {"a","b","c"}; an empty component is an error reported by the caller.
std::vector<std::string> split_path(std::string_view path);

}  // namespace sslx::config
