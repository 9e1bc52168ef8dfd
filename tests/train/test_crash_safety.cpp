// Crash safety of checkpoints and logs: a run killed at every crash point (util/crash_point.h:
// each file written, renamed or removed by a checkpoint save, each atomic file write, each log
// flush) resumes with the same command and ends as the uninterrupted run ends: same parameters,
// the same logged rows, none lost and none twice. And a disk that fills up during a run stops it
// with an error naming the file, keeps the previous checkpoint, and the run resumes once there is
// room again.
#include "nn/torch_catch.h"

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log/run_log.h"
#include "nn/state_io.h"
#include "support.h"
#include "util/fs.h"
#include "util/strings.h"

using namespace sslx;

namespace {

// Evaluations on every checkpoint step (an improving one saves the step as best), pruning of
// older checkpoints (keep_last = 1), and the final checkpoint: every kind of save.
const char* kExperiment =
    "defaults = [{ model = \"tiny\" }]\nseed = 3\n"
    "[data]\nsource = \"markov\"\ndocuments = 60\ndocument_length = 60\nstates = 8\n"
    "[trainer]\nmax_steps = 6\nbatch_size = 4\nsequence_length = 24\ncheckpoint_every = 2\n"
    "eval_every = 2\neval_batches = 1\nlog_every = 1\nkeep_last = 1\n"
    "[schedule]\nname = \"constant\"\nlr = 0.003\n";

std::vector<std::string> run_command_line(const std::filesystem::path& file,
                                          const std::filesystem::path& out) {
  return {SSLX_BINARY,
          "run",
          file.string(),
          "--out",
          out.string(),
          "--config-dir",
          SSLX_SOURCE_DIR "/configs"};
}

void check_same_run(const std::filesystem::path& expected, const std::filesystem::path& actual) {
  const log::RunLogReader a(expected / "log.h5"), b(actual / "log.h5");
  CHECK(b.status() == log::RunStatus::kCompleted);
  for (const auto& [split, name] : a.metrics()) {
    // Timings differ from run to run.
    if (name.rfind("time", 0) == 0 || name.find("per_second") != std::string::npos) continue;
    INFO(split << "/" << name);
    const auto x = a.read(split, name), y = b.read(split, name);
    CHECK(x.steps == y.steps);  // every completed step's row, once
    REQUIRE(x.values.size() == y.values.size());
    for (std::size_t i = 0; i < x.values.size(); ++i)
      CHECK(y.values[i] == Approx(x.values[i]).margin(1e-6));
  }
  const auto final_a = nn::load_state_dict(expected / "checkpoints/step-00000006/model.pt");
  const auto final_b = nn::load_state_dict(actual / "checkpoints/step-00000006/model.pt");
  REQUIRE(final_a.size() == final_b.size());
  for (const auto& [name, tensor] : final_a) {
    INFO(name);
    CHECK(torch::allclose(tensor, final_b.at(name), 0.0, 1e-6));
  }
}

}  // namespace

TEST_CASE("a run killed at any crash point of its checkpoints and log resumes to the same end") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kExperiment);
  const auto whole = test::run_command(run_command_line(dir / "exp.toml", dir / "whole"));
  REQUIRE(whole.exit_code == 0);

  int crashes = 0;
  for (int point = 1;; ++point) {
    INFO("crash point " << point);
    const auto out = dir / ("crash-" + std::to_string(point));
    auto crashing = run_command_line(dir / "exp.toml", out);
    crashing.insert(crashing.begin(), {"/usr/bin/env", "SSLX_CRASH_AT=" + std::to_string(point)});
    const auto killed = test::run_command(crashing);
    if (killed.exit_code == 0) break;  // past the last crash point: the run completed
    REQUIRE(killed.exit_code == 128 + SIGKILL);
    ++crashes;
    const auto resumed = test::run_command(run_command_line(dir / "exp.toml", out));
    INFO(resumed.err);
    REQUIRE(resumed.exit_code == 0);
    check_same_run(dir / "whole/base", out / "base");
    // `latest` and `best` name complete checkpoints.
    for (const char* pointer : {"latest", "best"}) {
      const auto named =
          out / "base/checkpoints" / trim(fs::read_text(out / "base/checkpoints" / pointer));
      CHECK(std::filesystem::is_regular_file(named / "trainer_state.toml"));
    }
    std::filesystem::remove_all(out);
  }
  // Every save of the run passes several crash points; a run without any would test nothing.
  CHECK(crashes > 20);
}

TEST_CASE("a full disk stops the run with the file named, the last checkpoint intact") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kExperiment);
  const auto whole = test::run_command(run_command_line(dir / "exp.toml", dir / "whole"));
  REQUIRE(whole.exit_code == 0);
  const auto log_bytes = std::filesystem::file_size(dir / "whole/base/log.h5");
  // Killed after its first checkpoint, at the crash point that follows `latest`'s rename.
  const auto out = dir / "run";
  const auto latest = out / "base/checkpoints/latest";
  for (int point = 1; !std::filesystem::exists(latest); ++point) {
    std::filesystem::remove_all(out);
    auto crashing = run_command_line(dir / "exp.toml", out);
    crashing.insert(crashing.begin(), {"/usr/bin/env", "SSLX_CRASH_AT=" + std::to_string(point)});
    REQUIRE(test::run_command(crashing).exit_code == 128 + SIGKILL);
  }
  const std::string named = trim(fs::read_text(latest));

  // Resumed where no file may grow past half the final log's size: the log's next flush (or the
  // checkpoint's copy of it) fails as on a full disk (RLIMIT_FSIZE; SIGXFSZ ignored, so the write
  // returns EFBIG as a full disk returns ENOSPC, instead of killing the process).
  const pid_t pid = fork();
  if (pid == 0) {
    signal(SIGXFSZ, SIG_IGN);
    const rlim_t bytes = log_bytes / 2;
    const rlimit limit{.rlim_cur = bytes, .rlim_max = RLIM_INFINITY};
    setrlimit(RLIMIT_FSIZE, &limit);
    freopen((dir / "err.txt").c_str(), "w", stderr);
    freopen("/dev/null", "w", stdout);
    execl(SSLX_BINARY, SSLX_BINARY, "run", (dir / "exp.toml").c_str(), "--out", out.c_str(),
          "--config-dir", SSLX_SOURCE_DIR "/configs", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string err = fs::read_text(dir / "err.txt");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(err, Catch::Contains("error: ") && Catch::Contains((out / "base").string()));
  CHECK_THAT(err, Catch::Contains("disk full") || Catch::Contains("free space"));
  CHECK_THAT(err, !Catch::Contains("Exception raised from"));
  CHECK(trim(fs::read_text(latest)) == named);
  CHECK(std::filesystem::is_regular_file(out / "base/checkpoints" / named / "trainer_state.toml"));
  for (const auto& entry : std::filesystem::directory_iterator(out / "base/checkpoints"))
    CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);

  // With room again, the same command resumes (the log restored from the checkpoint's copy when
  // the failed write left it unreadable) and ends where the uninterrupted run ends.
  const auto resumed = test::run_command(run_command_line(dir / "exp.toml", out));
  INFO(resumed.err);
  REQUIRE(resumed.exit_code == 0);
  check_same_run(dir / "whole/base", out / "base");
}
