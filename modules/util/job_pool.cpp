#include "util/job_pool.h"

#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "util/error.h"

extern char** environ;

namespace sslx {
namespace {

std::atomic<int> pending_interrupts{0};
std::atomic<int> pending_terminates{0};
std::atomic<int> pending_user1{0};  // SIGUSR1: Slurm's warning before a job's time limit

extern "C" void on_pool_signal(int signal) {
  (signal == SIGTERM   ? pending_terminates
   : signal == SIGUSR1 ? pending_user1
                       : pending_interrupts)
      .fetch_add(1);
}

// Installs the pool's handlers for its lifetime and restores the previous ones.
class SignalForwarding {
 public:
  SignalForwarding() {
    pending_interrupts = 0;
    pending_terminates = 0;
    pending_user1 = 0;
    struct sigaction action {};
    action.sa_handler = on_pool_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous_int_);
    sigaction(SIGTERM, &action, &previous_term_);
    sigaction(SIGUSR1, &action, &previous_usr1_);
  }
  ~SignalForwarding() {
    sigaction(SIGINT, &previous_int_, nullptr);
    sigaction(SIGTERM, &previous_term_, nullptr);
    sigaction(SIGUSR1, &previous_usr1_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction previous_int_ {};
  struct sigaction previous_term_ {};
  struct sigaction previous_usr1_ {};
};

void check_dependencies(const std::vector<PoolTask>& tasks) {
  // 0 unvisited, 1 on the current path, 2 done.
  std::vector<int> state(tasks.size(), 0);
  std::function<void(std::size_t)> visit = [&](std::size_t index) {
    state[index] = 1;
    for (const std::size_t dependency : tasks[index].after) {
      if (dependency >= tasks.size()) {
        throw Error("task " + tasks[index].name + " depends on task " + std::to_string(dependency) +
                    " of " + std::to_string(tasks.size()));
      }
      if (state[dependency] == 1) {
        throw Error("tasks " + tasks[index].name + " and " + tasks[dependency].name +
                    " depend on each other");
      }
      if (state[dependency] == 0) visit(dependency);
    }
    state[index] = 2;
  };
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (state[i] == 0) visit(i);
  }
}

std::vector<std::string> environment_with(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> entries;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string text = *entry;
    const std::string key = text.substr(0, text.find('='));
    if (extra.count(key) == 0) entries.push_back(text);
  }
  for (const auto& [key, value] : extra)
    entries.push_back(key + "=" + value);
  return entries;
}

pid_t spawn(const PoolTask& task) {
  if (task.argv.empty()) throw Error("task " + task.name + " has no command");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!task.output.empty()) {
    std::filesystem::create_directories(task.output.parent_path());
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, task.output.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // A process group of its own (terminal signals reach the pool only), default signal handling.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGUSR1);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (const auto& argument : task.argv)
    argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  const auto environment = environment_with(task.env);
  std::vector<char*> envp;
  for (const auto& entry : environment)
    envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int status =
      posix_spawn(&pid, task.argv[0].c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (status != 0) {
    throw IoError("cannot start " + task.argv[0] + " for " + task.name + ": " +
                  std::strerror(status));
  }
  return pid;
}

}  // namespace

std::string to_string(TaskStatus status) {
  switch (status) {
    case TaskStatus::kPending:
      return "pending";
    case TaskStatus::kRunning:
      return "running";
    case TaskStatus::kSucceeded:
      return "succeeded";
    case TaskStatus::kFailed:
      return "failed";
    case TaskStatus::kBlocked:
      return "blocked";
    case TaskStatus::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

std::size_t available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    return std::max<std::size_t>(1, static_cast<std::size_t>(CPU_COUNT(&set)));
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

std::vector<TaskResult> run_pool(const std::vector<PoolTask>& tasks, const PoolOptions& options) {
  check_dependencies(tasks);
  using Clock = std::chrono::steady_clock;
  std::vector<TaskResult> results(tasks.size());
  std::map<pid_t, std::size_t> running;
  std::map<std::size_t, Clock::time_point> started;
  const std::size_t limit = std::max<std::size_t>(1, options.max_parallel);
  bool stopping = false;
  bool aborting = false;  // stop_all_on_failure: a task failed, the others were killed
  std::optional<Clock::time_point> abort_at;  // after a peer failure: when to kill the rest
  std::size_t first_failed = 0;
  const SignalForwarding forwarding;
  const auto notify = [&](std::size_t task, TaskStatus status) {
    if (options.on_event) options.on_event({.task = task, .status = status}, results);
  };

  while (true) {
    // Forward every signal received since the last pass, once each.
    for (const auto& [counter, signal] :
         {std::pair{&pending_interrupts, SIGINT}, std::pair{&pending_terminates, SIGTERM},
          std::pair{&pending_user1, SIGUSR1}}) {
      for (int n = counter->exchange(0); n > 0; --n) {
        stopping = true;
        for (const auto& [pid, index] : running)
          kill(-pid, signal);
      }
    }
    // Tasks whose dependency failed can never run.
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      if (results[i].status != TaskStatus::kPending) continue;
      for (const std::size_t dependency : tasks[i].after) {
        const TaskStatus upstream = results[dependency].status;
        if (upstream == TaskStatus::kFailed || upstream == TaskStatus::kBlocked ||
            upstream == TaskStatus::kInterrupted) {
          results[i].status = TaskStatus::kBlocked;
          results[i].blocked_by = tasks[dependency].name;
          notify(i, TaskStatus::kBlocked);
          break;
        }
      }
    }
    if (stopping) {
      for (auto& result : results) {
        if (result.status == TaskStatus::kPending) result.status = TaskStatus::kInterrupted;
      }
    }
    // Start ready tasks, in order, up to the limit.
    for (std::size_t i = 0; i < tasks.size() && running.size() < limit && !stopping && !aborting;
         ++i) {
      if (results[i].status != TaskStatus::kPending) continue;
      bool ready = true;
      for (const std::size_t dependency : tasks[i].after)
        ready = ready && results[dependency].status == TaskStatus::kSucceeded;
      if (!ready) continue;
      const pid_t pid = spawn(tasks[i]);
      running[pid] = i;
      started[i] = Clock::now();
      results[i].status = TaskStatus::kRunning;
      notify(i, TaskStatus::kRunning);
    }
    if (running.empty()) {
      const bool any_pending = std::any_of(results.begin(), results.end(), [](const TaskResult& r) {
        return r.status == TaskStatus::kPending;
      });
      if (!any_pending) break;
      continue;  // pending tasks just became ready or blocked
    }
    const auto abort = [&](std::size_t failed) {
      aborting = true;
      abort_at.reset();
      for (const auto& entry : running)
        kill(-entry.first, SIGKILL);
      for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (results[i].status != TaskStatus::kPending) continue;
        results[i].status = TaskStatus::kBlocked;
        results[i].blocked_by = tasks[failed].name;
      }
    };
    if (abort_at && !aborting && Clock::now() >= *abort_at) abort(first_failed);
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;  // not one of ours
    const std::size_t index = it->second;
    running.erase(it);
    TaskResult& result = results[index];
    result.seconds = std::chrono::duration<double>(Clock::now() - started[index]).count();
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (result.exit_code == 0) {
      result.status = TaskStatus::kSucceeded;
    } else if (stopping || result.exit_code == 130) {
      result.status = TaskStatus::kInterrupted;
    } else {
      result.status = TaskStatus::kFailed;
      if (options.stop_all_on_failure && !aborting) {
        if (result.exit_code != options.peer_failure_exit_code) {
          abort(index);
        } else if (!abort_at) {
          first_failed = index;
          abort_at = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(options.peer_grace_seconds));
        }
      }
    }
    notify(index, result.status);
  }
  return results;
}

}  // namespace sslx
