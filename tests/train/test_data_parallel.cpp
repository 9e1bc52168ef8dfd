// Data-parallel training through `sslx run --nproc 2` (two rank processes on this machine, c10d
// Gloo): the update of 2 ranks x batch b is the update of one process x batch 2b when targets
// are ragged (SFT: completions of different lengths), and PyTorch DDP's mean of per-rank means
// (the negative control) is not; a 2-rank job crashed mid-run resumes to the end of the
// uninterrupted one (every rank's sampler position and random streams are in the checkpoint);
// a rank that dies stops the whole job with an error naming it.
#include "nn/torch_catch.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "log/run_log.h"
#include "nn/state_io.h"
#include "support.h"
#include "util/fs.h"
#include "util/strings.h"

using namespace sslx;
namespace stdfs = std::filesystem;

namespace {

std::vector<std::string> run_line(const stdfs::path& file, const stdfs::path& out,
                                  std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{SSLX_BINARY,
                                "run",
                                file.string(),
                                "--out",
                                out.string(),
                                "--config-dir",
                                SSLX_SOURCE_DIR "/configs"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// Prompts with completions of 1 to 9 words: each rank's micro-batch has its own target count.
std::string ragged_sft_file(const test::TempDir& dir) {
  std::string lines;
  for (int i = 0; i < 40; ++i) {
    std::string completion;
    for (int w = 0; w <= i % 9; ++w)
      completion += " w" + std::to_string((i * 7 + w) % 13);
    lines += "{\"prompt\": \"Q: " + std::to_string(i) + "?\\nA:\", \"completion\": \"" +
             completion + "\"}\n";
  }
  const auto path = dir / "sft.jsonl";
  test::write_file(path, lines);
  return path.string();
}

std::string sft_experiment(const std::string& file) {
  return "defaults = [{ model = \"tiny\" }]\nseed = 5\n"
         "[data]\nsource = \"markov\"\ndocuments = 20\ndocument_length = 16\nstates = 8\n"
         "[model]\ndropout = 0.0\nattention_dropout = 0.0\nembedding_dropout = 0.0\n"
         "[objective]\nname = \"sft\"\ntrain_files = [\"" +
         file + "\"]\nvalidation_files = [\"" + file +
         "\"]\n"
         "[trainer]\nmax_steps = 4\nsequence_length = 40\neval_every = 0\neval_batches = 20\n"
         "log_every = 1\ncheckpoint_every = 100\n"
         "[schedule]\nname = \"constant\"\nlr = 0.0001\nwarmup_steps = 0\n";
}

// Masks drawn from a random stream per rank, dropout on: what a resume must restore per rank.
const char* kMlmExperiment =
    "defaults = [{ model = \"tiny\" }, { objective = \"mlm\" }]\nseed = 3\n"
    "[data]\nsource = \"markov\"\ndocuments = 60\ndocument_length = 60\nstates = 8\n"
    "[model]\narch = \"encoder\"\n"
    "[trainer]\nmax_steps = 6\nbatch_size = 2\nsequence_length = 24\ncheckpoint_every = 2\n"
    "eval_every = 2\neval_batches = 3\nlog_every = 1\nkeep_last = 1\n"
    "[schedule]\nname = \"constant\"\nlr = 0.003\n";

// Runs sslx, which must succeed (its error output shown otherwise).
test::CommandResult run_ok(const std::vector<std::string>& argv) {
  auto result = test::run_command(argv);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  return result;
}

std::map<std::string, at::Tensor> final_parameters(const stdfs::path& job) {
  const auto checkpoints = job / "checkpoints";
  return nn::load_state_dict(checkpoints / trim(fs::read_text(checkpoints / "latest")) /
                             "model.pt");
}

double max_difference(const std::map<std::string, at::Tensor>& a,
                      const std::map<std::string, at::Tensor>& b) {
  REQUIRE(a.size() == b.size());
  double largest = 0;
  for (const auto& [name, tensor] : a) {
    INFO(name);
    REQUIRE(b.count(name) == 1);
    largest = std::max(largest, (tensor - b.at(name)).abs().max().item<double>());
  }
  return largest;
}

}  // namespace

TEST_CASE("data parallel: 2 ranks x batch 2 update as 1 process x batch 4 with ragged targets") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", sft_experiment(ragged_sft_file(dir)));
  run_ok(run_line(dir / "exp.toml", dir / "single", {"trainer.batch_size=4"}));
  // Buckets of 10 KB: the tiny model's gradients are summed in many pieces, most of them while
  // the backward pass still runs, and every piece must land in its place.
  const auto ranks =
      run_ok(run_line(dir / "exp.toml", dir / "ranks",
                      {"--nproc", "2", "trainer.batch_size=2", "trainer.gradient_bucket_mb=0.01"}));
  CHECK_THAT(ranks.err, Catch::Contains("2 ranks on this machine"));
  std::smatch buckets;
  REQUIRE(std::regex_search(ranks.err, buckets,
                            std::regex("gradients in (\\d+) buckets; (\\d+) of them summed over "
                                       "the ranks while the backward pass ran")));
  CHECK(std::stoi(buckets[1].str()) > 5);
  CHECK(std::stoi(buckets[2].str()) > 0);
  CHECK(stdfs::is_regular_file(dir / "ranks/base/output.rank1.log"));
  CHECK_THAT(fs::read_text(dir / "ranks/base/output.rank1.log"), Catch::Contains("rank 1 of 2"));

  const double difference =
      max_difference(final_parameters(dir / "single/base"), final_parameters(dir / "ranks/base"));
  CHECK(difference < 1e-6);
  // The logged loss of each step is the mean over both ranks' targets.
  const log::RunLogReader a(dir / "single/base/log.h5"), b(dir / "ranks/base/log.h5");
  const auto x = a.read("train", "loss"), y = b.read("train", "loss");
  REQUIRE(x.steps == y.steps);
  REQUIRE(x.values.size() == 4);
  for (std::size_t i = 0; i < x.values.size(); ++i)
    CHECK(y.values[i] == Approx(x.values[i]).epsilon(1e-6));
  const auto tokens_a = a.read("train", "tokens"), tokens_b = b.read("train", "tokens");
  CHECK(tokens_a.values == tokens_b.values);
  // Evaluation batches split between the ranks give the same validation loss.
  CHECK(b.read("val", "loss").values.back() ==
        Approx(a.read("val", "loss").values.back()).epsilon(1e-6));

  // Negative control: each rank's own mean, averaged over the ranks (DDP), weighs the targets
  // of the rank with fewer of them more and moves the parameters elsewhere.
  run_ok(
      run_line(dir / "exp.toml", dir / "ddp",
               {"--nproc", "2", "trainer.batch_size=2", "trainer.data_parallel_loss=rank_mean"}));
  const double control =
      max_difference(final_parameters(dir / "single/base"), final_parameters(dir / "ddp/base"));
  INFO("all_targets " << difference << ", rank_mean " << control);
  CHECK(control > 1e-4);
}

TEST_CASE("data parallel: a crashed 2-rank job resumes to the end of the uninterrupted one") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kMlmExperiment);
  const std::vector<std::string> nproc{"--nproc", "2"};
  run_ok(run_line(dir / "exp.toml", dir / "whole", nproc));
  // Rank 1 draws its own masks: its stream's state in the checkpoint is not rank 0's.
  const auto last =
      dir / "whole/base/checkpoints" / trim(fs::read_text(dir / "whole/base/checkpoints/latest"));
  const std::string rank0 = fs::read_text(last / "trainer_state.toml");
  const std::string rank1 = fs::read_text(last / "rank_1.toml");
  const std::regex stream("mlm_masking = (-?\\d+)");
  std::smatch m0, m1;
  REQUIRE(std::regex_search(rank0, m0, stream));
  REQUIRE(std::regex_search(rank1, m1, stream));
  CHECK(m0[1].str() != m1[1].str());

  // Rank 0 killed (SIGKILL at a crash point of its saves) after its first checkpoint; the
  // launcher then stops rank 1. The same command resumes both from that checkpoint.
  const auto out = dir / "run";
  const auto latest = out / "base/checkpoints/latest";
  // A crash point after the first checkpoint and before the last: doubling, then bisection
  // between the last point that crashed before any checkpoint and the first too late.
  int before_checkpoint = 0, past_the_end = -1;
  for (int point = 1;;) {
    stdfs::remove_all(out);
    auto crashing = run_line(dir / "exp.toml", out, nproc);
    crashing.insert(crashing.begin(), {"/usr/bin/env", "SSLX_CRASH_AT=" + std::to_string(point)});
    const auto killed = test::run_command(crashing);
    INFO("crash point " << point << "\n" << killed.err);
    // Crashed after the final checkpoint (the log's flushes follow a clock, so where the crash
    // points fall varies a little): too late, the resumed job would have nothing to train.
    const bool final_checkpoint =
        stdfs::exists(latest) && trim(fs::read_text(latest)) == "step-00000006";
    if (killed.exit_code == 0 || final_checkpoint) {
      past_the_end = point;
    } else {
      CHECK_THAT(killed.err, Catch::Contains("rank 0 of 2 failed (killed by signal 9)"));
      if (stdfs::exists(latest)) break;
      before_checkpoint = point;
    }
    point = past_the_end < 0 ? 2 * point : (before_checkpoint + past_the_end) / 2;
    REQUIRE(point > before_checkpoint);
  }
  // Without rank 1's part a checkpoint cannot resume the job: a clear error, not rank 0's state.
  const auto broken = dir / "broken";
  stdfs::copy(out, broken, stdfs::copy_options::recursive);
  stdfs::remove(broken / "base/checkpoints" / trim(fs::read_text(latest)) / "rank_1.toml");
  const auto refused = test::run_command(run_line(dir / "exp.toml", broken, nproc));
  CHECK(refused.exit_code == 1);
  // The checkpoint's checksums list the part: every rank checks the checkpoint's files before
  // loading and refuses it naming the file; the launcher names the rank that stopped first.
  CHECK_THAT(refused.err, Catch::Contains(" of 2 failed (exit 1"));
  CHECK_THAT(refused.err + fs::read_text(broken / "base/output.rank1.log"),
             Catch::Contains("rank_1.toml is missing from its checkpoint"));

  const auto resumed = run_ok(run_line(dir / "exp.toml", out, nproc));
  CHECK_THAT(resumed.err, Catch::Contains("resuming from"));
  CHECK(max_difference(final_parameters(dir / "whole/base"), final_parameters(out / "base")) ==
        0.0);
  const log::RunLogReader a(dir / "whole/base/log.h5"), b(out / "base/log.h5");
  for (const auto& [split, name] : a.metrics()) {
    if (name.rfind("time", 0) == 0 || name.find("per_second") != std::string::npos) continue;
    INFO(split << "/" << name);
    const auto x = a.read(split, name), y = b.read(split, name);
    CHECK(x.steps == y.steps);  // every completed step's row, once
    CHECK(x.values == y.values);
  }
}

