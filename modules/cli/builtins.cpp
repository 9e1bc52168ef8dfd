#include "cli/builtins.h"

#include <memory>

#include "architectures/architecture_registry.h"
#include "config/check.h"
#include "config/node.h"
#include "data/data_registry.h"
#include "eval/evaluator.h"
#include "objectives/objective_registry.h"
#include "registry/registry_index.h"
#include "train/device.h"
#include "train/schedule_registry.h"
#include "train/trainer_options.h"

namespace sslx::cli {
namespace {

void register_root_fields() {
  auto& index = registry::RegistryIndex::instance();
  auto experiment = std::make_shared<config::Schema>("what the experiment is");
  experiment->add({.key = "name",
                   .type = config::Type::kString,
                   .default_value = "",
                   .doc = "experiment name (default: the file name without .toml)"});
  experiment->add({.key = "description",
                   .type = config::Type::kString,
                   .default_value = "",
                   .doc = "one line saying what is compared"});
  experiment->add({.key = "variant",
                   .type = config::Type::kString,
                   .default_value = "",
                   .doc = "the [variants.<name>] this job runs (set by `sslx run`)"});
  index.add_root_field({.key = "experiment",
                        .type = config::Type::kTable,
                        .default_value = config::Node(config::Table{}),
                        .doc = "name and description of the experiment",
                        .nested = experiment});
  index.add_root_field({.key = "seed",
                        .type = config::Type::kInt,
                        .default_value = 0,
                        .doc = "seed of every random stream of a job (a sweep axis for repeats)",
                        .min = 0});
  index.add_root_field({.key = "vars",
                        .type = config::Type::kTable,
                        .default_value = config::Node(config::Table{}),
                        .doc =
                            "free values for interpolation (\"${vars.x}\"), e.g. the stage sizes "
                            "a budget gives an experiment; read by nothing else"});
  index.add_root_field({.key = "plugins",
                        .type = config::Type::kArray,
                        .default_value = config::Node(config::Array{}),
                        .doc = "plugin libraries (.so) to load, relative to the listing file",
                        .element_type = config::Type::kString});
}

// [launcher]: how `sslx run` starts the jobs (cli/slurm_launcher.h reads it).
void register_launcher_section() {
  using config::Type;
  auto launcher = std::make_shared<config::Schema>(
      "how `sslx run` starts the jobs: local processes, or batch jobs on Slurm (docs/scaling.md)");
  launcher->add({.key = "name",
                 .type = Type::kString,
                 .default_value = "local",
                 .doc = "local: child processes on this machine; slurm: one sbatch job per job",
                 .choices = {"local", "slurm"}});
  launcher->add({.key = "nodes",
                 .type = Type::kInt,
                 .default_value = 1,
                 .doc = "slurm: nodes per job (trainer.world_size tasks spread over them)",
                 .min = 1});
  launcher->add({.key = "cpus_per_task",
                 .type = Type::kInt,
                 .default_value = 0,
                 .doc = "slurm: cores per rank, also its threads (0: Slurm's default)",
                 .min = 0});
  launcher->add({.key = "gpus_per_node",
                 .type = Type::kInt,
                 .default_value = 0,
                 .doc = "slurm: GPUs per node (--gpus-per-node; 0: none requested)",
                 .min = 0});
  launcher->add({.key = "time",
                 .type = Type::kString,
                 .default_value = "",
                 .doc = "slurm: time limit per job, as sbatch reads it (\"2:00:00\"; \"\": the "
                        "partition's default)"});
  launcher->add({.key = "partition",
                 .type = Type::kString,
                 .default_value = "",
                 .doc = "slurm: partition (\"\": the default one)"});
  launcher->add({.key = "account",
                 .type = Type::kString,
                 .default_value = "",
                 .doc = "slurm: account to charge (\"\": your default)"});
  launcher->add({.key = "signal_seconds",
                 .type = Type::kInt,
                 .default_value = 120,
                 .doc = "slurm: SIGUSR1 this many seconds before the time limit: the job "
                        "checkpoints and requeues itself",
                 .min = 0});
  launcher->add({.key = "sbatch_options",
                 .type = Type::kArray,
                 .default_value = config::Node(config::Array{}),
                 .doc = "slurm: more sbatch options, one #SBATCH line each (\"--qos=high\")",
                 .element_type = Type::kString});
  registry::RegistryIndex::instance().add_root_field(
      {.key = "launcher",
       .type = Type::kTable,
       .default_value = config::Node(config::Table{}),
       .doc = "how `sslx run` starts the jobs (local processes or Slurm batch jobs); not part of "
              "what a job computes: changing it does not make a finished job run again",
       .nested = launcher});
  // Values go onto #SBATCH lines, where Slurm reads one word and no shell quoting.
  registry::RegistryIndex::instance().add_root_check(
      "launcher values", [](const config::CheckContext& context) {
        const config::Node& l = context.root().at_path("launcher");
        const auto one_word = [&](const std::string& key, const std::string& value) {
          if (value.find_first_of(" \t\n'\"") != std::string::npos) {
            context.error_at("launcher." + key, "\"" + value +
                                                    "\" cannot be written on an #SBATCH line: "
                                                    "use a value without spaces or quotes");
          }
        };
        for (const char* key : {"time", "partition", "account"})
          one_word(key, l.get_string(key));
        for (const auto& option : l.at_path("sbatch_options").as_array())
          one_word("sbatch_options", option.as_string());
      });
  registry::RegistryIndex::instance().add_root_check(
      "trainer device", [](const config::CheckContext& context) {
        const config::Node& root = context.root();
        // A job submitted to a cluster runs on another machine: only the values count here.
        const bool here = root.get_string("launcher.name") != "slurm";
        const std::string& device = root.get_string("trainer.device");
        if (const auto problem = train::device_problem(device, here); !problem.empty())
          context.error_at("trainer.device", problem);
        const std::string& precision = root.get_string("trainer.precision");
        if (const auto problem = train::precision_problem(device, precision, here);
            !problem.empty())
          context.error_at("trainer.precision", problem);
      });
}

}  // namespace

void register_builtins() {
  register_root_fields();
  data::register_builtin_data();
  train::register_builtin_schedules();
  train::register_trainer_sections();
  register_launcher_section();
  arch::register_builtin_architectures();
  objectives::register_builtin_objectives();
  eval::register_builtin_evaluators();
}

}  // namespace sslx::cli
