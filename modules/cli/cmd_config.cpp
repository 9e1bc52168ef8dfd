// `sslx config show FILE [overrides]`: the resolved config, optionally with its provenance.
#include <iostream>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "config/compose.h"
#include "config/toml_io.h"
#include "util/strings.h"

namespace sslx::cli {

void add_config_command(CLI::App& app) {
  auto* config = app.add_subcommand("config", "Inspect configs");
  config->require_subcommand(1);
  auto* show = config->add_subcommand(
      "show",
      "Print the resolved config of FILE with overrides applied (defaults composed, "
      "schema defaults filled, interpolations resolved)");
  auto arguments = std::make_shared<ConfigArguments>();
  auto defaults_tree = std::make_shared<bool>(false);
  add_config_arguments(*show, *arguments);
  show->add_flag("--defaults-tree", *defaults_tree,
                 "show the defaults tree and, after each value, the file:line it came from");
  show->callback([arguments, defaults_tree] {
    const config::Resolved resolved = load_config(*arguments);
    if (*defaults_tree) {
      std::cout << "# defaults tree (later entries override earlier ones)\n";
      for (const auto& line : split(config::render_defaults_tree(resolved.defaults_tree), '\n')) {
        if (!line.empty()) std::cout << "#   " << line << '\n';
      }
      if (!resolved.overrides.empty()) {
        std::cout << "# overrides: " << join(resolved.overrides, " ") << '\n';
      }
      std::cout << '\n';
    }
    std::cout << config::to_toml(resolved.config, {.annotate_origins = *defaults_tree});
  });
}

}  // namespace sslx::cli