TEST_CASE("data parallel: a rank that dies stops the whole job with an error naming it") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kMlmExperiment);
  // A budget that outlasts the test: the job ends only by the kill.
  const pid_t launcher = fork();
  if (launcher == 0) {
    freopen((dir / "err.txt").c_str(), "w", stderr);
    freopen("/dev/null", "w", stdout);
    const std::string out = (dir / "run").string(), file = (dir / "exp.toml").string();
    execl(SSLX_BINARY, SSLX_BINARY, "run", file.c_str(), "--out", out.c_str(), "--config-dir",
          SSLX_SOURCE_DIR "/configs", "--nproc", "2", "trainer.max_steps=100000000",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Rank 1 says its pid when it joins; kill it once training has logged a step.
  const auto rank1_log = dir / "run/base/output.rank1.log";
  const std::regex joined("rank 1 of 2 \\(pid (\\d+)\\)");
  pid_t rank1 = 0;
  int status = 0;
  while (rank1 == 0 || fs::read_text(dir / "err.txt").find("step 2") == std::string::npos) {
    REQUIRE(waitpid(launcher, &status, WNOHANG) == 0);  // still running
    std::smatch match;
    const std::string text = stdfs::exists(rank1_log) ? fs::read_text(rank1_log) : "";
    if (rank1 == 0 && std::regex_search(text, match, joined)) rank1 = std::stoi(match[1].str());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(kill(rank1, SIGKILL) == 0);
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  const std::string err = fs::read_text(dir / "err.txt");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  CHECK_THAT(err, Catch::Contains("rank 1 of 2 failed (killed by signal 9; its output: " +
                                  rank1_log.string()));
  CHECK_THAT(err, !Catch::Contains("Exception raised from"));
  // Nothing of the job is left running.
  CHECK(kill(rank1, 0) != 0);
  std::smatch match;
  REQUIRE(std::regex_search(err, match, std::regex("rank 0 of 2 \\(pid (\\d+)\\)")));
  CHECK(kill(std::stoi(match[1].str()), 0) != 0);
}

TEST_CASE("data parallel: a rank that hangs makes the others time out instead of waiting forever") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", kMlmExperiment);
  const pid_t launcher = fork();
  if (launcher == 0) {
    freopen((dir / "err.txt").c_str(), "w", stderr);
    freopen("/dev/null", "w", stdout);
    const std::string out = (dir / "run").string(), file = (dir / "exp.toml").string();
    execl(SSLX_BINARY, SSLX_BINARY, "run", file.c_str(), "--out", out.c_str(), "--config-dir",
          SSLX_SOURCE_DIR "/configs", "--nproc", "2", "trainer.max_steps=100000000",
          "trainer.collective_timeout=2", static_cast<char*>(nullptr));
    _exit(127);
  }
  const auto rank1_log = dir / "run/base/output.rank1.log";
  const std::regex joined("rank 1 of 2 \\(pid (\\d+)\\)");
  pid_t rank1 = 0;
  int status = 0;
  while (rank1 == 0 || fs::read_text(dir / "err.txt").find("step 2") == std::string::npos) {
    REQUIRE(waitpid(launcher, &status, WNOHANG) == 0);
    std::smatch match;
    const std::string text = stdfs::exists(rank1_log) ? fs::read_text(rank1_log) : "";
    if (rank1 == 0 && std::regex_search(text, match, joined)) rank1 = std::stoi(match[1].str());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // Stopped, not dead: its sockets stay open, so only the timeout can tell the others.
  REQUIRE(kill(rank1, SIGSTOP) == 0);
  REQUIRE(waitpid(launcher, &status, 0) == launcher);
  const std::string err = fs::read_text(dir / "err.txt");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 1);
  // Rank 0 gave up on its collective (exit 5: another rank failed); the launcher then killed the
  // stopped rank, the one that did not report a failed collective, and names it.
  CHECK_THAT(err, Catch::Contains("rank 0: all-reduce"));
  CHECK_THAT(err, Catch::Contains("rank 1 of 2 failed (killed by signal 9"));
  CHECK(kill(rank1, 0) != 0);
}

TEST_CASE("data parallel: every job of a sweep runs on ranks of its own") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml", sft_experiment(ragged_sft_file(dir)));
  run_ok(run_line(dir / "exp.toml", dir / "out",
                  {"--nproc", "2", "trainer.batch_size=2", "seed=1,2"}));
  for (const char* job : {"seed=1", "seed=2"}) {
    INFO(job);
    const auto directory = dir / "out" / job;
    const log::RunLogReader log(directory / "log.h5");
    CHECK(log.status() == log::RunStatus::kCompleted);
    CHECK(log.read("train", "loss").steps.back() == 4);
    CHECK_THAT(fs::read_text(directory / "output.log"), Catch::Contains("2 ranks on this machine"));
    CHECK_THAT(fs::read_text(directory / "output.rank1.log"), Catch::Contains("rank 1 of 2"));
  }
  // Different seeds, different models: each job trained on its own.
  CHECK(max_difference(final_parameters(dir / "out/seed=1"), final_parameters(dir / "out/seed=2")) >
        1e-3);
}

