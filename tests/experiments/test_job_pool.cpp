#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "tests/support.h"
#include "util/error.h"
#include "util/job_pool.h"

using namespace sslx;

namespace {

// A task that appends "+" when it starts and "-" when it ends to a shared file (appends of a
// few bytes are atomic), so the file tells how many tasks ran at once.
PoolTask marking_task(const std::string& name, const std::filesystem::path& marks,
                      const std::filesystem::path& output, const std::string& then = "exit 0") {
  return {.name = name,
          .argv = {"/bin/sh", "-c",
                   "echo + >> '" + marks.string() + "'; sleep 0.3; echo - >> '" + marks.string() +
                       "'; " + then},
          .output = output,
          .env = {},
          .after = {}};
}

int most_at_once(const std::filesystem::path& marks) {
  std::ifstream in(marks);
  std::string line;
  int running = 0, most = 0;
  while (std::getline(in, line)) {
    running += line == "+" ? 1 : -1;
    most = std::max(most, running);
  }
  return most;
}

}  // namespace

TEST_CASE("the pool never runs more tasks at once than allowed, and does use the allowance") {
  for (const std::size_t limit : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
    test::TempDir dir;
    std::vector<PoolTask> tasks;
    for (int i = 0; i < 6; ++i) {
      tasks.push_back(marking_task("t" + std::to_string(i), dir / "marks",
                                   dir / ("t" + std::to_string(i) + ".log")));
    }
    const auto results = run_pool(tasks, {.max_parallel = limit, .on_event = {}});
    for (const auto& result : results)
      CHECK(result.status == TaskStatus::kSucceeded);
    CHECK(most_at_once(dir / "marks") == static_cast<int>(limit));
  }
}

TEST_CASE("a failing task is reported with its exit code and blocks only what depends on it") {
  test::TempDir dir;
  std::vector<PoolTask> tasks{
      marking_task("fails", dir / "marks", dir / "fails.log", "echo broken; exit 3"),
      marking_task("fine", dir / "marks", dir / "fine.log"),
      marking_task("after_fails", dir / "marks", dir / "after_fails.log"),
      marking_task("after_fine", dir / "marks", dir / "after_fine.log"),
  };
  tasks[2].after = {0};
  tasks[3].after = {1};
  std::vector<std::pair<std::size_t, TaskStatus>> events;
  const auto results =
      run_pool(tasks, {.max_parallel = 2, .on_event = [&](const PoolEvent& event, const auto&) {
                         events.emplace_back(event.task, event.status);
                       }});
  CHECK(results[0].status == TaskStatus::kFailed);
  CHECK(results[0].exit_code == 3);
  CHECK(results[1].status == TaskStatus::kSucceeded);
  CHECK(results[2].status == TaskStatus::kBlocked);
  CHECK(results[2].blocked_by == "fails");
  CHECK(results[3].status == TaskStatus::kSucceeded);
  CHECK_FALSE(std::filesystem::exists(dir / "after_fails.log"));  // never started
  // The task's output went to its file.
  std::ifstream log(dir / "fails.log");
  std::string first;
  std::getline(log, first);
  CHECK(first == "broken");
  // A start and an end event for each task that ran, one event for the blocked one.
  CHECK(std::count_if(events.begin(), events.end(),
                      [](const auto& e) { return e.second == TaskStatus::kRunning; }) == 3);
  CHECK(events.size() == 7);
}

TEST_CASE("stop_all_on_failure: a task failing for a peer leaves the others time to end") {
  // "peer" fails at once with the peer-failure code, as a rank whose collective broke because
  // another rank is going down; "cause" needs a moment to fail with its own error.
  const auto tasks = [](const test::TempDir& dir) {
    return std::vector<PoolTask>{
        {.name = "peer", .argv = {"/bin/sh", "-c", "exit 5"}, .output = dir / "peer.log"},
        {.name = "cause",
         .argv = {"/bin/sh", "-c", "sleep 0.5; exit 1"},
         .output = dir / "cause.log"}};
  };
  test::TempDir dir;
  const auto results = run_pool(tasks(dir), {.max_parallel = 2,
                                             .stop_all_on_failure = true,
                                             .peer_failure_exit_code = 5,
                                             .peer_grace_seconds = 30});
  CHECK(results[0].exit_code == 5);
  CHECK(results[1].status == TaskStatus::kFailed);
  CHECK(results[1].exit_code == 1);  // its own failure, not the pool's kill

  // Without a peer-failure code every failure kills the others at once (SIGKILL: 128 + 9).
  test::TempDir other;
  const auto killed = run_pool(tasks(other), {.max_parallel = 2, .stop_all_on_failure = true});
  CHECK(killed[1].exit_code == 128 + 9);

  // A task that never ends on its own is killed once the grace period is over.
  test::TempDir hung;
  auto stuck = tasks(hung);
  stuck[1].argv = {"/bin/sh", "-c", "sleep 600"};
  const auto ended = run_pool(stuck, {.max_parallel = 2,
                                      .stop_all_on_failure = true,
                                      .peer_failure_exit_code = 5,
                                      .peer_grace_seconds = 0.2});
  CHECK(ended[1].exit_code == 128 + 9);
}

TEST_CASE("dependencies run in order: a task starts only after the task it depends on ended") {
  test::TempDir dir;
  std::vector<PoolTask> tasks{
      {.name = "second",
       .argv = {"/bin/sh", "-c", "test -f '" + (dir / "first_done").string() + "'"},
       .output = dir / "second.log",
       .env = {},
       .after = {1}},
      {.name = "first",
       .argv = {"/bin/sh", "-c", "sleep 0.2; touch '" + (dir / "first_done").string() + "'"},
       .output = dir / "first.log",
       .env = {},
       .after = {}},
  };
  const auto results = run_pool(tasks, {.max_parallel = 2, .on_event = {}});
  CHECK(results[0].status == TaskStatus::kSucceeded);
  CHECK(results[1].status == TaskStatus::kSucceeded);
}

TEST_CASE("the pool passes its environment plus the task's variables") {
  test::TempDir dir;
  std::vector<PoolTask> tasks{{.name = "env",
                               .argv = {"/bin/sh", "-c", "echo \"$SSLX_THREADS\""},
                               .output = dir / "env.log",
                               .env = {{"SSLX_THREADS", "3"}},
                               .after = {}}};
  run_pool(tasks, {.max_parallel = 1, .on_event = {}});
  std::ifstream in(dir / "env.log");
  std::string line;
  std::getline(in, line);
  CHECK(line == "3");
}

TEST_CASE("cyclic or dangling dependencies are refused before anything starts") {
  test::TempDir dir;
  std::vector<PoolTask> tasks{marking_task("a", dir / "marks", dir / "a.log"),
                              marking_task("b", dir / "marks", dir / "b.log")};
  tasks[0].after = {1};
  tasks[1].after = {0};
  CHECK_THROWS_WITH(run_pool(tasks, {.max_parallel = 2, .on_event = {}}),
                    Catch::Contains("depend on each other"));
  tasks[1].after = {7};
  CHECK_THROWS_AS(run_pool(tasks, {.max_parallel = 2, .on_event = {}}), Error);
  CHECK_FALSE(std::filesystem::exists(dir / "marks"));
}
