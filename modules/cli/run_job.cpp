#include "cli/run_job.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <torch/utils.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "config/flatten.h"
#include "config/toml_io.h"
#include "data/lm_data.h"
#include "dist/process_group.h"
#include "eval/evaluator.h"
#include "log/run_log.h"
#include "objectives/objective_registry.h"
#include "train/schedule_registry.h"
#include "train/trainer.h"
#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::cli {
namespace stdfs = std::filesystem;

std::vector<std::string> config_differences(const config::Node& before, const config::Node& after) {
  const std::map<std::string, std::string> a = config::flatten_leaves(before);
  const std::map<std::string, std::string> b = config::flatten_leaves(after);
  std::vector<std::string> differences;
  // [launcher] says how a job is started, not what it computes.
  const auto how_started = [](const std::string& key) { return starts_with(key, "launcher."); };
  for (const auto& [key, value] : a) {
    if (how_started(key)) continue;
    const auto it = b.find(key);
    if (it == b.end()) {
      differences.push_back(key + ": " + value + " -> (absent)");
    } else if (it->second != value) {
      differences.push_back(key + ": " + value + " -> " + it->second);
    }
  }
  for (const auto& [key, value] : b) {
    if (how_started(key)) continue;
    if (a.count(key) == 0) differences.push_back(key + ": (absent) -> " + value);
  }
  return differences;
}

bool job_is_complete(const config::Node& config, const stdfs::path& directory) {
  const stdfs::path config_file = directory / "config.toml";
  if (!stdfs::is_regular_file(config_file)) return false;
  const config::Node previous = config::load_toml_file(config_file);
  const auto differences = config_differences(previous, config);
  if (!differences.empty()) {
    throw Error(
        directory.string() + " holds a run with another config:\n  " + join(differences, "\n  "),
        "use another --out directory, or --fresh to delete the old run");
  }
  if (!stdfs::is_regular_file(directory / "log.h5")) return false;
  try {
    const log::RunLogReader reader(directory / "log.h5");
    return reader.status() == log::RunStatus::kCompleted &&
           reader.attribute("eval_status") == "completed";
  } catch (const Error&) {
    return false;  // an unreadable log: the job's run restores it from its latest checkpoint
  }
}

namespace {

// <dir>/running.pid, holding the pid of the process that runs the job and an exclusive flock()
// on it: a second `sslx run` on the same job directory is refused (two writers would corrupt
// log.h5), and `sslx status` tells a running job from one that was killed. The kernel drops the
// lock when its holder dies however it dies, so a file left by a killed run is no obstacle.
class JobLock {
 public:
  explicit JobLock(stdfs::path path) : path_(std::move(path)) {
    for (;;) {
      fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd_ < 0) throw IoError("cannot open " + path_.string() + ": " + std::strerror(errno));
      if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const std::string holder = trim(read_all());
        ::close(fd_);
        throw Error(path_.parent_path().string() + " is in use by another sslx run" +
                        (holder.empty() ? std::string() : " (pid " + holder + ")"),
                    "wait for it to finish, or stop it (Ctrl-C, or kill " +
                        (holder.empty() ? std::string("its process") : holder) +
                        ") and run again to resume");
      }
      // A holder that finished between our open() and flock() removed the file: our lock is on
      // an inode no one else will look at. Start over on the path's current file.
      struct stat opened {
      }, named{};
      if (::fstat(fd_, &opened) == 0 && ::stat(path_.c_str(), &named) == 0 &&
          opened.st_ino == named.st_ino && opened.st_dev == named.st_dev)
        break;
      ::close(fd_);
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) < 0) {
      ::close(fd_);
      throw IoError("cannot write " + path_.string() + ": " + std::strerror(errno));
    }
  }
  ~JobLock() {
    ::unlink(path_.c_str());  // before the lock is released: see the inode check above
    ::close(fd_);
  }
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;

 private:
  std::string read_all() const {
    char buffer[64] = {};
    const ssize_t n = ::pread(fd_, buffer, sizeof buffer - 1, 0);
    return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
  }

  stdfs::path path_;
  int fd_ = -1;
};