namespace {

// A policy objective on the fortune prompts, scored by the topic classifier (a reward every
// sslx binary has), from a random policy: responses of different lengths on every rank.
std::string policy_experiment(const std::string& objective) {
  const std::string prompts = SSLX_SOURCE_DIR "/data/fortune_pairs/sft_val.jsonl";
  return "defaults = [{ model = \"tiny\" }]\nseed = 7\n"
         "[data]\nsource = \"markov\"\ndocuments = 20\ndocument_length = 16\nstates = 8\n"
         "[model]\ndropout = 0.0\nattention_dropout = 0.0\nembedding_dropout = 0.0\n"
         "[objective]\nname = \"" +
         objective + "\"\ntrain_files = [\"" + prompts + "\"]\nvalidation_files = [\"" + prompts +
         "\"]\nmax_new_tokens = 8\nreward = { name = \"topic_match\" }\n" +
         (objective == "ppo" ? "" : "group_size = 2\nloss_normalisation = \"token_mean\"\n") +
         "[trainer]\nmax_steps = 3\nsequence_length = 48\neval_every = 0\neval_batches = 2\n"
         "log_every = 1\ncheckpoint_every = 100\n"
         "[schedule]\nname = \"constant\"\nlr = 0.001\nwarmup_steps = 0\n"
         // Adam turns the rounding noise of a gradient element near 0 into a step of up to lr;
         // a larger epsilon keeps that noise below what the comparison resolves.
         "[optimizer]\neps = 1e-5\n";
}

}  // namespace

