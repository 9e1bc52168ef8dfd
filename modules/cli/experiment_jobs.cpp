#include "cli/experiment_jobs.h"

#include "config/config_error.h"
#include "eval/evaluator.h"

namespace sslx::cli {

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
  return experiment;
}

}  // namespace sslx::cli
