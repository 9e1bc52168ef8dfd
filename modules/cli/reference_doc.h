// The config reference in Markdown, generated from the registered schemas (docs/config-reference.md
// is this output; a test keeps the committed file in sync).
#pragma once

#include <string>

namespace sslx::cli {

std::string config_reference_markdown();

}  // namespace sslx::cli
