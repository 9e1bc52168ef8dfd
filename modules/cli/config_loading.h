// Loading a config the way every subcommand does: compose, override, load plugins, validate.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config/resolve.h"

namespace sslx::cli {

struct ConfigArguments {
  std::filesystem::path file;
  std::vector<std::string> overrides;
  std::vector<std::filesystem::path> config_dirs;
};

config::Resolved load_config(const ConfigArguments& arguments);

// The experiment's name: `experiment.name`, or the file name without extension.
std::string experiment_name(const config::Resolved& resolved, const std::filesystem::path& file);

}  // namespace sslx::cli
