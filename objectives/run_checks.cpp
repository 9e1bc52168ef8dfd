#include "objectives/run_checks.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "architectures/architecture_options.h"
#include "architectures/architecture_registry.h"
#include "config/toml_io.h"
#include "data/lm_data.h"
#include "interop/hf_import.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::objectives {
namespace {

namespace stdfs = std::filesystem;

// Keys of [model] that only change how a model trains, not the parameters it has.
const std::set<std::string, std::less<>> kTrainingOnlyModelKeys = {"dropout", "attention_dropout",
                                                                   "embedding_dropout", "init"};

// "a.b = value" for every leaf of `table`, by full path.
void flatten(const config::Node& node, const std::string& path,
             std::map<std::string, std::string>& leaves) {
  if (!node.is_table()) {
    leaves[path] = config::to_toml_inline(node);
    return;
  }
  for (const auto& [key, value] : node.as_table())
    flatten(value, path + "." + key, leaves);
}

// Differences between two tables of the same name, as "key = A here, B there". Only keys both
// have are compared: a key that one side lacks comes from another sslx version (a component
// chosen differently shows in its name key).
std::vector<std::string> differences(const config::Node& here, const config::Node& there,
                                     const std::string& section,
                                     const std::set<std::string, std::less<>>& ignored = {}) {
  std::map<std::string, std::string> mine;
  std::map<std::string, std::string> theirs;
  flatten(here, section, mine);
  flatten(there, section, theirs);
  std::vector<std::string> found;
  for (const auto& [key, value] : mine) {
    if (ignored.contains(key.substr(key.rfind('.') + 1))) continue;
    const auto other = theirs.find(key);
    if (other != theirs.end() && other->second != value)
      found.push_back(key + " = " + value + " here, " + other->second);
  }
  return found;
}

// [model] with norm_eps = 0 (the norm's default) replaced by that default: both build the same
// model, and an imported HF config always states its epsilon.
config::Node with_effective_norm_eps(const config::Node& model) {
  config::Node copy = model;
  const config::Node* eps = model.find("norm_eps");
  const config::Node* norm = model.find("norm");
  if (eps != nullptr && eps->is_number() && eps->as_float() == 0.0 && norm != nullptr &&
      norm->is_string()) {
    arch::ArchitectureOptions options;
    options.norm = nn::norm_kind_from_name(norm->as_string());
    copy.set("norm_eps", interop::effective_norm_eps(options));
  }
  return copy;
}

// Run folders that `path` may name: itself, or above a checkpoints/ folder or a checkpoint.
std::vector<stdfs::path> run_folder_candidates(const stdfs::path& path) {
  stdfs::path normal = path.lexically_normal();
  if (normal.has_filename() == false) normal = normal.parent_path();
  std::vector<stdfs::path> candidates{normal};
  if (normal.filename() == "checkpoints") candidates.push_back(normal.parent_path());
  if (normal.parent_path().filename() == "checkpoints")
    candidates.push_back(normal.parent_path().parent_path());
  return candidates;
}

std::string join_differences(const std::vector<std::string>& found) {
  return join(found, "; ");
}

}  // namespace

config::Check accepts_architectures(std::string objective, std::vector<std::string> kinds) {
  return [objective = std::move(objective),
          kinds = std::move(kinds)](const config::CheckContext& context) {
    const std::string& arch = context.root().get_string("model.arch");
    if (!arch::architecture_registry().contains(arch)) return;  // the schema said so already
    const std::string kind(arch::kind_name(arch::architecture_registry().kind_of(arch)));
    if (std::find(kinds.begin(), kinds.end(), kind) != kinds.end()) return;
    context.error_at("model.arch", "objective " + in_quotes(objective) + " does not train " +
                                       in_quotes(arch) + " (kind " + kind +
                                       "); it trains kinds: " + join(kinds, ", "));
  };
}

config::Check all_of(std::vector<config::Check> checks) {
  return [checks = std::move(checks)](const config::CheckContext& context) {
    for (const auto& check : checks) {
      if (check) check(context);
    }
  };
}

