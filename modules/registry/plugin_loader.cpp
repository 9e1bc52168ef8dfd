#include "registry/plugin_loader.h"

#include <boost/dll/shared_library.hpp>
#include <cstring>

#include "config/config_error.h"
#include "registry/plugin.h"
#include "registry/registry_index.h"
#include "util/error.h"

namespace sslx::plugin {
namespace fs = std::filesystem;
namespace {

struct Loaded {
  fs::path path;
  boost::dll::shared_library library;
};

std::vector<Loaded>& libraries() {
  // Intentionally never destroyed: see the header.
  static auto* list = new std::vector<Loaded>();
  return *list;
}

// The directory relative plugin paths are resolved against: that of the listing file.
fs::path base_directory(const config::Origin& origin) {
  const fs::path source(origin.source);
  if (origin.line > 0 && fs::is_regular_file(source)) return source.parent_path();
  return fs::current_path();
}

}  // namespace

std::string describe(const Stamp& stamp) {
  return "sslx " + std::string(stamp.sslx_version) + " (plugin ABI " +
         std::to_string(stamp.abi_revision) + ", GCC " + std::to_string(stamp.compiler_major) +
         ", C++11 ABI " + std::to_string(stamp.cxx11_abi) + ", LibTorch " + stamp.torch_version +
         ")";
}

bool same_abi(const Stamp& a, const Stamp& b) {
  return std::strcmp(a.sslx_version, b.sslx_version) == 0 && a.abi_revision == b.abi_revision &&
         a.compiler_major == b.compiler_major && a.cxx11_abi == b.cxx11_abi &&
         std::strcmp(a.torch_version, b.torch_version) == 0;
}

void load(const fs::path& library_path) {
  std::error_code ec;
  if (!fs::is_regular_file(library_path, ec)) {
    throw PluginError("plugin " + library_path.string() + " does not exist",
                      "build it first, or fix the path in `plugins`");
  }
  const fs::path canonical = fs::canonical(library_path);
  for (const auto& loaded : libraries()) {
    if (loaded.path == canonical) return;
  }
  boost::dll::shared_library library;
  std::error_code load_error;  // std with BOOST_DLL_USE_STD_FS
  library.load(canonical, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
               load_error);
  if (load_error) {
    throw PluginError("cannot load plugin " + canonical.string() + ": " + load_error.message());
  }
  if (!library.has("sslx_plugin_stamp") || !library.has("sslx_plugin_register")) {
    throw PluginError(canonical.string() + " is not an sslx plugin",
                      "a plugin defines SSLX_PLUGIN(register_function), see docs/plugins.md");
  }
  const Stamp& theirs = library.get<const Stamp>("sslx_plugin_stamp");
  const Stamp ours = stamp_of_this_build();
  if (!same_abi(theirs, ours)) {
    throw PluginError("plugin " + canonical.string() + " was built for " + describe(theirs) +
                          "; this is " + describe(ours),
                      "rebuild the plugin against this sslx");
  }
  auto& index = registry::RegistryIndex::instance();
  index.set_current_provider(canonical.string());
  try {
    library.get<void()>("sslx_plugin_register")();
  } catch (...) {
    index.set_current_provider("built-in");
    throw;
  }
  index.set_current_provider("built-in");
  libraries().push_back(Loaded{canonical, std::move(library)});
}

void load_from_config(const config::Node& config) {
  const config::Node* plugins = config.find("plugins");
  if (plugins == nullptr) return;
  if (!plugins->is_array()) {
    throw config::ConfigError("plugins", plugins->origin(),
                              "expected an array of plugin library paths");
  }
  for (const auto& entry : plugins->as_array()) {
    if (!entry.is_string()) {
      throw config::ConfigError("plugins", entry.origin(), "expected a path string");
    }
    fs::path path(entry.as_string());
    if (path.is_relative()) path = base_directory(entry.origin()) / path;
    try {
      load(path);
    } catch (const PluginError& error) {
      throw PluginError(entry.origin().str() + ": " + error.what(), error.hint());
    }
  }
}

std::vector<fs::path> loaded() {
  std::vector<fs::path> paths;
  for (const auto& library : libraries())
    paths.push_back(library.path);
  return paths;
}

}  // namespace sslx::plugin
