#include "cli/config_loading.h"

#include "cli/commands.h"

#include "config/interpolate.h"
#include "config/toml_io.h"
#include "registry/plugin_loader.h"
#include "registry/registry_index.h"

namespace sslx::cli {
namespace {

bool any_interpolated(const config::Node& plugins) {
  if (!plugins.is_array()) return false;
  for (const auto& entry : plugins.as_array()) {
    if (entry.is_string() && config::has_interpolation(entry.as_string())) return true;
  }
  return false;
}

}  // namespace

config::Resolved load_config(const ConfigArguments& arguments) {
  const config::ResolveRequest request{.file = arguments.file,
                                       .overrides = arguments.overrides,
                                       .config_dirs = arguments.config_dirs};
  return config::resolve(request, [](const config::Node& composed) {
    // Plugins register components, so they load before the config is checked against schemas.
    const config::Node* plugins = composed.find("plugins");
    if (plugins != nullptr && any_interpolated(*plugins)) {
      config::Node copy = composed;
      config::interpolate(copy);
      plugin::load_from_config(copy);
    } else {
      plugin::load_from_config(composed);
    }
    return registry::RegistryIndex::instance().root_schema();
  });
}

std::string experiment_name(const config::Resolved& resolved, const std::filesystem::path& file) {
  const config::Node* name = resolved.config.find_path("experiment.name");
  if (name != nullptr && name->is_string() && !name->as_string().empty()) return name->as_string();
  return file.stem().string();
}

void add_config_arguments(CLI::App& command, ConfigArguments& arguments,
                          const std::string& overrides_help) {
  command.add_option("file", arguments.file, "experiment or config file (.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  command.add_option("overrides", arguments.overrides, overrides_help);
  // One directory per flag (repeat the flag): a vector option would swallow the overrides.
  command
      .add_option("--config-dir", arguments.config_dirs,
                  "extra directory of config groups, searched first (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

}  // namespace sslx::cli