std::optional<config::Node> run_config(const config::CheckContext& context, std::string_view path) {
  // "hf:DIR": a Hugging Face directory stands for a run of the [model] its config.json describes
  // (its vocabulary is checked when the weights load: the tokenizer is not built yet).
  if (const auto hf = interop::hf_reference(std::string(path))) {
    config::Node config;
    config.set("model", interop::read_hf_directory(*hf).model_table);
    return config;
  }
  for (const auto& candidate : run_folder_candidates(stdfs::path(path))) {
    for (const auto& [folder, config] : context.upstream()) {
      if (folder.lexically_normal() == candidate) return *config;
    }
    const stdfs::path file = candidate / "config.toml";
    if (stdfs::is_regular_file(file)) return config::load_toml_file(file);
  }
  return std::nullopt;
}

void check_run_reference(const config::CheckContext& context, std::string_view key,
                         const std::vector<std::string>& trained) {
  const config::Node* value = context.options().find(key);
  if (value == nullptr || !value->is_string() || value->as_string().empty()) return;
  const std::string& path = value->as_string();
  std::optional<config::Node> other;
  try {
    other = run_config(context, path);
  } catch (const Error& e) {
    context.error(key, e.what());  // an unreadable or unsupported HF directory
    return;
  }
  if (!other) {
    context.error(key, "no run at " + path +
                           ": neither a run folder with config.toml (or its checkpoints/ "
                           "folder, or one checkpoint) nor a job that runs before this one");
    return;
  }
  if (!trained.empty()) {
    const config::Node* objective = other->find_path("objective.name");
    const std::string name =
        objective != nullptr && objective->is_string() ? objective->as_string() : "(none)";
    if (std::find(trained.begin(), trained.end(), name) == trained.end()) {
      context.error(key, "the run at " + path + " trained objective " + in_quotes(name) +
                             "; expected a run of " + join(trained, " or "));
    }
  }
  const config::Node& tokenizer = context.root().at_path("tokenizer");
  const config::Node* other_tokenizer = other->find("tokenizer");
  std::vector<std::string> found;
  if (other_tokenizer != nullptr) found = differences(tokenizer, *other_tokenizer, "tokenizer");
  if (found.empty() && data::vocabulary_depends_on_corpus(tokenizer)) {
    const config::Node* other_data = other->find("data");
    if (other_data != nullptr)
      found = differences(context.root().at_path("data"), *other_data, "data");
  }
  if (!found.empty()) {
    context.error(key, "the run at " + path +
                           " has another vocabulary (its token ids would mean other tokens): " +
                           join_differences(found) + " there");
  }
}

void check_files_exist(const config::CheckContext& context) {
  for (const char* key : {"train_files", "validation_files"}) {
    const config::Node* files = context.options().find(key);
    if (files == nullptr || !files->is_array()) continue;
    for (const auto& file : files->as_array()) {
      if (file.is_string() && !stdfs::is_regular_file(file.as_string())) {
        context.error(key, "no file " + file.as_string() + " (relative to " +
                               stdfs::current_path().string() + ")");
      }
    }
  }
}

void check_init_from(const config::CheckContext& context) {
  check_run_reference(context, "init_from", {});
  const config::Node* value = context.options().find("init_from");
  if (value == nullptr || !value->is_string() || value->as_string().empty()) return;
  std::optional<config::Node> other;
  try {
    other = run_config(context, value->as_string());
  } catch (const Error&) {
    return;  // check_run_reference reported it
  }
  if (!other || other->find("model") == nullptr) return;
  const auto found =
      differences(with_effective_norm_eps(context.root().at_path("model")),
                  with_effective_norm_eps(*other->find("model")), "model", kTrainingOnlyModelKeys);
  if (!found.empty()) {
    const bool hf = interop::hf_reference(value->as_string()).has_value();
    context.error("init_from",
                  (hf ? "the Hugging Face model at " : "the run at ") + value->as_string() +
                      (hf ? " is another backbone" : " trained another backbone") +
                      " (its weights load only into the same shapes): " + join_differences(found) +
                      " there");
  }
}

}  // namespace sslx::objectives
