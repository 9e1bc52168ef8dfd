// `sslx docs config-reference [-o FILE]`: generated documentation.
#include <iostream>

#include "cli/commands.h"
#include "cli/reference_doc.h"
#include "util/fs.h"

namespace sslx::cli {

void add_docs_command(CLI::App& app) {
  auto* docs = app.add_subcommand("docs", "Generate documentation from the registered schemas");
  docs->require_subcommand(1);
  auto* reference = docs->add_subcommand("config-reference", "Markdown reference of every key");
  auto output = std::make_shared<std::string>();
  reference->add_option("-o,--output", *output, "write to this file instead of stdout");
  reference->callback([output] {
    const std::string text = config_reference_markdown();
    if (output->empty()) {
      std::cout << text;
    } else {
      fs::write_text_atomic(*output, text);
    }
  });
}

}  // namespace sslx::cli
