#include "cli/builtins.h"

#include "architectures/architecture_registry.h"
#include "config/node.h"
#include "data/data_registry.h"
#include "eval/evaluator.h"
#include "objectives/objective_registry.h"
#include "registry/registry_index.h"
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

}  // namespace

void register_builtins() {
  register_root_fields();
  data::register_builtin_data();
  train::register_builtin_schedules();
  train::register_trainer_sections();
  arch::register_builtin_architectures();
  objectives::register_builtin_objectives();
  eval::register_builtin_evaluators();
}

}  // namespace sslx::cli
