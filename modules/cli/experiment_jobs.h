// An experiment file expanded into its jobs, each config composed and validated, before anything
// runs: `sslx run` and `sslx run --dry-run` start here.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "cli/config_loading.h"
#include "config/experiment_plan.h"
#include "config/resolve.h"

namespace sslx::cli {

struct ExperimentJobs {
  std::string name;              // experiment.name, or the file name
  std::filesystem::path output;  // --out, or runs/<name>
  std::vector<config::PlannedJob> jobs;
  std::vector<config::Resolved> configs;  // one per job, validated
};

// Throws one ConfigError listing the problems of every job.
ExperimentJobs load_experiment(const ConfigArguments& arguments, const std::string& out);

}  // namespace sslx::cli
