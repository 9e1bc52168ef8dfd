// Where config groups live: configs/<group>/<option>.toml under one of several roots.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace sslx::config {

class SearchPath {
 public:
  SearchPath() = default;
  explicit SearchPath(std::vector<std::filesystem::path> roots);

  // Roots, in priority order: `extra_roots` (--config-dir), $SSLX_CONFIG_PATH (colon-separated),
  // <dir of primary>/configs, <dir of primary>/../configs, then the configs/ shipped with sslx.
  static SearchPath for_primary(const std::filesystem::path& primary,
                                const std::vector<std::filesystem::path>& extra_roots);

  const std::vector<std::filesystem::path>& roots() const { return roots_; }
  // The first root holding <group>/<option>.toml.
  std::optional<std::filesystem::path> find(const std::string& group,
                                            const std::string& option) const;
  bool has_group(const std::string& group) const;
  // Every option of a group across all roots, sorted, without duplicates.
  std::vector<std::string> options(const std::string& group) const;

 private:
  std::vector<std::filesystem::path> roots_;
};

}  // namespace sslx::config
