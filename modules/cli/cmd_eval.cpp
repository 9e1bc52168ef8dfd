// `sslx eval CHECKPOINT [--task NAME ...] [overrides]`: runs evaluators on a checkpoint of a job
// and prints their results. CHECKPOINT is a checkpoint directory (<job>/checkpoints/step-N) or a
// job directory, whose eval.checkpoint (best or last) is then evaluated; the job's resolved
// config.toml, with the overrides, says how (docs/evaluation.md).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "eval/evaluator.h"
#include "util/error.h"
#include "util/process_tuning.h"

namespace sslx::cli {
namespace {

namespace stdfs = std::filesystem;

struct EvalArguments {
  std::string target;
  std::vector<std::string> tasks;
  std::vector<std::string> overrides;
};

void evaluate(const EvalArguments& arguments) {
  tune_process_for_compute();
  const stdfs::path target = arguments.target;
  stdfs::path job, checkpoint;
  if (stdfs::is_regular_file(target / "model.pt")) {
    checkpoint = target;
    job = stdfs::absolute(target).lexically_normal().parent_path().parent_path();
  } else if (stdfs::is_regular_file(target / "config.toml")) {
    job = target;
  } else {
    throw IoError(target.string() +
                      " is neither a checkpoint (no model.pt) nor a job directory "
                      "(no config.toml)",
                  "give runs/<experiment>/<job> or runs/<experiment>/<job>/checkpoints/step-N");
  }
  if (!stdfs::is_regular_file(job / "config.toml")) {
    throw IoError("no config.toml in " + job.string() + ", the job of " + checkpoint.string(),
                  "a checkpoint must stay inside its job directory (<job>/checkpoints/step-N)");
  }
  const config::Resolved resolved =
      load_config({.file = job / "config.toml", .overrides = arguments.overrides});
  const config::Node& config = resolved.config;
  eval::validate_eval_config(config);
  std::string note = "given";
  if (checkpoint.empty()) {
    checkpoint =
        eval::find_checkpoint(job / "checkpoints", config.get_string("eval.checkpoint"), note);
  }
  std::vector<std::string> tasks = arguments.tasks;
  if (tasks.empty() && config.at_path("eval.tasks").as_array().empty()) {
    tasks = eval::evaluator_registry().names();  // nothing configured: every evaluator
  }
  const eval::EvalResults results = eval::run_evaluators(config, checkpoint, tasks, job);

  std::cout << "checkpoint: " << checkpoint.string() << " (" << note << ")\n\n";
  std::printf("%-36s %14s\n", "metric", "value");
  for (const auto& [name, value] : results.scalars)
    std::printf("%-36s %14.6g\n", name.c_str(), value);
  std::fflush(stdout);
  for (const auto& [name, text] : results.texts)
    std::cout << '\n' << name << ":\n  " << text << '\n';
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* command =
      app.add_subcommand("eval", "Evaluate a checkpoint: held-out loss, probe, fine-tune, samples");
  auto arguments = std::make_shared<EvalArguments>();
  command
      ->add_option("checkpoint", arguments->target,
                   "a checkpoint directory (<job>/checkpoints/step-N) or a job directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_option("overrides", arguments->overrides,
                      "overrides of the job's config, e.g. eval.probe.max_train=500");
  // One name per flag (repeat it): a vector option would swallow the overrides.
  command
      ->add_option("--task", arguments->tasks,
                   "evaluator to run (repeatable; default: eval.tasks, or all when empty)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command->callback([arguments] { evaluate(*arguments); });
}

}  // namespace sslx::cli
