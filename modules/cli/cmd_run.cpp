// `sslx run FILE [overrides] [--dry-run] [--out DIR] [--fresh]`: expands the experiment into jobs
// (sweep point x seed), checks every job's config, then trains the jobs one after the other in
// runs/<experiment>/<job>/ (or DIR/<job>). Re-running the same command resumes.
#include <iostream>

#include "cli/commands.h"
#include "cli/config_loading.h"
#include "cli/run_job.h"
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
  bool fresh = false;
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

// A job's directory name: its sweep assignments, with path separators made safe.
std::string directory_name(const config::Job& job) {
  std::string name = job.name;
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  return name;
}

void run_jobs(const RunArguments& arguments) {
  const auto jobs = expand(arguments);
  std::vector<config::Resolved> resolved;
  for (const auto& job : jobs) {
    ConfigArguments job_arguments = arguments.config;
    job_arguments.overrides = job.overrides;
    resolved.push_back(load_config(job_arguments));  // every config is checked before any runs
  }
  const std::string experiment = experiment_name(resolved.front(), arguments.config.file);
  const std::filesystem::path out = arguments.out.empty() ? "runs/" + experiment : arguments.out;
  std::vector<std::string> failures;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    const auto directory = out / directory_name(jobs[i]);
    console::info("[" + std::to_string(i + 1) + "/" + std::to_string(jobs.size()) + "] " +
                  directory.string());
    try {
      if (run_job(resolved[i], directory, arguments.fresh) == JobOutcome::kInterrupted) {
        throw Interrupted();
      }
    } catch (const Interrupted&) {
      throw;
    } catch (const config::ConfigError&) {
      throw;
    } catch (const std::exception& error) {
      console::error(directory.string() + ": " + error.what());
      failures.push_back(directory.string() + " (log: " + (directory / "log.h5").string() + ")");
    }
  }
  if (!failures.empty()) {
    throw Error(std::to_string(failures.size()) + " of " + std::to_string(jobs.size()) +
                " jobs failed: " + join(failures, ", "));
  }
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
  run->add_flag("--fresh", arguments->fresh,
                "delete existing job directories and start over instead of resuming");
  run->callback([arguments] {
    if (arguments->dry_run) {
      dry_run(*arguments);
    } else {
      run_jobs(*arguments);
    }
  });
}

}  // namespace sslx::cli
