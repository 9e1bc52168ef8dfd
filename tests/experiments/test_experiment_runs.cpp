// The shipped experiments run to the end through the `sslx` binary at the tiny budget, and a
// partly finished experiment resumes: finished jobs are skipped, the others completed.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "log/experiment_records.h"
#include "log/run_log.h"
#include "tests/support.h"

using namespace sslx;
namespace stdfs = std::filesystem;

namespace {

// One token cache for every experiment test (the tokenizer is trained once per ctest run).
std::string cache_override() {
  return "data.cache_dir=" + (stdfs::current_path() / "test-cache").string();
}

test::CommandResult run_experiment(const std::string& name, const stdfs::path& out,
                                   std::vector<std::string> extra = {}) {
  std::vector<std::string> arguments{"run",         "experiments/" + name + ".toml",
                                     "--out",       out.string(),
                                     "budget=tiny", cache_override()};
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  // From the source root: sft_then_reward's JSONL paths are relative to it.
  return test::run_sslx(arguments, SSLX_SOURCE_DIR);
}

std::string read(const stdfs::path& file) {
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), {}};
}

void check_finished(const stdfs::path& out, std::size_t jobs, std::size_t groups) {
  const auto records = log::collect_jobs(out);
  CHECK(records.size() == jobs);
  for (const auto& job : records) {
    INFO(job.name);
    CHECK(job.status == "completed");
    CHECK(job.evaluated);
  }
  CHECK(log::summarize_groups(records).size() == groups);
  CHECK(stdfs::is_regular_file(out / "report.md"));
  CHECK(stdfs::is_regular_file(out / "report/table.tex"));
  CHECK(stdfs::is_regular_file(out / "experiment.h5"));
}

}  // namespace

TEST_CASE("experiment t5_objectives runs to the end at the tiny budget") {
  test::TempDir out;
  const auto result = run_experiment("t5_objectives", out.path());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_finished(out.path(), 12, 4);
  CHECK_THAT(result.out, Catch::Contains("| span_corruption | 3 |"));
}

TEST_CASE("experiment mask_rate_ablation runs to the end at the tiny budget") {
  test::TempDir out;
  const auto result = run_experiment("mask_rate_ablation", out.path());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_finished(out.path(), 12, 4);
  CHECK_THAT(result.out, Catch::Contains("| objective.rate=0.6 | 3 |"));
}

TEST_CASE("experiment sft_then_reward runs its stages in order, each from the previous") {
  test::TempDir out;
  const auto result = run_experiment("sft_then_reward", out.path());
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_finished(out.path(), 9, 3);
  // Each stage loaded its upstream job's checkpoint of the same seed.
  CHECK_THAT(
      read(out / "sft,seed=2/output.log"),
      Catch::Contains("init_from: loaded " + (out / "pretrain,seed=2/checkpoints").string()));
  CHECK_THAT(read(out / "reward,seed=3/output.log"),
             Catch::Contains("init_from: loaded " + (out / "sft,seed=3/checkpoints").string()));
}

TEST_CASE("a partly finished experiment resumes: finished jobs skipped, the others completed") {
  test::TempDir out;
  auto result = run_experiment("bert_vs_gpt", out.path(), {"-j", "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_finished(out.path(), 6, 2);

  // One job lost entirely, one killed after training (its log left "running", no evaluation).
  stdfs::remove_all(out / "gpt,seed=3");
  {
    auto log = log::RunLogWriter::reopen(out / "gpt,seed=2/log.h5");
    log.set_status(log::RunStatus::kRunning);
    // Destroyed without close(): the log says "interrupted", as after a kill.
  }
  const auto untouched = stdfs::last_write_time(out / "bert,seed=1/log.h5");
  CHECK(log::read_job(out / "gpt,seed=2").status == "interrupted");

  result = run_experiment("bert_vs_gpt", out.path(), {"-j", "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.err, Catch::Contains("4 of 6 jobs already completed, skipped") &&
                             Catch::Contains("2 jobs to run"));
  CHECK(stdfs::last_write_time(out / "bert,seed=1/log.h5") == untouched);
  check_finished(out.path(), 6, 2);
  // The resumed job continued from its checkpoint: no step logged twice.
  const auto series = log::RunLogReader(out / "gpt,seed=2/log.h5").read("train", "loss");
  CHECK(std::adjacent_find(series.steps.begin(), series.steps.end(),
                           [](auto a, auto b) { return a >= b; }) == series.steps.end());
}

TEST_CASE("experiment alignment runs pretraining, SFT, the reward model and four policies") {
  test::TempDir out;
  // seed=1 on the command line replaces the sweep over seeds: one job per variant, named by it.
  const auto result = run_experiment("alignment", out.path(), {"seed=1", "-j", "2"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  check_finished(out.path(), 7, 7);
  // The policies started from the SFT model of their seed and were scored by its reward model.
  CHECK_THAT(read(out / "ppo/output.log"),
             Catch::Contains("init_from: loaded " + (out / "sft/checkpoints").string()) &&
                 Catch::Contains("reward: reward model " + (out / "reward_model").string()));
  const auto records = log::collect_jobs(out.path());
  for (const auto& job : records) {
    INFO(job.name);
    if (job.variant == "sft" || job.variant == "pretrain") continue;
    // Every policy (and the best-of-n baseline of the reward model's job) was judged.
    for (const char* value : {"alignment/kl", "alignment/proxy_reward", "alignment/gold_reward",
                              "alignment/win_rate"}) {
      INFO(value);
      CHECK(job.values.count(value) == 1);
    }
    if (job.variant == "reward_model") {
      // The SFT model judged against itself: no KL, every comparison a tie; best-of-n's KL.
      CHECK(job.values.at("alignment/kl") == 0.0);
      CHECK(job.values.at("alignment/win_rate") == 0.5);
      CHECK(job.values.at("alignment/best_of_64/kl") ==
            Approx(std::log(64.0) - 63.0 / 64.0).epsilon(1e-12));
      // A larger n keeps the proxy's favourite of a superset of samples.
      CHECK(job.values.at("alignment/best_of_64/proxy_reward") >=
            job.values.at("alignment/best_of_8/proxy_reward"));
      CHECK(job.values.at("alignment/best_of_8/proxy_reward") >=
            job.values.at("alignment/best_of_1/proxy_reward"));
    }
    if (job.variant == "grpo") {
      // The gold reward was evaluated during training too, beside the proxy and the KL.
      CHECK(job.val_metrics.count("gold_reward") == 1);
      CHECK(job.val_metrics.count("kl_sequence") == 1);
      // A few sampled responses per evaluation, the same validation prompts each time.
      const auto texts = log::RunLogReader(out / "grpo/log.h5").training_texts();
      REQUIRE(texts.size() >= 2);
      for (const auto& [step, samples] : texts) {
        INFO(step);
        CHECK(samples.size() == 4);
        CHECK_THAT(samples.at("sample_00"), Catch::StartsWith("A fortune about ") &&
                                                Catch::Contains("--- response (reward "));
      }
      CHECK(texts.begin()->second.at("sample_00").substr(0, 30) ==
            texts.rbegin()->second.at("sample_00").substr(0, 30));
    }
  }
  const std::string report = read(out / "report.md");
  CHECK_THAT(report, Catch::Contains("## Alignment: reward against KL to the reference") &&
                         Catch::Contains("Best-of-n from reward_model"));
  CHECK(stdfs::file_size(out / "report/reward_kl.png") > 1000);
}
