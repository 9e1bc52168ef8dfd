#include "cli/slurm_launcher.h"

#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "cli/run_job.h"
#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"
#include "util/subprocess.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;

namespace {

// Slurm states of a job that will still run (or runs): such a job is not submitted again.
const std::set<std::string> kLiveStates = {"PENDING",    "RUNNING",   "REQUEUED",     "CONFIGURING",
                                           "COMPLETING", "SUSPENDED", "REQUEUE_HOLD", "REQUEUE_FED",
                                           "RESIZING",   "SIGNALING", "STAGE_OUT"};

// One shell word: single quotes, with each ' written as '\''.
std::string quoted(const std::string& word) {
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string command_line(const std::vector<std::string>& argv) {
  std::vector<std::string> words;
  for (const auto& word : argv)
    words.push_back(quoted(word));
  return join(words, " ");
}

// A value on an #SBATCH line must be one word: Slurm does not parse shell quotes there.
std::string sbatch_value(const std::string& key, const std::string& value) {
  if (value.find_first_of(" \t\n'\"") != std::string::npos) {
    throw Error("launcher: " + key + " = \"" + value + "\" cannot be written on an #SBATCH line",
                "use a value without spaces or quotes");
  }
  return value;
}

std::string submit(const stdfs::path& script) {
  const ProgramOutput result = run_program({"sbatch", "--parsable", script.string()});
  if (result.exit_code != 0) {
    throw Error("sbatch " + script.string() + " failed (exit " + std::to_string(result.exit_code) +
                    "): " + trim(result.err),
                result.exit_code == 127
                    ? "Slurm's client commands (sbatch, squeue, scontrol) must be on PATH"
                    : "check [launcher] (partition, account, time) against `sinfo`");
  }
  // --parsable prints "<id>" or "<id>;<cluster>".
  const std::string id = trim(split(trim(result.out), ';').front());
  if (id.empty() || id.find_first_not_of("0123456789_") != std::string::npos) {
    throw Error("sbatch " + script.string() + " printed no job id: " + result.out);
  }
  return id;
}

}  // namespace

bool uses_slurm(const config::Node& config) {
  return config.get_string("launcher.name") == "slurm";
}

SlurmResources slurm_resources(const config::Node& config) {
  const config::Node& l = config.at_path("launcher");
  SlurmResources r{.nodes = l.get_int("nodes"),
                   .tasks = config.get_int("trainer.world_size"),
                   .cpus_per_task = l.get_int("cpus_per_task"),
                   .gpus_per_node = l.get_int("gpus_per_node"),
                   .time = sbatch_value("time", l.get_string("time")),
                   .partition = sbatch_value("partition", l.get_string("partition")),
                   .account = sbatch_value("account", l.get_string("account")),
                   .signal_seconds = l.get_int("signal_seconds"),
                   .sbatch_options = {}};
  for (const auto& option : l.at_path("sbatch_options").as_array())
    r.sbatch_options.push_back(option.as_string());
  return r;
}

std::string batch_script(const BatchJob& job) {
  const SlurmResources& r = job.resources;
  // On one node sslx starts the job's ranks itself (as with --nproc), so the signals go to this
  // shell ("B:"), which passes them on; across nodes srun's tasks are the ranks.
  const bool one_node = r.nodes == 1;
  std::string s = "#!/bin/bash\n";
  s += "# Written by `sslx run` (launcher = \"slurm\"). Submitted again by the same command when "
       "the job\n# is neither completed nor queued; the job resumes from its latest "
       "checkpoint.\n";
  s += "#SBATCH --job-name=" + sbatch_value("job name", job.name) + "\n";
  s += "#SBATCH --output=" + sbatch_value("output", job.output_log.string()) + "\n";
  s += "#SBATCH --open-mode=append\n";
  s += "#SBATCH --chdir=" + sbatch_value("chdir", job.working_directory.string()) + "\n";
  s += "#SBATCH --nodes=" + std::to_string(r.nodes) + "\n";
  s += "#SBATCH --ntasks=" + std::to_string(r.tasks) + "\n";
  if (r.cpus_per_task > 0) s += "#SBATCH --cpus-per-task=" + std::to_string(r.cpus_per_task) + "\n";
  if (r.gpus_per_node > 0) s += "#SBATCH --gpus-per-node=" + std::to_string(r.gpus_per_node) + "\n";
  if (!r.time.empty()) s += "#SBATCH --time=" + r.time + "\n";
  if (!r.partition.empty()) s += "#SBATCH --partition=" + r.partition + "\n";
  if (!r.account.empty()) s += "#SBATCH --account=" + r.account + "\n";
  if (!job.after.empty()) {
    s += "#SBATCH --dependency=afterok:" + join(job.after, ":") + "\n";
    s += "#SBATCH --kill-on-invalid-dep=yes\n";  // a failed upstream job cancels this one
  }
  if (job.requeue_on_interrupt) {
    s += "#SBATCH --requeue\n";
    if (r.signal_seconds > 0) {
      s += "#SBATCH --signal=" + std::string(one_node ? "B:" : "") + "USR1@" +
           std::to_string(r.signal_seconds) + "\n";
    }
  }
  for (const auto& option : r.sbatch_options)
    s += "#SBATCH " + sbatch_value("sbatch_options", option) + "\n";
  s += "\n";
  s += "echo \"sslx: slurm job $SLURM_JOB_ID on $SLURM_JOB_NODELIST, start "
       "$((${SLURM_RESTART_COUNT:-0} + 1))\"\n";
  if (one_node) {
    // Without SLURM_PROCID sslx does not take itself for one of srun's tasks: it starts
    // trainer.world_size ranks and splits the job's cores between them.
    s += "unset SLURM_PROCID SLURM_LOCALID\n";
    s += "export SSLX_THREADS=$(( ${SLURM_CPUS_PER_TASK:-1} * " + std::to_string(r.tasks) + " ))\n";
    s += command_line(job.command) + " &\n";
    s += "child=$!\n";
    if (job.requeue_on_interrupt) {
      s += "# SIGUSR1 (before the time limit) and SIGTERM (preemption): sslx checkpoints and "
           "exits with 130.\n";
      s += "trap 'kill -s USR1 \"$child\" 2>/dev/null' USR1\n";
      s += "trap 'kill -s TERM \"$child\" 2>/dev/null' TERM\n";
    }
    // `wait` returns early when a trapped signal arrives: wait again until sslx has exited.
    s += "wait \"$child\"\nstatus=$?\n";
    s += "while kill -0 \"$child\" 2>/dev/null; do\n  wait \"$child\"\n  status=$?\ndone\n";
  } else {
    s += "# The ranks (srun's tasks) meet on the first node, on a port derived from the job id.\n";
    s += "export MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\n";
    s += "export MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000))\n";
    s += "export SSLX_THREADS=${SLURM_CPUS_PER_TASK:-1}\n";
    s += "srun --kill-on-bad-exit=1 " + command_line(job.command) + "\n";
    s += "status=$?\n";
  }
  if (job.requeue_on_interrupt) {
    s += "if [ \"$status\" -eq 130 ]; then\n";
    s += "  echo \"sslx: stopped by a signal after its checkpoint; requeueing slurm job "
         "$SLURM_JOB_ID\"\n";
    s += "  scontrol requeue \"$SLURM_JOB_ID\"\n";
    s += "fi\n";
  }
  s += "exit \"$status\"\n";
  return s;
}

std::string slurm_job_state(const std::string& job_id) {
  const ProgramOutput queued = run_program({"squeue", "-h", "-j", job_id, "-o", "%T"});
  if (queued.exit_code == 0 && !trim(queued.out).empty()) return trim(queued.out);
  // Gone from the queue: scontrol still knows it for MinJobAge (sacct would need slurmdbd).
  const ProgramOutput shown = run_program({"scontrol", "-o", "show", "job", job_id});
  if (shown.exit_code == 0) {
    for (const auto& field : split(trim(shown.out), ' ')) {
      if (starts_with(field, "JobState=")) return field.substr(9);
    }
  }
  return "";
}

void submit_to_slurm(const ExperimentJobs& experiment,
                     const std::function<std::vector<std::string>(std::size_t)>& command_of,
                     bool report) {
  const stdfs::path output = stdfs::absolute(experiment.output);
  const std::size_t total = experiment.jobs.size();
  std::vector<std::string> slurm_id(total);  // of each job that will run, "" otherwise
  std::size_t completed = 0, live = 0, submitted = 0;
  for (const auto& job : experiment.jobs) {
    const config::Node& config = experiment.configs[job.index].config;
    const stdfs::path directory = output / config::job_directory_name(job);
    if (job_is_complete(config, directory)) {
      ++completed;
      continue;
    }
    const stdfs::path id_file = directory / "slurm_job_id";
    if (stdfs::is_regular_file(id_file)) {
      const std::string id = trim(fs::read_text(id_file));
      const std::string state = slurm_job_state(id);
      if (kLiveStates.count(state) > 0) {
        console::info(job.name + ": slurm job " + id + " is " + state + ", not submitted again");
        slurm_id[job.index] = id;
        ++live;
        continue;
      }
    }
    BatchJob batch{.name = experiment.name + "/" + job.name,
                   .output_log = directory / "output.log",
                   .working_directory = stdfs::current_path(),
                   .resources = slurm_resources(config),
                   .command = command_of(job.index),
                   .after = {},
                   .requeue_on_interrupt = true};
    for (const std::size_t upstream : job.after) {
      if (!slurm_id[upstream].empty()) batch.after.push_back(slurm_id[upstream]);
    }
    stdfs::create_directories(directory);
    const stdfs::path script = directory / "slurm.sbatch";
    fs::write_text_atomic(script, batch_script(batch));
    const std::string id = submit(script);
    fs::write_text_atomic(id_file, id + "\n");
    slurm_id[job.index] = id;
    ++submitted;
    console::info("submitted " + job.name + ": slurm job " + id +
                  (batch.after.empty() ? "" : " (after " + join(batch.after, ", ") + ")") +
                  "  (log: " + batch.output_log.string() + ")");
  }
  console::info(experiment.name + ": " + std::to_string(submitted) + " submitted, " +
                std::to_string(live) + " already queued or running, " + std::to_string(completed) +
                " completed, of " + std::to_string(total) + " jobs");
  if (!report) return;
  std::vector<std::string> pending;
  for (const auto& id : slurm_id) {
    if (!id.empty()) pending.push_back(id);
  }
  // The report once every job has ended, whether or not each succeeded (afterany).
  const std::string self = stdfs::read_symlink("/proc/self/exe").string();
  std::string script =
      "#!/bin/bash\n# Written by `sslx run` (launcher = \"slurm\"): the report "
      "once every job has ended.\n";
  script += "#SBATCH --job-name=" + sbatch_value("job name", experiment.name + "/report") + "\n";
  script += "#SBATCH --output=" + sbatch_value("output", (output / "report.log").string()) + "\n";
  script += "#SBATCH --open-mode=append\n#SBATCH --ntasks=1\n";
  script += "#SBATCH --chdir=" + sbatch_value("chdir", stdfs::current_path().string()) + "\n";
  const SlurmResources resources = slurm_resources(experiment.configs.front().config);
  if (!resources.partition.empty()) script += "#SBATCH --partition=" + resources.partition + "\n";
  if (!resources.account.empty()) script += "#SBATCH --account=" + resources.account + "\n";
  if (!pending.empty()) script += "#SBATCH --dependency=afterany:" + join(pending, ":") + "\n";
  script += command_line({self, "report", output.string()}) + "\n";
  stdfs::create_directories(output);
  const stdfs::path report_script = output / "report.sbatch";
  fs::write_text_atomic(report_script, script);
  const std::string id = submit(report_script);
  fs::write_text_atomic(output / "report_slurm_job_id", id + "\n");
  console::info("submitted the report: slurm job " + id + " (" + (output / "report.md").string() +
                " when every job has ended); `sslx status " + output.string() + "` shows the jobs");
}

}  // namespace sslx::cli
