// Composition of a config from its defaults list (Hydra-style).
//
// A file may start with `defaults = [...]`, whose entries are, in order of application:
//   { group = "option" }  configs/<group>/<option>.toml, placed under the key <group>
//   "name"                another file merged at this file's own place: name.toml beside this
//                         file (e.g. a preset inheriting from a sibling), else configs/name.toml
//   "_self_"              this file's own values; implicitly last, so the file's values win
// Later entries override earlier ones: tables merge, everything else (lists too) is replaced.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "config/node.h"
#include "config/override.h"
#include "config/search_path.h"

namespace sslx::config {

// One node of the defaults tree, kept so that `config show --defaults-tree` can show where
// every part of the config came from.
struct DefaultsEntry {
  std::string group;           // empty for plain files and _self_
  std::string option;          // the chosen option of `group`
  std::string package;         // dotted key the file's values were placed under ("" = root)
  std::filesystem::path file;  // empty for _self_
  bool is_self = false;
  std::vector<DefaultsEntry> children;
};

struct Composition {
  Node config;
  DefaultsEntry defaults_tree;
};

// Group choices from the command line (`model=small`, `+model=small`, `~model`). Applies only to
// overrides whose key names a group directory on the search path; returns the others untouched.
std::vector<Override> take_group_overrides(std::vector<Override>& overrides,
                                           const SearchPath& search_path);

Composition compose(const std::filesystem::path& primary, const SearchPath& search_path,
                    const std::vector<Override>& group_overrides);

// Renders the defaults tree as an indented outline.
std::string render_defaults_tree(const DefaultsEntry& root);

}  // namespace sslx::config