void remove_all_but_lock(const stdfs::path& directory) {
  for (const auto& entry : stdfs::directory_iterator(directory)) {
    if (entry.path().filename() != "running.pid") stdfs::remove_all(entry.path());
  }
}

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.4g", value);
  return buffer;
}

JobOutcome train_job(const config::Node& config, const std::string& config_text,
                     const stdfs::path& directory) {
  const auto seed = static_cast<std::uint64_t>(config.get_int("seed"));
  torch::manual_seed(seed);  // model initialisation and dropout
  const data::LmData data = data::prepare_lm_data(config);
  const train::TrainerOptions trainer_options =
      train::trainer_options_from(config.at_path("trainer"));
  const objectives::ObjectiveContext context{.model = config.at_path("model"),
                                             .tokenizer = *data.tokenizer,
                                             .corpus = data.corpus,
                                             .trainer = trainer_options,
                                             .seed = seed};
  auto objective = objectives::objective_registry().create(config.at_path("objective"), context);
  // Every rank built the same model from the seed; dropout then draws its own masks per rank.
  if (const int rank = dist::world().rank; rank > 0)
    torch::manual_seed(seed + 0x9E3779B97F4A7C15ULL * static_cast<std::uint64_t>(rank));
  train::Trainer trainer(
      *objective, trainer_options, train::optimizer_options_from(config.at_path("optimizer")),
      train::schedule_registry().create(config.at_path("schedule")),
      {.log = directory / "log.h5", .checkpoints = directory / "checkpoints"}, config_text);
  if (trainer.run() == train::RunOutcome::kInterrupted) {
    console::info(directory.string() + ": interrupted at step " +
                  std::to_string(trainer.state().step) + "; run the same command to resume");
    return JobOutcome::kInterrupted;
  }
  return JobOutcome::kCompleted;
}

// The evaluators of [eval] on the trained model; their results go into log.h5 (/eval).
void evaluate_job(const config::Node& config, const stdfs::path& directory) {
  std::string note;
  const stdfs::path checkpoint =
      eval::find_checkpoint(directory / "checkpoints", config.get_string("eval.checkpoint"), note);
  const config::Node& tasks = config.at_path("eval.tasks");
  if (!tasks.as_array().empty()) {
    console::info("evaluating " + checkpoint.string() + (note.empty() ? "" : " (" + note + ")"));
  }
  eval::EvalResults results = eval::run_evaluators(config, checkpoint, {}, directory);
  if (!note.empty()) results.texts["eval/checkpoint"] = note;
  for (const auto& [name, value] : results.scalars) {
    if (name.find("/seconds") == std::string::npos)
      console::info("  " + name + " = " + format_number(value));
  }
  for (const auto& [name, text] : results.texts) {
    if (name.size() > 8 && name.compare(name.size() - 8, 8, "/skipped") == 0) {
      console::warning(name + ": " + text);
    }
  }
  log::write_evaluation(directory / "log.h5", results.scalars, results.texts);
}

std::string job_toml(const config::PlannedJob& job) {
  config::Node node;
  node.set("index", config::Node(static_cast<std::int64_t>(job.index)));
  node.set("name", config::Node(job.name));
  node.set("variant", config::Node(job.variant));
  node.set("group", config::Node(job.group));
  if (job.seed) node.set("seed", config::Node(*job.seed));
  config::Array axes;
  for (const auto& assignment : job.axis_overrides)
    axes.emplace_back(assignment);
  node.set("axes", config::Node(std::move(axes)));
  return "# Written by `sslx run`: what this job is within its experiment (reports group by "
         "it).\n" +
         config::to_toml(node);
}

}  // namespace

void clear_job_directory(const stdfs::path& directory) {
  if (!stdfs::exists(directory)) return;
  {
    const JobLock lock(directory / "running.pid");
    remove_all_but_lock(directory);
  }
  stdfs::remove_all(directory);
}

