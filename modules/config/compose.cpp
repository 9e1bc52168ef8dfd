#include "config/compose.h"

#include <algorithm>
#include <cctype>
#include <sstream>

#include "config/config_error.h"
#include "config/toml_io.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::config {
namespace fs = std::filesystem;
namespace {

struct GroupChoice {
  std::string option;  // empty: removed with ~group
  Override source;
  bool used = false;
};

class Composer {
 public:
  Composer(const SearchPath& search_path, const std::vector<Override>& group_overrides)
      : search_path_(search_path) {
    for (const auto& o : group_overrides) {
      if (o.op == Override::Op::kAdd) {
        added_.push_back(o);
      } else {
        choices_[o.key] = GroupChoice{o.op == Override::Op::kDelete ? "" : o.value_text, o};
      }
    }
  }

  Composition run(const fs::path& primary) {
    Composition result;
    result.defaults_tree = compose_file(result.config, primary, "", /*is_primary=*/true);
    for (const auto& [group, choice] : choices_) {
      if (!choice.used) {
        diagnostics_.add(group, choice.source.origin(),
                         "group " + in_quotes(group) +
                             " is not in the defaults list; add it with +" + group + "=" +
                             (choice.option.empty() ? "<option>" : choice.option));
      }
    }
    diagnostics_.throw_if_any();
    return result;
  }

 private:
  DefaultsEntry compose_file(Node& root, const fs::path& file, const std::string& package,
                             bool is_primary) {
    DefaultsEntry entry{.package = package, .file = file};
    const std::string canonical = fs::weakly_canonical(file).string();
    if (std::find(stack_.begin(), stack_.end(), canonical) != stack_.end()) {
      throw ConfigError("defaults", Origin{file.string()},
                        "defaults list cycle: " + join(stack_, " -> ") + " -> " + canonical);
    }
    stack_.push_back(canonical);

    Node own = load_toml_file(file);
    std::vector<Node> defaults;
    if (const Node* list = own.find("defaults")) {
      if (!list->is_array()) {
        throw ConfigError("defaults", list->origin(), "defaults must be an array");
      }
      defaults = list->as_array();
      own.erase("defaults");
    }
    if (is_primary) {
      for (const auto& added : added_) {
        defaults.push_back(
            Node(Table{{added.key, Node(added.value_text, added.origin())}}, added.origin()));
      }
    }

    bool self_done = false;
    for (const auto& item : defaults) {
      if (item.is_string() && item.as_string() == "_self_") {
        merge_at(root, package, own);
        entry.children.push_back(DefaultsEntry{.package = package, .is_self = true});
        self_done = true;
      } else if (item.is_string()) {
        entry.children.push_back(compose_plain(root, file, item, package));
      } else if (item.is_table() && item.as_table().size() == 1) {
        if (auto child = compose_group(root, item)) entry.children.push_back(std::move(*child));
      } else {
        diagnostics_.add("defaults", item.origin(),
                         "a defaults entry is \"_self_\", \"file\" or { group = \"option\" }");
      }
    }
    if (!self_done) {
      merge_at(root, package, own);
      entry.children.push_back(DefaultsEntry{.package = package, .is_self = true});
    }
    stack_.pop_back();
    return entry;
  }

  DefaultsEntry compose_plain(Node& root, const fs::path& from, const Node& item,
                              const std::string& package) {
    const std::string name = item.as_string();
    const fs::path beside = from.parent_path() / (name + ".toml");
    if (fs::is_regular_file(beside)) return compose_file(root, beside, package, false);
    for (const auto& search_root : search_path_.roots()) {
      const fs::path candidate = search_root / (name + ".toml");
      if (fs::is_regular_file(candidate)) return compose_file(root, candidate, package, false);
    }
    throw ConfigError("defaults", item.origin(),
                      "no config " + in_quotes(name) + " beside " + from.string() +
                          " or in the config search path");
  }

