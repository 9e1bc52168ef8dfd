// A run killed with SIGKILL and re-run with the same command ends exactly where an uninterrupted
// run ends: same parameters, same logged losses, no duplicated steps in its log.
#include "nn/torch_catch.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "log/run_log.h"
#include "nn/state_io.h"
#include "support.h"
#include "util/fs.h"
#include "util/strings.h"

using namespace sslx;

namespace {

const char* kExperiment =
    "defaults = [{ model = \"tiny\" }]\nseed = 5\n"
    "[data]\nsource = \"markov\"\ndocuments = 200\ndocument_length = 100\nstates = 12\n"
    "[trainer]\nmax_steps = 120\nbatch_size = 8\nsequence_length = 48\ncheckpoint_every = 10\n"
    "eval_every = 40\neval_batches = 2\nlog_every = 5\n"
    "[schedule]\nname = \"cosine\"\nlr = 0.003\nwarmup_steps = 10\ntotal_steps = 120\n";

// Starts `sslx run` in the background; returns its pid.
pid_t start_run(const std::filesystem::path& file, const std::filesystem::path& out) {
  const pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stderr);
    freopen("/dev/null", "w", stdout);
    execl(SSLX_BINARY, SSLX_BINARY, "run", file.c_str(), "--out", out.c_str(), "--config-dir",
          SSLX_SOURCE_DIR "/configs", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

std::map<std::string, at::Tensor> load_model(const std::filesystem::path& checkpoint) {
  return nn::load_state_dict(checkpoint / "model.pt");
}

}  // namespace

TEST_CASE("resume after SIGKILL reproduces the uninterrupted run") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kExperiment);

  // Uninterrupted.
  const auto whole =
      test::run_sslx({"run", (dir / "exp.toml").string(), "--out", (dir / "whole").string(),
                      "--config-dir", SSLX_SOURCE_DIR "/configs"});
  REQUIRE(whole.exit_code == 0);

  // Killed once its first checkpoints exist, then run again with the same command.
  const auto killed_dir = dir / "killed";
  const pid_t pid = start_run(dir / "exp.toml", killed_dir);
  const auto latest = killed_dir / "base/checkpoints/latest";
  while (!std::filesystem::exists(latest) || trim(fs::read_text(latest)) < "step-00000030") {
    int status = 0;
    REQUIRE(waitpid(pid, &status, WNOHANG) == 0);  // still running
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFSIGNALED(status));
  {
    const log::RunLogReader interrupted(killed_dir / "base/log.h5");
    CHECK(interrupted.status() == log::RunStatus::kRunning);
    CHECK(interrupted.read("train", "loss").steps.back() < 120);
  }
  const auto resumed =
      test::run_sslx({"run", (dir / "exp.toml").string(), "--out", killed_dir.string(),
                      "--config-dir", SSLX_SOURCE_DIR "/configs"});
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.err, Catch::Contains("resuming from"));

  const log::RunLogReader a(dir / "whole/base/log.h5"), b(killed_dir / "base/log.h5");
  CHECK(b.status() == log::RunStatus::kCompleted);
  for (const char* split : {"train", "val"}) {
    const auto x = a.read(split, "loss"), y = b.read(split, "loss");
    CHECK(x.steps == y.steps);  // same rows: none lost, none duplicated
    REQUIRE(x.values.size() == y.values.size());
    for (std::size_t i = 0; i < x.values.size(); ++i)
      CHECK(y.values[i] == Approx(x.values[i]).margin(1e-6));
    CHECK(std::adjacent_find(y.steps.begin(), y.steps.end(),
                             [](auto p, auto q) { return q <= p; }) == y.steps.end());
  }
  const auto final_a = load_model(dir / "whole/base/checkpoints/step-00000120");
  const auto final_b = load_model(killed_dir / "base/checkpoints/step-00000120");
  REQUIRE(final_a.size() == final_b.size());
  for (const auto& [name, tensor] : final_a) {
    INFO(name);
    CHECK(torch::allclose(tensor, final_b.at(name), 0.0, 1e-6));
  }

  // Re-running a completed job skips it.
  const auto again =
      test::run_sslx({"run", (dir / "exp.toml").string(), "--out", killed_dir.string(),
                      "--config-dir", SSLX_SOURCE_DIR "/configs"});
  CHECK(again.exit_code == 0);
  CHECK_THAT(again.err, Catch::Contains("completed, skipped"));
  // A changed config in the same directory is refused, saying what differs.
  const auto changed =
      test::run_sslx({"run", (dir / "exp.toml").string(), "--out", killed_dir.string(),
                      "--config-dir", SSLX_SOURCE_DIR "/configs", "trainer.batch_size=4"});
  CHECK(changed.exit_code == 1);
  CHECK_THAT(changed.err, Catch::Contains("trainer.batch_size: 8 -> 4"));
}

TEST_CASE("SIGINT checkpoints and exits with 130 - the log says interrupted - rerun completes") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kExperiment);
  const auto out = dir / "run";
  const pid_t pid = start_run(dir / "exp.toml", out);
  const auto latest = out / "base/checkpoints/latest";
  while (!std::filesystem::exists(latest)) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, WNOHANG) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  {
    // Scoped: HDF5 shares one open file per process, so a reader kept open would show the
    // second run's file as it was here.
    const log::RunLogReader reader(out / "base/log.h5");
    CHECK(reader.status() == log::RunStatus::kInterrupted);
    // The checkpoint written on the way out is the step the log ends at.
    const auto last_step = reader.read("train", "loss").steps.back();
    CHECK(trim(fs::read_text(latest)) ==
          "step-" + std::string(8 - std::to_string(last_step).size(), '0') +
              std::to_string(last_step));
  }
  const auto resumed = test::run_sslx({"run", (dir / "exp.toml").string(), "--out", out.string()});
  CHECK(resumed.exit_code == 0);
  CHECK(log::RunLogReader(out / "base/log.h5").status() == log::RunStatus::kCompleted);
}
