// Loading plugin libraries with Boost.DLL. Loaded libraries stay loaded until the process ends,
// so objects created by a plugin can never outlive the plugin's code.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/node.h"

namespace sslx::plugin {

// Loads one plugin: checks its stamp, then runs its registration. Loading the same file twice is
// a no-op. Throws PluginError with the path and the reason.
void load(const std::filesystem::path& library);

// Loads the plugins listed in the config's `plugins` array. Relative paths are taken relative to
// the directory of the file that listed them (the current directory for command-line values).
void load_from_config(const config::Node& config);

std::vector<std::filesystem::path> loaded();

}  // namespace sslx::plugin
