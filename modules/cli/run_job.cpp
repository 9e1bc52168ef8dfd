#include "cli/run_job.h"

#include <torch/utils.h>

#include "config/toml_io.h"
#include "data/data_registry.h"
#include "log/run_log.h"
#include "objectives/objective_registry.h"
#include "train/schedule_registry.h"
#include "train/trainer.h"
#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;
namespace {

void flatten(const config::Node& node, const std::string& path,
             std::map<std::string, std::string>& out) {
  if (node.is_table()) {
    for (const auto& [key, child] : node.as_table()) {
      flatten(child, path.empty() ? key : path + "." + key, out);
    }
    return;
  }
  out[path] = config::to_toml_inline(node);
}

}  // namespace

std::vector<std::string> config_differences(const config::Node& before, const config::Node& after) {
  std::map<std::string, std::string> a, b;
  flatten(before, "", a);
  flatten(after, "", b);
  std::vector<std::string> differences;
  for (const auto& [key, value] : a) {
    const auto it = b.find(key);
    if (it == b.end()) {
      differences.push_back(key + ": " + value + " -> (absent)");
    } else if (it->second != value) {
      differences.push_back(key + ": " + value + " -> " + it->second);
    }
  }
  for (const auto& [key, value] : b) {
    if (a.count(key) == 0) differences.push_back(key + ": (absent) -> " + value);
  }
  return differences;
}

JobOutcome run_job(const config::Resolved& resolved, const stdfs::path& directory, bool fresh) {
  const std::string config_text = config::to_toml(resolved.config);
  const stdfs::path config_file = directory / "config.toml";
  if (fresh) stdfs::remove_all(directory);
  if (stdfs::is_regular_file(config_file)) {
    const config::Node previous = config::load_toml_file(config_file);
    const auto differences = config_differences(previous, resolved.config);
    if (!differences.empty()) {
      throw Error(
          directory.string() + " holds a run with another config:\n  " + join(differences, "\n  "),
          "use another --out directory, or --fresh to delete the old run");
    }
    if (stdfs::is_regular_file(directory / "log.h5") &&
        log::RunLogReader(directory / "log.h5").status() == log::RunStatus::kCompleted) {
      console::info(directory.string() + ": completed, skipped");
      return JobOutcome::kSkipped;
    }
  }
  stdfs::create_directories(directory);
  fs::write_text_atomic(config_file, config_text);
  fs::write_text_atomic(directory / "overrides.txt", join(resolved.overrides, "\n") + "\n");
  fs::write_text_atomic(directory / "defaults_tree.txt",
                        config::render_defaults_tree(resolved.defaults_tree));

  const config::Node& config = resolved.config;
  const auto seed = static_cast<std::uint64_t>(config.get_int("seed"));
  torch::manual_seed(seed);  // model initialisation and dropout
  const data::LmData data = data::prepare_lm_data(config);
  const train::TrainerOptions trainer_options =
      train::trainer_options_from(config.at_path("trainer"));
  const objectives::ObjectiveContext context{.model = config.at_path("model"),
                                             .tokenizer = *data.tokenizer,
                                             .corpus = data.corpus,
                                             .trainer = trainer_options,
                                             .seed = seed};
  auto objective = objectives::objective_registry().create(config.at_path("objective"), context);
  train::Trainer trainer(
      *objective, trainer_options, train::optimizer_options_from(config.at_path("optimizer")),
      train::schedule_registry().create(config.at_path("schedule")),
      {.log = directory / "log.h5", .checkpoints = directory / "checkpoints"}, config_text);
  const auto outcome = trainer.run();
  if (outcome == train::RunOutcome::kInterrupted) {
    console::info(directory.string() + ": interrupted at step " +
                  std::to_string(trainer.state().step) + "; run the same command to resume");
    return JobOutcome::kInterrupted;
  }
  return JobOutcome::kCompleted;
}

}  // namespace sslx::cli
