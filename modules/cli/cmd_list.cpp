// `sslx list [KIND]`: every registered component with its options.
#include <iostream>

#include "cli/commands.h"
#include "config/toml_io.h"
#include "registry/plugin_loader.h"
#include "registry/registry.h"
#include "registry/registry_index.h"
#include "util/console.h"

namespace sslx::cli {
namespace {

void print_registry(const registry::RegistryBase& registry, bool colour) {
  std::cout << console::styled(registry.kind(), console::Style::kBold, colour) << ": "
            << registry.doc();
  if (!registry.section().empty()) {
    std::cout << "  [" << registry.section() << "] " << registry.selector_key() << " = ...";
    if (registry.default_name()) std::cout << " (default " << *registry.default_name() << ")";
  }
  std::cout << '\n';
  for (const auto& entry : registry.entries()) {
    std::cout << "  " << console::styled(entry.name, console::Style::kCyan, colour) << "  "
              << entry.doc;
    if (entry.provided_by != "built-in") std::cout << "  (plugin " << entry.provided_by << ")";
    std::cout << '\n';
    for (const auto& field : entry.schema.fields()) {
      std::cout << "      " << field.key << ": " << config::type_name(field.type) << " = "
                << (field.default_value ? config::to_toml_inline(*field.default_value)
                                        : "(mandatory)")
                << "  " << console::styled(field.doc, console::Style::kDim, colour) << '\n';
    }
  }
}

}  // namespace

void add_list_command(CLI::App& app) {
  auto* list = app.add_subcommand("list", "List registered components and their options");
  auto kind = std::make_shared<std::string>();
  auto plugins = std::make_shared<std::vector<std::string>>();
  list->add_option("kind", *kind, "only this kind (e.g. schedule)");
  // One value per flag (repeat the flag), so that a following positional is not swallowed.
  list->add_option("--plugin", *plugins, "load this plugin library first (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  list->callback([kind, plugins] {
    for (const auto& path : *plugins)
      plugin::load(path);
    const auto& index = registry::RegistryIndex::instance();
    const bool colour = console::stdout_is_tty();
    if (!kind->empty()) {
      print_registry(index.find(*kind), colour);
      return;
    }
    bool first = true;
    for (const auto* registry : index.registries()) {
      if (!first) std::cout << '\n';
      first = false;
      print_registry(*registry, colour);
    }
  });
}

}  // namespace sslx::cli
