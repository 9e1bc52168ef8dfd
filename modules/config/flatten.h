// A config tree as flat "dotted.path -> value" pairs, for comparing two configs key by key.
#pragma once

#include <map>
#include <string>

#include "config/node.h"

namespace sslx::config {

// Every leaf of `table` by its dotted path ("trainer.batch_size"), the value in TOML inline
// syntax ("8", "\"adamw\"", "[1, 2]"); arrays are leaves.
std::map<std::string, std::string> flatten_leaves(const Node& table);

}  // namespace sslx::config
