// `launcher = "slurm"` ([launcher] name, or `sslx run --launcher slurm`; the section's schema is
// registered with the other root keys in builtins.cpp): instead of running the
// jobs as local processes, `sslx run` writes one batch script per job into its directory
// (slurm.sbatch), submits it with sbatch (stages with --dependency=afterok on the jobs they start
// from), records the Slurm job id (slurm_job_id) and returns; a last batch job writes the report
// once every job has ended. Each job asks for trainer.world_size tasks and runs `sslx run FILE
// --job I`: on one node directly (sslx starts the ranks, as with --nproc, and the batch shell
// passes signals on), across nodes under srun (each task one rank). Running the same command again submits
// only the jobs that are neither completed nor queued or running. On SIGUSR1 (sent
// `signal_seconds` before the time limit, or by `scancel --signal=USR1`) or SIGTERM (preemption)
// the job checkpoints, requeues itself with `scontrol requeue`, and resumes when it starts again.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cli/experiment_jobs.h"
#include "config/node.h"

namespace sslx::cli {

// Whether the jobs of `config` go to Slurm (launcher.name = "slurm").
bool uses_slurm(const config::Node& config);

// What one batch job asks Slurm for, from [launcher] and trainer.world_size.
struct SlurmResources {
  std::int64_t nodes = 1;
  std::int64_t tasks = 1;          // the job's data-parallel ranks
  std::int64_t cpus_per_task = 0;  // 0: Slurm's default
  std::int64_t gpus_per_node = 0;
  std::string time;  // "" : the partition's default limit
  std::string partition;
  std::string account;
  std::int64_t signal_seconds = 120;        // SIGUSR1 this long before the time limit
  std::vector<std::string> sbatch_options;  // more #SBATCH lines, e.g. "--qos=high"
};
SlurmResources slurm_resources(const config::Node& config);

struct BatchJob {
  std::string name;                         // --job-name
  std::filesystem::path output_log;         // --output (appended across restarts)
  std::filesystem::path working_directory;  // --chdir
  SlurmResources resources;
  std::vector<std::string> command;  // run by srun on every task
  std::vector<std::string> after;    // Slurm job ids that must succeed first
  bool requeue_on_interrupt = true;  // exit code 130 (checkpointed after a signal): requeue
};

// The batch script of `job` (a pure function of it: tested without Slurm).
std::string batch_script(const BatchJob& job);

// The state Slurm reports for a job id: PENDING, RUNNING, COMPLETED, FAILED, ... (squeue, then
// scontrol for jobs that left the queue), or "" when Slurm no longer knows it.
std::string slurm_job_state(const std::string& job_id);

// Submits every job of `experiment` that is not completed, queued or running, then a report
// job. `command_of(i)` is the command line that runs job i in one process (or as one rank).
void submit_to_slurm(const ExperimentJobs& experiment,
                     const std::function<std::vector<std::string>(std::size_t)>& command_of,
                     bool report);

}  // namespace sslx::cli
