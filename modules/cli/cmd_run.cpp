// `sslx run FILE [overrides] [--dry-run] [--out DIR] [--fresh] [--jobs N] [--nproc N]
// [--launcher local|slurm] [--no-report]`: expands the experiment into jobs (variant x sweep point
// x seed), checks every job's config, then runs them in runs/<experiment>/<job>/ (or DIR/<job>):
// one job in this process, several as child processes (`sslx run ... --job I`), at most N at a
// time with the cores split between them, each stage after the job it starts from. A job with
// trainer.world_size = N > 1 (`--nproc N`) runs as N rank processes on this machine, unless a
// launcher (torchrun, srun) started this process as one of its ranks; `--launcher slurm` submits
// the jobs with sbatch instead (cli/slurm_launcher.h). Re-running the same command resumes. At
// the end the experiment's report is written (docs/experiments.md, docs/scaling.md).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <set>

#include "cli/commands.h"
#include "cli/experiment_jobs.h"
#include "cli/run_job.h"
#include "cli/slurm_launcher.h"
#include "config/config_error.h"
#include "config/toml_io.h"
#include "data/lm_data.h"
#include "dist/rendezvous.h"
#include "log/report.h"
#include "train/trainer_options.h"
#include "util/console.h"
#include "util/error.h"
#include "util/job_pool.h"
#include "util/process_tuning.h"
#include "util/strings.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;
namespace {

struct RunArguments {
  ConfigArguments config;
  bool dry_run = false;
  bool fresh = false;
  bool no_report = false;
  std::string out;
  std::size_t parallel = 0;        // 0: fit the cores
  std::size_t nproc = 0;           // 0: trainer.world_size as configured
  std::string launcher;            // "": launcher.name as configured
  std::optional<std::size_t> job;  // set in the child processes of the launcher
};

void dry_run(const RunArguments& arguments) {
  const ExperimentJobs experiment = load_experiment(arguments.config, arguments.out);
  const bool colour = console::stdout_is_tty();
  std::cout << console::styled(experiment.name, console::Style::kBold, colour) << ": "
            << experiment.jobs.size() << (experiment.jobs.size() == 1 ? " job" : " jobs") << " -> "
            << experiment.output.string() << "/\n";
  // Overrides every job shares are said once; each job lists only its own.
  std::vector<std::string> common = experiment.jobs.front().overrides;
  for (const auto& job : experiment.jobs) {
    std::erase_if(common, [&job](const std::string& text) {
      return std::find(job.overrides.begin(), job.overrides.end(), text) == job.overrides.end();
    });
  }
  if (!common.empty()) {
    std::cout << console::styled("  every job: " + join(common, " "), console::Style::kDim, colour)
              << '\n';
  }
  for (const auto& job : experiment.jobs) {
    std::cout << "  [" << job.index << "] " << job.name;
    if (!job.after.empty()) {
      std::vector<std::string> upstream;
      for (const std::size_t index : job.after)
        upstream.push_back(experiment.jobs[index].name);
      std::cout << "  (after " << join(upstream, ", ") << ")";
    }
    std::cout << '\n';
    std::vector<std::string> own;
    for (const auto& override_text : job.overrides) {
      if (std::find(common.begin(), common.end(), override_text) == common.end()) {
        own.push_back(override_text);
      }
    }
    if (!own.empty() && experiment.jobs.size() > 1) {
      std::cout << console::styled("      " + join(own, " "), console::Style::kDim, colour) << '\n';
    }
  }
}

// The command line of a child process that runs job `index` of the same experiment.
std::vector<std::string> child_command(const RunArguments& arguments, const stdfs::path& output,
                                       std::size_t index) {
  std::vector<std::string> argv{stdfs::read_symlink("/proc/self/exe").string(), "run",
                                arguments.config.file.string()};
  for (const auto& directory : arguments.config.config_dirs) {
    argv.push_back("--config-dir");
    argv.push_back(directory.string());
  }
  argv.push_back("--out");
  argv.push_back(output.string());
  argv.push_back("--job");
  argv.push_back(std::to_string(index));
  argv.push_back("--no-report");
  argv.push_back("--");
  for (const auto& override_text : arguments.config.overrides)
    argv.push_back(override_text);
  return argv;
}

void write_report(const stdfs::path& output) {
  try {
    const auto written = log::write_report(output);
    std::cout << '\n' << written.markdown_table << '\n';
    console::info("report: " + (output / "report.md").string());
  } catch (const Error& error) {
    console::error("the report could not be written: " + std::string(error.what()));
    throw;
  }
}

// Several jobs: child processes, `parallel` at a time.
void launch(const RunArguments& arguments, const ExperimentJobs& experiment) {
  const std::size_t total = experiment.jobs.size();
  std::vector<PoolTask> tasks;
  std::vector<std::size_t> task_of_job(total, total);  // completed jobs get no task
  std::vector<std::size_t> job_of_task;
  std::size_t already_done = 0;
  for (const auto& job : experiment.jobs) {
    const stdfs::path directory = experiment.output / config::job_directory_name(job);
    if (job_is_complete(experiment.configs[job.index].config, directory)) {
      ++already_done;
      continue;
    }
    task_of_job[job.index] = tasks.size();
    job_of_task.push_back(job.index);
    tasks.push_back({.name = job.name,
                     .argv = child_command(arguments, experiment.output, job.index),
                     .output = directory / "output.log",
                     .env = {},
                     .after = {}});
  }
  if (already_done > 0) {
    console::info(std::to_string(already_done) + " of " + std::to_string(total) +
                  " jobs already completed, skipped");
  }
  // Cores split evenly between the jobs that run at once (SSLX_THREADS, see resolve_threads).
  // A data-parallel job runs as trainer.world_size processes: by default as many jobs at once as
  // leave a core per rank; each job's share is split again between its ranks (run_ranks).
  const std::size_t cores = available_cores();
  std::size_t ranks = 1;
  for (const std::size_t job : job_of_task) {
    ranks = std::max<std::size_t>(
        ranks,
        static_cast<std::size_t>(experiment.configs[job].config.get_int("trainer.world_size")));
  }
  const std::size_t parallel = std::max<std::size_t>(
      1, std::min(tasks.size(), arguments.parallel > 0 ? arguments.parallel
                                                       : std::max<std::size_t>(1, cores / ranks)));
  const std::size_t threads = std::max<std::size_t>(1, cores / parallel);
  for (auto& task : tasks)
    task.env["SSLX_THREADS"] = std::to_string(threads);
  console::info(experiment.name + ": " + std::to_string(tasks.size()) + " jobs to run, " +
                std::to_string(parallel) + " at a time, " + std::to_string(threads) +
                (threads == 1 ? " thread" : " threads") + " each -> " + experiment.output.string() +
                "/");
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    const auto& job = experiment.jobs[job_of_task[t]];
    for (const std::size_t upstream : job.after) {
      if (task_of_job[upstream] < tasks.size()) tasks[t].after.push_back(task_of_job[upstream]);
    }
  }

