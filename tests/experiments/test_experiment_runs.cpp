// The shipped experiments run to the end through the `sslx` binary at the tiny budget, and a
// partly finished experiment resumes: finished jobs are skipped, the others completed.
#include <catch2/catch.hpp>

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
