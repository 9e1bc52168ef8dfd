// An experiment's jobs: variants x sweep points (seeds included), with stage dependencies.
//
// The experiment file's `[variants.<name>]` tables each hold config values for one variant
// (e.g. `bert`: model.arch = "encoder", objective.name = "mlm"), optional group choices
// (`groups = { objective = "mlm" }`) and optionally `init_from = "<other variant>"`: a stage that
// starts from the other variant's final checkpoint of the same sweep point and seed, and waits
// for it. `job_paths = { "<key>" = "<other variant>" }` sets each key to the folder of the
// other variant's job of the same sweep point and seed, and waits for that job too (a policy
// scored by the reward model of its own seed). Every job is one list of plain overrides, composed
// and validated on its own (docs/experiments.md).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/node.h"
#include "config/sweep.h"

namespace sslx::config {

struct Variant {
  std::string name;
  std::vector<std::string> overrides;  // group choices first, then values
  std::string init_from;               // upstream variant, "" when none
  // (key, variant): the key is set to that variant's job folder of the same sweep point
  std::vector<std::pair<std::string, std::string>> job_paths;
  Origin origin;
};

// Variants of a `[variants]` table, in file order. Throws ConfigError naming the key for a
// malformed entry, an unknown `init_from` or a cycle of stages.
std::vector<Variant> variants_from_table(const Node& variants_table);

struct PlannedJob {
  std::size_t index = 0;
  std::string name;     // "bert,seed=2"; "seed=2" without variants; "base" without either
  std::string variant;  // "" without variants
  std::string group;    // the name without the seed: jobs that differ only in seed
  std::optional<std::int64_t> seed;    // when seed is a sweep axis
  std::vector<std::string> overrides;  // variant's, command line's plain ones, then the axes'
  std::vector<std::string> axis_overrides;
  std::vector<std::size_t> after;  // indices of the jobs this one waits for (init_from first)
};

// The jobs of an experiment. `output` is the experiment's output folder: a stage's override
// objective.init_from points at <output>/<upstream job>/checkpoints, a job_paths key at
// <output>/<that job>.
std::vector<PlannedJob> plan_jobs(const std::vector<Variant>& variants,
                                  const std::vector<SweepAxis>& file_axes,
                                  const std::vector<std::string>& command_line,
                                  const std::string& output);

// A job's folder name: its name with path separators made safe.
std::string job_directory_name(const PlannedJob& job);

}  // namespace sslx::config
