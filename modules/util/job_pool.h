// Runs commands as child processes: at most `max_parallel` at a time, each after the tasks it
// depends on have succeeded; a failing task only takes down the tasks that depend on it.
//
// Children run in process groups of their own, so a Ctrl-C at the terminal reaches the pool
// alone; the pool forwards each SIGINT/SIGTERM/SIGUSR1 it receives to the running children (once
// per signal: the first asks them to checkpoint and stop, a second makes them exit at once), starts
// nothing new, waits for them and reports the tasks as interrupted.
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sslx {

struct PoolTask {
  std::string name;
  std::vector<std::string> argv;  // argv[0] is the program (a path, not searched)
  std::filesystem::path output;   // stdout and stderr go here (appended); empty: the pool's
  std::map<std::string, std::string> env;  // added to the pool's environment
  std::vector<std::size_t> after;          // indices of tasks that must succeed first
};

enum class TaskStatus { kPending, kRunning, kSucceeded, kFailed, kBlocked, kInterrupted };
std::string to_string(TaskStatus status);

struct TaskResult {
  TaskStatus status = TaskStatus::kPending;
  int exit_code = 0;       // of a finished process; 128 + n when killed by signal n
  double seconds = 0;      // wall time of the process
  std::string blocked_by;  // for kBlocked: the failed task it depended on
};

struct PoolEvent {
  std::size_t task = 0;
  TaskStatus status = TaskStatus::kPending;  // kRunning on start, else the final status
};

struct PoolOptions {
  std::size_t max_parallel = 1;
  // The tasks are parts of one whole (the ranks of a data-parallel job): when one fails, the
  // others are killed (SIGKILL) rather than left waiting for it, and count as failed.
  bool stop_all_on_failure = false;
  // With stop_all_on_failure: a task that exits with this code failed because another one did
  // (a data-parallel rank whose peer died). The others then get `peer_grace_seconds` to end on
  // their own, so the one that failed first for a reason of its own reports it, before they are
  // killed. -1: none.
  int peer_failure_exit_code = -1;
  double peer_grace_seconds = 5.0;
  // Called on every start and end, from the pool's thread.
  std::function<void(const PoolEvent&, const std::vector<TaskResult>&)> on_event;
};

// Runs every task; returns one result per task, in task order. Throws sslx::Error for an
// invalid dependency (out of range or a cycle) before starting anything.
std::vector<TaskResult> run_pool(const std::vector<PoolTask>& tasks, const PoolOptions& options);

// How many cores this process may use (the affinity mask, at least 1).
std::size_t available_cores();

}  // namespace sslx
