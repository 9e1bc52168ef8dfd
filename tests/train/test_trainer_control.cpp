// How the trainer stops: a second SIGINT exits at once, early stopping ends a run that no longer
// improves at the expected step, and non-finite losses are skipped without touching the
// parameters, counted, logged, and end the run with a clear error past the threshold.
#include "nn/torch_catch.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <limits>
#include <set>
#include <thread>

#include "log/run_log.h"
#include "support.h"
#include "train/schedule_registry.h"
#include "training_fixture.h"
#include "util/error.h"
#include "util/fs.h"

using namespace sslx;

namespace {

const std::string kShortMarkov =
    "[data]\nsource = \"markov\"\ndocuments = 200\ndocument_length = 100\nstates = 12\n";

// Starts `sslx run` in the background with stderr to `err`; returns its pid.
pid_t start_run(const std::filesystem::path& file, const std::filesystem::path& out,
                const std::filesystem::path& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    freopen(err.c_str(), "w", stderr);
    freopen("/dev/null", "w", stdout);
    execl(SSLX_BINARY, SSLX_BINARY, "run", file.c_str(), "--out", out.c_str(), "--config-dir",
          SSLX_SOURCE_DIR "/configs", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// Returns once the run `pid` writing into `out` has saved its first checkpoint (training has
// started); fails if the process ends before that.
void wait_for_first_checkpoint(pid_t pid, const std::filesystem::path& out) {
  while (!std::filesystem::exists(out / "base/checkpoints/latest")) {
    int status = 0;
    REQUIRE(waitpid(pid, &status, WNOHANG) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Whether `signal` is pending for process `pid` (not yet delivered to its handler).
bool signal_pending(pid_t pid, int signal) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("ShdPnd:", 0) == 0) {
      return (std::stoull(line.substr(7), nullptr, 16) >> (signal - 1)) & 1U;
    }
  }
  return false;
}

// The outcome of Trainer::run(), or the message of the error it threw.
struct Ran {
  train::RunOutcome outcome = train::RunOutcome::kCompleted;
  std::string error;
};

Ran run(train::Trainer& trainer) {
  try {
    return {trainer.run(), ""};
  } catch (const Error& error) {
    return {train::RunOutcome::kCompleted, std::string(error.what()) + "; " + error.hint()};
  }
}

// Delegates to a real objective and makes the training loss NaN at chosen steps (0-based
// training loss() calls), keeping the parameters as each training step found them.
class NanObjective : public train::Objective {
 public:
  NanObjective(train::Objective& inner, std::set<int> nan_steps)
      : inner_(inner), nan_steps_(std::move(nan_steps)) {}

  std::string name() const override { return inner_.name(); }
  std::vector<std::string> metric_names() const override { return inner_.metric_names(); }
  torch::nn::Module& model() override { return inner_.model(); }
  double training_flops_per_token() const override { return inner_.training_flops_per_token(); }
  train::Batch train_batch() override { return inner_.train_batch(); }
  bool eval_batch(data::Split split, std::int64_t index, train::Batch& batch) override {
    return inner_.eval_batch(split, index, batch);
  }
  train::LossTerms loss(const train::Batch& batch) override {
    train::LossTerms terms = inner_.loss(batch);
    if (!model().is_training()) return terms;  // evaluation
    std::vector<at::Tensor> parameters;
    for (const auto& parameter : model().parameters())
      parameters.push_back(parameter.detach().clone());
    seen.push_back(std::move(parameters));
    if (nan_steps_.contains(static_cast<int>(seen.size()) - 1)) {
      terms.loss_sum = terms.loss_sum * std::numeric_limits<double>::quiet_NaN();
    }
    return terms;
  }
  void save_state(train::TrainerState& state) const override { inner_.save_state(state); }
  void load_state(const train::TrainerState& state) override { inner_.load_state(state); }

  std::vector<std::vector<at::Tensor>> seen;  // parameters at each training step's loss

 private:
  train::Objective& inner_;
  std::set<int> nan_steps_;
};

bool same(const std::vector<at::Tensor>& a, const std::vector<at::Tensor>& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return a.size() == b.size();
}

// A trainer over `objective` with the fixture's options and a log of its own.
std::unique_ptr<train::Trainer> trainer_for(test::TrainingFixture& fixture,
                                            train::Objective& objective, const test::TempDir& dir,
                                            const std::string& name) {
  return std::make_unique<train::Trainer>(
      objective, fixture.options,
      train::optimizer_options_from(fixture.config.at_path("optimizer")),
      train::schedule_registry().create(fixture.config.at_path("schedule")),
      train::RunPaths{.log = dir / (name + ".h5"), .checkpoints = dir / (name + "-checkpoints")},
      config::to_toml(fixture.config));
}

}  // namespace

TEST_CASE("a job directory in use by one sslx run is refused to a second; a killed run frees it") {
  test::TempDir dir;
  // A time budget, so that the resumed run ends: 3 s of training across both runs.
  test::write_file(dir / "exp.toml",
                   "defaults = [{ model = \"tiny\" }]\nseed = 5\n" + kShortMarkov +
                       "[trainer]\nmax_steps = 0\nmax_seconds = 3.0\nbatch_size = 16\n"
                       "sequence_length = 64\ncheckpoint_every = 5\neval_every = 0\n"
                       "log_every = 5\n");
  const auto out = dir / "run";
  const pid_t pid = start_run(dir / "exp.toml", out, dir / "err.txt");
  wait_for_first_checkpoint(pid, out);
  const std::vector<std::string> command{
      SSLX_BINARY,  "run",          (dir / "exp.toml").string(), "--out",
      out.string(), "--config-dir", SSLX_SOURCE_DIR "/configs"};
  auto second = test::run_command(command);
  CHECK(second.exit_code == 1);
  CHECK_THAT(second.err,
             Catch::Contains((out / "base").string() + " is in use by another sslx run (pid " +
                             std::to_string(pid) + ")"));
  // --fresh must not delete a running job's files either.
  auto fresh = command;
  fresh.push_back("--fresh");
  CHECK(test::run_command(fresh).exit_code == 1);
  CHECK(std::filesystem::exists(out / "base/checkpoints/latest"));

  // SIGKILL leaves running.pid behind, but not its lock: the same command resumes.
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(std::filesystem::exists(out / "base/running.pid"));
  const auto resumed = test::run_command(command);
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK_THAT(resumed.err + resumed.out, Catch::Contains("resuming from"));
  CHECK_FALSE(std::filesystem::exists(out / "base/running.pid"));
}

TEST_CASE("a second SIGINT exits at once with 130, without the checkpoint of the first") {
  test::TempDir dir;
  // Steps long enough (a few ms) that the first interrupt's clean exit is still ahead.
  test::write_file(dir / "exp.toml",
                   "defaults = [{ model = \"tiny\" }]\nseed = 5\n" + kShortMarkov +
                       "[trainer]\nmax_steps = 100000\nbatch_size = 16\nsequence_length = 64\n"
                       "checkpoint_every = 5\neval_every = 0\nlog_every = 5\n");
  const auto out = dir / "run";
  const pid_t pid = start_run(dir / "exp.toml", out, dir / "err.txt");
  wait_for_first_checkpoint(pid, out);
  // Two SIGINTs sent back to back would merge into one pending signal: send the second once the
  // first has reached the handler.
  kill(pid, SIGINT);
  while (signal_pending(pid, SIGINT))
    std::this_thread::yield();
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  // That it exits at once shows in what it did not do (below), not in a wall-clock bound that a
  // loaded machine could break.
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  const std::string err = fs::read_text(dir / "err.txt");
  INFO(err);
  CHECK_THAT(err, Catch::Contains("second interrupt, exiting without a checkpoint"));
  // The first interrupt's way out (checkpoint, log closed as interrupted) never happened; the
  // single-SIGINT test in test_resume.cpp is the control where it does.
  CHECK_THAT(err, !Catch::Contains("interrupted at step"));
  CHECK(log::RunLogReader(out / "base/log.h5").status() == log::RunStatus::kRunning);
}

TEST_CASE("early stopping ends a run that cannot improve at the expected step") {
  const auto setup = [](int max_steps, const std::string& lr) {
    return kShortMarkov + "[trainer]\nmax_steps = " + std::to_string(max_steps) +
           "\nbatch_size = 8\nsequence_length = 32\neval_every = 5\neval_batches = 2\n"
           "early_stopping_patience = 2\ncheckpoint_every = 1000\nkeep_best = false\n"
           "[schedule]\nname = \"constant\"\nlr = " +
           lr + "\n";
  };
  test::TempDir dir;
  SECTION("learning rate 0: the loss never improves, evaluations 2 and 3 count, stop at 15") {
    test::TrainingFixture fixture(dir, setup(100, "0.0"), "frozen");
    CHECK(fixture.trainer->run() == train::RunOutcome::kEarlyStopped);
    CHECK(fixture.trainer->state().step == 15);
    const log::RunLogReader reader(fixture.paths.log);
    CHECK(reader.read("val", "loss").steps == std::vector<std::int64_t>{5, 10, 15});
    CHECK(reader.status() == log::RunStatus::kCompleted);
  }
  SECTION("negative control: a learning model improves at every evaluation and runs on") {
    test::TrainingFixture fixture(dir, setup(30, "0.003"), "learning");
    CHECK(fixture.trainer->run() == train::RunOutcome::kCompleted);
    CHECK(fixture.trainer->state().step == 30);
  }
}

TEST_CASE("non-finite losses: skipped steps leave the parameters, are counted and logged") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir,
      kShortMarkov +
          "[trainer]\nmax_steps = 6\nbatch_size = 4\nsequence_length = 32\neval_every = 0\n"
          "eval_batches = 1\nlog_every = 3\nmax_skipped_steps = 10\n"
          "[schedule]\nname = \"constant\"\nlr = 0.01\n",
      "nan");
  NanObjective objective(*fixture.objective, {2, 4});
  auto trainer = trainer_for(fixture, objective, dir, "skips");
  CHECK(trainer->run() == train::RunOutcome::kCompleted);
  REQUIRE(objective.seen.size() == 6);
  CHECK(same(objective.seen[3], objective.seen[2]));        // step 2 skipped: no change
  CHECK(same(objective.seen[5], objective.seen[4]));        // step 4 skipped
  CHECK_FALSE(same(objective.seen[2], objective.seen[1]));  // control: step 1 updated
  CHECK_FALSE(same(objective.seen[4], objective.seen[3]));  // step 3 updated
  for (const auto& parameter : fixture.objective->model().parameters())
    CHECK(torch::isfinite(parameter).all().item<bool>());
  CHECK(trainer->state().skipped_steps == 2);
  const log::RunLogReader reader(dir / "skips.h5");
  const auto skipped = reader.read("train", "skipped_steps");
  CHECK(skipped.steps == std::vector<std::int64_t>{3, 6});
  CHECK(skipped.values == std::vector<double>{1, 2});
}

TEST_CASE("non-finite losses past max_skipped_steps stop the run with a clear error") {
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir,
      kShortMarkov +
          "[trainer]\nmax_steps = 50\nbatch_size = 4\nsequence_length = 32\neval_every = 0\n"
          "eval_batches = 1\nlog_every = 1\nmax_skipped_steps = 3\n"
          "[schedule]\nname = \"constant\"\nlr = 0.01\n",
      "nan");
  const auto initial = fixture.parameters();
  std::set<int> every_step;
  for (int i = 0; i < 50; ++i)
    every_step.insert(i);
  NanObjective objective(*fixture.objective, every_step);
  auto trainer = trainer_for(fixture, objective, dir, "fails");
  const Ran ran = run(*trainer);
  CHECK_THAT(ran.error, Catch::Contains("4 steps had a non-finite loss or gradient") &&
                            Catch::Contains("max_skipped_steps"));
  CHECK(objective.seen.size() == 4);  // stopped at the fourth, not later
  CHECK(same(fixture.parameters(), initial));
  const log::RunLogReader reader(dir / "fails.h5");
  CHECK(reader.status() == log::RunStatus::kFailed);
  CHECK(reader.read("train", "skipped_steps").values == std::vector<double>{1, 2, 3});
}