  // The tokenizer and token shards, once per distinct [data] + [tokenizer] before the jobs
  // start: jobs running at once would otherwise each train the same tokenizer.
  std::set<std::string> prepared;
  for (const std::size_t job : job_of_task) {
    const config::Node& config = experiment.configs[job].config;
    const std::string key = config::to_toml_inline(config.at_path("data")) +
                            config::to_toml_inline(config.at_path("tokenizer"));
    if (prepared.insert(key).second) data::prepare_lm_data(config);
  }

  const auto start = std::chrono::steady_clock::now();
  std::size_t finished = already_done;
  double finished_seconds = 0;
  std::size_t timed = 0;
  const PoolOptions options{
      .max_parallel = parallel,
      .on_event = [&](const PoolEvent& event, const std::vector<TaskResult>& results) {
        const auto& job = experiment.jobs[job_of_task[event.task]];
        const stdfs::path directory = experiment.output / config::job_directory_name(job);
        if (event.status == TaskStatus::kRunning) {
          console::info("started  " + job.name + "  (log: " + (directory / "output.log").string() +
                        ")");
          return;
        }
        ++finished;
        const TaskResult& result = results[event.task];
        if (result.status == TaskStatus::kSucceeded) {
          finished_seconds += result.seconds;
          ++timed;
        }
        std::string line = "[" + std::to_string(finished) + "/" + std::to_string(total) + "] " +
                           to_string(result.status) + "  " + job.name;
        if (result.status == TaskStatus::kSucceeded || result.status == TaskStatus::kFailed) {
          line += " in " + format_duration(result.seconds);
        }
        const std::size_t remaining = total - finished;
        if (timed > 0 && remaining > 0) {
          const double eta = finished_seconds / static_cast<double>(timed) *
                             static_cast<double>(remaining) / static_cast<double>(parallel);
          line += "  ETA " + format_duration(eta);
        }
        if (result.status == TaskStatus::kFailed) {
          console::error(line + " (exit " + std::to_string(result.exit_code) +
                         "; log: " + (directory / "output.log").string() + ")");
        } else if (result.status == TaskStatus::kBlocked) {
          console::warning(line + " (" + result.blocked_by + " failed)");
        } else {
          console::info(line);
        }
      }};
  const auto results = run_pool(tasks, options);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::vector<std::string> failed;
  bool interrupted = false;
  std::size_t done = already_done;
  for (std::size_t t = 0; t < tasks.size(); ++t) {
    const auto& job = experiment.jobs[job_of_task[t]];
    const stdfs::path directory = experiment.output / config::job_directory_name(job);
    if (results[t].status == TaskStatus::kFailed) {
      failed.push_back(job.name + " (log: " + (directory / "output.log").string() + ")");
    } else if (results[t].status == TaskStatus::kBlocked) {
      failed.push_back(job.name + " (not run: " + results[t].blocked_by + " failed)");
    } else if (results[t].status == TaskStatus::kInterrupted) {
      interrupted = true;
    } else if (results[t].status == TaskStatus::kSucceeded) {
      ++done;
    }
  }
  console::info(experiment.name + ": " + std::to_string(done) + " of " + std::to_string(total) +
                " jobs done in " + format_duration(elapsed));
  if (interrupted) {
    console::info("interrupted; run the same command to resume");
    throw Interrupted();
  }
  if (!arguments.no_report && done > 0) write_report(experiment.output);
  if (!failed.empty()) {
    throw Error(std::to_string(failed.size()) + " of " + std::to_string(total) +
                " jobs failed:\n  " + join(failed, "\n  "));
  }
}

