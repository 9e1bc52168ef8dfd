// `sslx run FILE [overrides] [--dry-run]`: expands the experiment into jobs (variant x sweep
// point x seed) and checks every job's config. Executing jobs needs the trainer and launcher
// (issues 5 and 6); until they exist, --dry-run is the only mode and a plain run says so.
#include <iostream>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "config/config_error.h"
#include "config/resolve.h"
#include "config/sweep.h"
#include "util/console.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::cli {
namespace {

struct RunArguments {
  ConfigArguments config;
  bool dry_run = false;
  std::string out;
};

std::vector<config::Job> expand(const RunArguments& arguments) {
  // The [sweep] table comes from the composed file; sweep overrides are applied per job.
  ConfigArguments base = arguments.config;
  base.overrides.clear();
  const config::Resolved composed = config::compose_with_overrides(
      {.file = base.file, .overrides = {}, .config_dirs = base.config_dirs});
  return config::expand_jobs(composed.sweep, arguments.config.overrides);
}

void dry_run(const RunArguments& arguments) {
  const auto jobs = expand(arguments);
  config::DiagnosticList failures;
  std::string experiment;
  const bool colour = console::stdout_is_tty();
  for (const auto& job : jobs) {
    ConfigArguments job_arguments = arguments.config;
    job_arguments.overrides = job.overrides;
    try {
      const config::Resolved resolved = load_config(job_arguments);
      if (experiment.empty()) {
        experiment = experiment_name(resolved, arguments.config.file);
        const std::string out = arguments.out.empty() ? "runs/" + experiment : arguments.out;
        std::cout << console::styled(experiment, console::Style::kBold, colour) << ": "
                  << jobs.size() << (jobs.size() == 1 ? " job" : " jobs") << " -> " << out << "/\n";
        const std::size_t shared = job.overrides.size() - job.axis_overrides.size();
        if (shared > 0) {
          const std::vector<std::string> common(job.overrides.begin(),
                                                job.overrides.begin() + shared);
          std::cout << console::styled("  every job: " + join(common, " "), console::Style::kDim,
                                       colour)
                    << '\n';
        }
      }
      std::cout << "  [" << job.index << "] " << job.name << '\n';
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

void add_run_command(CLI::App& app) {
  auto* run = app.add_subcommand("run", "Run an experiment: every job of FILE with overrides");
  auto arguments = std::make_shared<RunArguments>();
  add_config_arguments(*run, arguments->config,
                       "overrides (a.b=v, +a.b=v, ~a.b, group=option) and sweeps "
                       "(k=a,b,c  k=range(0,10,2)  k=choice(a,b))");
  run->add_flag("--dry-run", arguments->dry_run,
                "list every composed job and check its config without running anything");
  run->add_option("--out", arguments->out, "output directory (default: runs/<experiment>)");
  run->callback([arguments] {
    if (!arguments->dry_run) {
      throw Error("this build of sslx has no trainer, so it cannot execute jobs",
                  "use `sslx run FILE --dry-run` to list and check the jobs");
    }
    dry_run(*arguments);
  });
}

}  // namespace sslx::cli