  std::optional<DefaultsEntry> compose_group(Node& root, const Node& item) {
    const auto& [group, option_node] = item.as_table().front();
    if (!option_node.is_string()) {
      diagnostics_.add("defaults." + group, option_node.origin(),
                       "the option of a group must be a string");
      return std::nullopt;
    }
    std::string option = option_node.as_string();
    Origin origin = option_node.origin();
    if (auto it = choices_.find(group); it != choices_.end()) {
      it->second.used = true;
      if (it->second.option.empty()) return std::nullopt;  // removed with ~group
      option = it->second.option;
      origin = it->second.source.origin();
    }
    const auto file = search_path_.find(group, option);
    if (!file) {
      const auto options = search_path_.options(group);
      std::string message =
          "no option " + in_quotes(option) + " in config group " + in_quotes(group);
      message += options.empty() ? " (the group does not exist on the search path)"
                                 : "; available: " + join(options, ", ");
      const std::string hint = did_you_mean(option, options);
      if (!hint.empty()) message += "; " + hint;
      diagnostics_.add(group, origin, message);
      return std::nullopt;
    }
    // A group file may place its values elsewhere, as in Hydra: `# @package _global_` merges
    // them at the root (a budget that sets trainer.* and eval.*), `# @package a.b` under a.b.
    const std::string package = package_directive(*file).value_or(group);
    DefaultsEntry entry = compose_file(root, *file, package, false);
    entry.group = group;
    entry.option = option;
    return entry;
  }

  static std::optional<std::string> package_directive(const fs::path& file) {
    std::istringstream lines(sslx::fs::read_text(file));
    std::string line;
    const std::string marker = "# @package ";
    while (std::getline(lines, line)) {
      if (line.rfind(marker, 0) == 0) {
        std::string package = line.substr(marker.size());
        while (!package.empty() && std::isspace(static_cast<unsigned char>(package.back())))
          package.pop_back();
        return package == "_global_" ? std::string() : package;
      }
      if (!line.empty() && line[0] != '#') break;  // only the leading comment block counts
    }
    return std::nullopt;
  }

  static void merge_at(Node& root, const std::string& package, const Node& values) {
    if (package.empty()) {
      merge_into(root, values);
      return;
    }
    Node* target = root.find_path(package);
    if (target == nullptr || !target->is_table()) {
      root.set_path(package, Node(Table{}, values.origin()));
      target = root.find_path(package);
    }
    merge_into(*target, values);
  }

  const SearchPath& search_path_;
  std::map<std::string, GroupChoice> choices_;
  std::vector<Override> added_;
  std::vector<std::string> stack_;
  DiagnosticList diagnostics_;
};

void render(const DefaultsEntry& entry, const std::string& indent, std::string& out) {
  std::string line;
  if (entry.is_self) {
    line = "_self_";
  } else if (!entry.group.empty()) {
    line = entry.group + ": " + entry.option + "  (" + entry.file.string() + ")";
  } else {
    line = entry.file.string();
  }
  if (!entry.package.empty() && entry.group.empty()) line += "  @ " + entry.package;
  out += indent + line + "\n";
  for (const auto& child : entry.children)
    render(child, indent + "  ", out);
}

}  // namespace

std::vector<Override> take_group_overrides(std::vector<Override>& overrides,
                                           const SearchPath& search_path) {
  std::vector<Override> groups;
  std::vector<Override> rest;
  for (auto& o : overrides) {
    if (search_path.has_group(o.key)) {
      groups.push_back(std::move(o));
    } else {
      rest.push_back(std::move(o));
    }
  }
  overrides = std::move(rest);
  return groups;
}

Composition compose(const fs::path& primary, const SearchPath& search_path,
                    const std::vector<Override>& group_overrides) {
  return Composer(search_path, group_overrides).run(primary);
}

std::string render_defaults_tree(const DefaultsEntry& root) {
  std::string out;
  render(root, "", out);
  return out;
}

}  // namespace sslx::config