TEST_CASE("data parallel: grpo and ppo on 2 ranks x 2 prompts update as 1 process x 4 prompts") {
  for (const std::string objective : {"grpo", "ppo"}) {
    INFO(objective);
    test::TempDir dir;
    test::write_file(dir / "exp.toml", policy_experiment(objective));

    run_ok(run_line(dir / "exp.toml", dir / "single", {"trainer.batch_size=4"}));
    // Evaluation: the same 8 prompts in batches of 2.

    run_ok(run_line(dir / "exp.toml", dir / "ranks",
                    {"--nproc", "2", "trainer.batch_size=2", "trainer.eval_batches=4"}));

    // The same responses (streams named by the prompt's position in the sampler's permutation),
    // the loss normalised over both ranks' tokens, the critic (ppo) the same on both ranks.
    const double difference =
        max_difference(final_parameters(dir / "single/base"), final_parameters(dir / "ranks/base"));
    INFO("difference " << difference);
    CHECK(difference < 1e-6);
    const log::RunLogReader a(dir / "single/base/log.h5"), b(dir / "ranks/base/log.h5");
    for (const char* metric : {"loss", "reward", "kl_k1", "response_length", "tokens"}) {
      INFO(metric);
      const auto x = a.read("train", metric), y = b.read("train", metric);
      REQUIRE(x.steps == y.steps);
      REQUIRE(x.values.size() == 3);
      for (std::size_t i = 0; i < x.values.size(); ++i)
        CHECK(y.values[i] == Approx(x.values[i]).epsilon(1e-5).margin(1e-6));  // KL at 0: noise
    }
    // Evaluation: the same samples (streams named by the prompt), split between the ranks.
    CHECK(b.read("val", "reward").values.back() ==
          Approx(a.read("val", "reward").values.back()).epsilon(1e-6));

    if (objective == "grpo") {
      // Negative control: each rank's token mean, averaged over the ranks (DDP's convention),
      // weighs the tokens of the rank with fewer of them more.
      run_ok(run_line(
          dir / "exp.toml", dir / "ddp",
          {"--nproc", "2", "trainer.batch_size=2", "trainer.data_parallel_loss=rank_mean"}));
      const double control =
          max_difference(final_parameters(dir / "single/base"), final_parameters(dir / "ddp/base"));
      INFO("rank_mean " << control);
      CHECK(control > 1e-4);
    }
  }
}