// Whether this process must start the ranks of a data-parallel job itself: the job asks for
// several and no launcher started this process as one of them.
bool starts_own_ranks(const config::Node& config) {
  const auto rendezvous = dist::rendezvous_from(dist::environment_variables());
  return config.get_int("trainer.world_size") > 1 && (!rendezvous || rendezvous->world_size == 1);
}

// Job `index` as trainer.world_size rank processes on this machine (each `sslx run ... --job I`
// with torchrun's variables): rank 0 writes to this process's output, rank r to
// output.rank<r>.log in the job directory. One rank failing stops the others.
void run_ranks(const RunArguments& arguments, const ExperimentJobs& experiment, std::size_t index) {
  const auto& job = experiment.jobs[index];
  const config::Node& config = experiment.configs[index].config;
  const stdfs::path directory = experiment.output / config::job_directory_name(job);
  const int world = static_cast<int>(config.get_int("trainer.world_size"));
  // The tokenizer and token shards once, before the ranks start (each would prepare them).
  data::prepare_lm_data(config);
  const dist::Rendezvous rendezvous{.rank = 0,
                                    .world_size = world,
                                    .local_rank = 0,
                                    .master_addr = "127.0.0.1",
                                    .master_port = dist::free_local_port(),
                                    .source = "sslx run"};
  // The cores this job may use, split between its ranks (trainer.threads, when set, wins).
  const std::int64_t threads =
      std::max<std::int64_t>(1, train::resolve_threads(0) / static_cast<std::int64_t>(world));
  std::vector<PoolTask> tasks;
  for (int rank = 0; rank < world; ++rank) {
    PoolTask task{.name = "rank " + std::to_string(rank),
                  .argv = child_command(arguments, experiment.output, index),
                  .output = rank == 0 ? stdfs::path()
                                      : directory / ("output.rank" + std::to_string(rank) + ".log"),
                  .env = dist::rank_environment(rendezvous, rank),
                  .after = {}};
    task.env["SSLX_THREADS"] = std::to_string(threads);
    tasks.push_back(std::move(task));
  }
  stdfs::create_directories(directory);
  console::info(job.name + ": " + std::to_string(world) + " ranks on this machine (127.0.0.1:" +
                std::to_string(rendezvous.master_port) + "), " + std::to_string(threads) +
                (threads == 1 ? " thread" : " threads") + " each; " +
                (world == 2 ? "rank 1 writes to " + (directory / "output.rank1.log").string()
                            : "ranks 1-" + std::to_string(world - 1) + " write to " +
                                  (directory / "output.rank<N>.log").string()));
  // The cause is the first rank to fail for a reason of its own: a rank whose collective failed
  // because another one died exits with ExitCode::kPeerFailed, and the others then have a few
  // seconds to end (and name their own cause) before the pool kills them.
  std::vector<std::size_t> failures;
  const auto results =
      run_pool(tasks, {.max_parallel = static_cast<std::size_t>(world),
                       .stop_all_on_failure = true,
                       .peer_failure_exit_code = static_cast<int>(ExitCode::kPeerFailed),
                       .on_event = [&](const PoolEvent& event, const std::vector<TaskResult>&) {
                         if (event.status == TaskStatus::kFailed) failures.push_back(event.task);
                       }});
  if (!failures.empty()) {
    const auto own_reason = std::find_if(failures.begin(), failures.end(), [&](std::size_t t) {
      return results[t].exit_code != static_cast<int>(ExitCode::kPeerFailed);
    });
    const std::size_t rank = own_reason != failures.end() ? *own_reason : failures.front();
    const TaskResult& result = results[rank];
    const int signal = result.exit_code > 128 ? result.exit_code - 128 : 0;
    throw Error(job.name + ": rank " + std::to_string(rank) + " of " + std::to_string(world) +
                    " failed (" +
                    (signal > 0 ? "killed by signal " + std::to_string(signal)
                                : "exit " + std::to_string(result.exit_code)) +
                    (rank == 0 ? std::string() : "; its output: " + tasks[rank].output.string()) +
                    "); the other ranks were stopped",
                "its output names the cause; run the same command to resume from the latest "
                "checkpoint");
  }
  const bool interrupted = std::any_of(results.begin(), results.end(), [](const TaskResult& r) {
    return r.status == TaskStatus::kInterrupted;
  });
  if (interrupted) throw Interrupted();
}

