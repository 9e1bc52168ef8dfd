#include "config/flatten.h"

#include "config/toml_io.h"

namespace sslx::config {
namespace {

void flatten_into(const Node& node, const std::string& path,
                  std::map<std::string, std::string>& out) {
  if (node.is_table()) {
    for (const auto& [key, child] : node.as_table())
      flatten_into(child, path.empty() ? key : path + "." + key, out);
    return;
  }
  out[path] = to_toml_inline(node);
}

}  // namespace

std::map<std::string, std::string> flatten_leaves(const Node& table) {
  std::map<std::string, std::string> out;
  flatten_into(table, "", out);
  return out;
}

}  // namespace sslx::config