namespace {

// Joins the job's data-parallel group when trainer.world_size > 1; leaves it on return.
class WorldMembership {
 public:
  explicit WorldMembership(const config::Node& config) {
    const std::int64_t world_size = config.get_int("trainer.world_size");
    const auto rendezvous = dist::rendezvous_from(dist::environment_variables());
    const int started_as = rendezvous ? rendezvous->world_size : 1;
    if (started_as != world_size) {
      throw Error("trainer.world_size = " + std::to_string(world_size) +
                      ", but this process was started as " +
                      (rendezvous ? "rank " + std::to_string(rendezvous->rank) + " of " +
                                        std::to_string(started_as) + " (" + rendezvous->source +
                                        " environment)"
                                  : std::string("a single process")),
                  "let `sslx run` start the ranks (--nproc N), or start as many ranks as "
                  "trainer.world_size says");
    }
    if (world_size == 1) return;
    dist::init_world(std::chrono::milliseconds(
        static_cast<std::int64_t>(config.get_float("trainer.collective_timeout") * 1000)));
    joined_ = true;
  }
  ~WorldMembership() {
    if (joined_) dist::shutdown_world();
  }
  WorldMembership(const WorldMembership&) = delete;
  WorldMembership& operator=(const WorldMembership&) = delete;

 private:
  bool joined_ = false;
};

constexpr const char* kTrainDecision = "job/train";

}  // namespace

JobOutcome run_job(const config::Resolved& resolved, const config::PlannedJob& job,
                   const stdfs::path& directory, bool fresh) {
  const WorldMembership membership(resolved.config);
  const config::Node& config = resolved.config;
  const std::string config_text = config::to_toml(config);
  dist::ProcessGroup* group = dist::world_group();
  if (group != nullptr && group->rank() > 0) {
    // Rank 0 owns the job directory (lock, files, log, checkpoints, evaluation); the others
    // train beside it when it says the job needs training.
    if (group->store_get(kTrainDecision) != "yes") return JobOutcome::kSkipped;
    return train_job(config, config_text, directory);
  }
  // The other ranks wait for this answer: they get one even when rank 0 fails before training.
  bool told = false;
  const auto tell_ranks = [&](bool train) {
    if (group != nullptr && !told) group->store_set(kTrainDecision, train ? "yes" : "no");
    told = true;
  };
  try {
    stdfs::create_directories(directory);
    const JobLock lock(directory / "running.pid");
    if (fresh) remove_all_but_lock(directory);
    if (job_is_complete(config, directory)) {
      tell_ranks(false);
      console::info(directory.string() + ": completed, skipped");
      return JobOutcome::kSkipped;
    }
    fs::write_text_atomic(directory / "config.toml", config_text);
    fs::write_text_atomic(directory / "job.toml", job_toml(job));
    fs::write_text_atomic(directory / "overrides.txt", join(resolved.overrides, "\n") + "\n");
    fs::write_text_atomic(directory / "defaults_tree.txt",
                          config::render_defaults_tree(resolved.defaults_tree));

    const stdfs::path log_path = directory / "log.h5";
    bool trained = false;
    try {
      trained = stdfs::is_regular_file(log_path) &&
                log::RunLogReader(log_path).status() == log::RunStatus::kCompleted;
    } catch (const Error&) {
      // Unreadable: training restores the log from its latest checkpoint.
    }
    // The tokenizer and token shards once, before the other ranks read them (under srun or
    // torchrun nothing prepared them before the ranks started).
    if (group != nullptr && !trained) data::prepare_lm_data(config);
    tell_ranks(!trained);
    if (!trained && train_job(config, config_text, directory) == JobOutcome::kInterrupted) {
      return JobOutcome::kInterrupted;
    }
    evaluate_job(config, directory);
    return JobOutcome::kCompleted;
  } catch (...) {
    try {
      tell_ranks(false);
    } catch (const std::exception&) {
      // The error that stopped rank 0 is the one to report.
    }
    throw;
  }
}

}  // namespace sslx::cli