// One job in this process, or as its ranks.
void run_one_job(const RunArguments& arguments, const ExperimentJobs& experiment,
                 std::size_t index) {
  const auto& job = experiment.jobs[index];
  if (starts_own_ranks(experiment.configs[index].config)) {
    run_ranks(arguments, experiment, index);
    return;
  }
  if (run_job(experiment.configs[index], job, experiment.output / config::job_directory_name(job),
              false) == JobOutcome::kInterrupted) {
    throw Interrupted();
  }
}

void run(const RunArguments& arguments) {
  tune_process_for_compute();  // may re-exec this process: before any work
  const ExperimentJobs experiment = load_experiment(arguments.config, arguments.out);
  if (arguments.job) {  // a child process of the launcher
    const std::size_t index = *arguments.job;
    if (index >= experiment.jobs.size()) {
      throw Error("--job " + std::to_string(index) + ": the experiment has " +
                  std::to_string(experiment.jobs.size()) + " jobs");
    }
    run_one_job(arguments, experiment, index);
    return;
  }
  if (const auto rendezvous = dist::rendezvous_from(dist::environment_variables());
      rendezvous && rendezvous->world_size > 1 && experiment.jobs.size() > 1) {
    throw Error("this process was started as rank " + std::to_string(rendezvous->rank) + " of " +
                    std::to_string(rendezvous->world_size) + " (" + rendezvous->source +
                    " environment), but " + arguments.config.file.string() + " has " +
                    std::to_string(experiment.jobs.size()) + " jobs",
                "under torchrun or srun, run an experiment of one job; or let `sslx run` start "
                "the ranks of every job (--nproc N)");
  }
  if (arguments.fresh) {
    for (const auto& job : experiment.jobs)
      clear_job_directory(experiment.output / config::job_directory_name(job));
  }
  if (uses_slurm(experiment.configs.front().config)) {
    submit_to_slurm(
        experiment,
        [&](std::size_t index) { return child_command(arguments, experiment.output, index); },
        !arguments.no_report);
    return;
  }
  if (experiment.jobs.size() == 1) {
    // One job: in this process, with its progress line on the terminal.
    const auto& job = experiment.jobs.front();
    const stdfs::path directory = experiment.output / config::job_directory_name(job);
    console::info(experiment.name + ": 1 job -> " + directory.string());
    run_one_job(arguments, experiment, 0);
    if (!arguments.no_report &&
        dist::rendezvous_from(dist::environment_variables()).value_or(dist::Rendezvous{}).rank ==
            0) {
      write_report(experiment.output);
    }
    return;
  }
  launch(arguments, experiment);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* run_command =
      app.add_subcommand("run", "Run an experiment: every job of FILE with overrides");
  auto arguments = std::make_shared<RunArguments>();
  add_config_arguments(*run_command, arguments->config,
                       "overrides (a.b=v, +a.b=v, ~a.b, group=option) and sweeps "
                       "(k=a,b,c  k=range(0,10,2)  k=choice(a,b))");
  run_command->add_flag("--dry-run", arguments->dry_run,
                        "list every composed job and check its config without running anything");
  run_command->add_option("--out", arguments->out, "output directory (default: runs/<experiment>)");
  run_command->add_flag("--fresh", arguments->fresh,
                        "delete existing job directories and start over instead of resuming");
  run_command
      ->add_option(
          "-j,--jobs", arguments->parallel,
          "jobs to run at a time (default: one per core, or per world_size cores; cores split "
          "between them)")
      ->check(CLI::PositiveNumber);
  run_command
      ->add_option("--nproc", arguments->nproc,
                   "data-parallel ranks per job on this machine (sets trainer.world_size)")
      ->check(CLI::PositiveNumber);
  run_command
      ->add_option("--launcher", arguments->launcher,
                   "how jobs start: local (child processes) or slurm (sbatch; sets launcher.name)")
      ->check(CLI::IsMember({"local", "slurm"}));
  run_command->add_flag("--no-report", arguments->no_report,
                        "do not write the experiment's report at the end");
  // The launcher's child processes run one job each; not for people.
  run_command->add_option("--job", arguments->job, "run only job I of the experiment")->group("");
  run_command->callback([arguments] {
    if (arguments->nproc > 0) {
      arguments->config.overrides.push_back("trainer.world_size=" +
                                            std::to_string(arguments->nproc));
      arguments->nproc = 0;  // once: the callback's arguments outlive it
    }
    if (!arguments->launcher.empty()) {
      arguments->config.overrides.push_back("launcher.name=" + arguments->launcher);
      arguments->launcher.clear();
    }
    if (arguments->dry_run) {
      dry_run(*arguments);
    } else {
      run(*arguments);
    }
  });
}

}  // namespace sslx::cli
