#include "cli/experiment_jobs.h"

#include "config/config_error.h"
#include "eval/evaluator.h"
#include "registry/registry_index.h"

namespace sslx::cli {
namespace {

// The jobs that run before `index` (transitively), by directory, with their configs.
config::UpstreamRuns upstream_of(const ExperimentJobs& experiment, std::size_t index) {
  config::UpstreamRuns upstream;
  std::vector<std::size_t> pending = experiment.jobs[index].after;
  while (!pending.empty()) {
    const std::size_t job = pending.back();
    pending.pop_back();
    const auto directory = experiment.output / config::job_directory_name(experiment.jobs[job]);
    if (upstream.emplace(directory, &experiment.configs[job].config).second) {
      for (const std::size_t before : experiment.jobs[job].after)
        pending.push_back(before);
    }
  }
  return upstream;
}

// The components' own checks over each job's validated config (config/check.h): what a job
// would otherwise find only when it starts.
void check_jobs(const ExperimentJobs& experiment) {
  config::DiagnosticList failures;
  for (const auto& job : experiment.jobs) {
    const config::Node& config = experiment.configs[job.index].config;
    const config::UpstreamRuns upstream = upstream_of(experiment, job.index);
    config::DiagnosticList problems;
    registry::RegistryIndex::instance().check(config, upstream, problems);
    eval::check_eval_config(config, upstream, problems);
    try {
      problems.throw_if_any();
    } catch (const config::ConfigError& error) {
      for (const auto& diagnostic : error.diagnostics()) {
        failures.add("job " + std::to_string(job.index) + " (" + job.name + "): " + diagnostic.key,
                     diagnostic.origin, diagnostic.message);
      }
    }
  }
  failures.throw_if_any();
}

}  // namespace

ExperimentJobs load_experiment(const ConfigArguments& arguments, const std::string& out) {
  // The [sweep] and [variants] tables come from the composed file; the command line's overrides
  // are applied per job.
  const config::Resolved composed = config::compose_with_overrides(
      {.file = arguments.file, .overrides = {}, .config_dirs = arguments.config_dirs});
  ExperimentJobs experiment;
  experiment.name = experiment_name(composed, arguments.file);
  experiment.output =
      out.empty() ? std::filesystem::path("runs") / experiment.name : std::filesystem::path(out);
  experiment.jobs = config::plan_jobs(composed.variants, composed.sweep, arguments.overrides,
                                      experiment.output.string());
  config::DiagnosticList failures;
  for (const auto& job : experiment.jobs) {
    ConfigArguments job_arguments = arguments;
    job_arguments.overrides = job.overrides;
    try {
      experiment.configs.push_back(load_config(job_arguments));
      // An unknown evaluator fails now, not after training.
      eval::validate_eval_config(experiment.configs.back().config);
    } catch (const config::ConfigError& error) {
      for (const auto& diagnostic : error.diagnostics()) {
        failures.add("job " + std::to_string(job.index) + " (" + job.name + "): " + diagnostic.key,
                     diagnostic.origin, diagnostic.message);
      }
    }
  }
  failures.throw_if_any();
  check_jobs(experiment);
  return experiment;
}

}  // namespace sslx::cli
