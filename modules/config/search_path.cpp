#include "config/search_path.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>

#include "util/strings.h"

#if !defined(SSLX_SHIPPED_CONFIG_DIR) || !defined(SSLX_INSTALLED_CONFIG_DIR_FROM_LIBRARY)
#error \
    "SSLX_SHIPPED_CONFIG_DIR and SSLX_INSTALLED_CONFIG_DIR_FROM_LIBRARY must be defined by the build"
#endif

namespace sslx::config {
namespace fs = std::filesystem;
namespace {

// Where an installed sslx keeps its configs: relative to this library (lib/ -> share/sslx/configs),
// so a moved prefix still finds them.
fs::path installed_config_dir() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&installed_config_dir), &info) == 0 || !info.dli_fname)
    return {};
  return fs::path(info.dli_fname).parent_path() / SSLX_INSTALLED_CONFIG_DIR_FROM_LIBRARY;
}

}  // namespace

SearchPath::SearchPath(std::vector<fs::path> roots) : roots_(std::move(roots)) {}

SearchPath SearchPath::for_primary(const fs::path& primary, const std::vector<fs::path>& extra) {
  std::vector<fs::path> candidates = extra;
  if (const char* env = std::getenv("SSLX_CONFIG_PATH")) {
    for (const auto& part : split(env, ':')) {
      if (!part.empty()) candidates.emplace_back(part);
    }
  }
  const fs::path dir = primary.parent_path().empty() ? fs::path(".") : primary.parent_path();
  candidates.push_back(dir / "configs");
  candidates.push_back(dir / ".." / "configs");
  candidates.push_back(installed_config_dir());
  candidates.emplace_back(SSLX_SHIPPED_CONFIG_DIR);

  std::vector<fs::path> roots;
  std::vector<fs::path> seen;
  for (const auto& candidate : candidates) {
    std::error_code ec;
    if (!fs::is_directory(candidate, ec)) continue;
    const fs::path canonical = fs::weakly_canonical(candidate, ec);
    if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
    seen.push_back(canonical);
    roots.push_back(candidate.lexically_normal());
  }
  return SearchPath(std::move(roots));
}

std::optional<fs::path> SearchPath::find(const std::string& group,
                                         const std::string& option) const {
  for (const auto& root : roots_) {
    const fs::path candidate = root / group / (option + ".toml");
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec)) return candidate;
  }
  return std::nullopt;
}

bool SearchPath::has_group(const std::string& group) const {
  if (group.empty() || group.find('.') != std::string::npos) return false;
  for (const auto& root : roots_) {
    std::error_code ec;
    if (fs::is_directory(root / group, ec)) return true;
  }
  return false;
}

std::vector<std::string> SearchPath::options(const std::string& group) const {
  std::vector<std::string> names;
  for (const auto& root : roots_) {
    std::error_code ec;
    if (!fs::is_directory(root / group, ec)) continue;
    for (const auto& entry : fs::directory_iterator(root / group, ec)) {
      if (entry.path().extension() == ".toml") names.push_back(entry.path().stem().string());
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace sslx::config
