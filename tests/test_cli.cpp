// The sslx command line, run as a user runs it: exit codes, messages, output.
#include <catch2/catch.hpp>

#include "log/run_log.h"
#include "support.h"
#include "util/version.h"

using sslx::test::run_sslx;
using sslx::test::TempDir;
using sslx::test::write_file;

namespace {
const std::string kExperiment =
    std::string(SSLX_SOURCE_DIR) + "/experiments/lr_schedule_sweep.toml";
}

TEST_CASE("cli: --version, --help and usage errors") {
  auto result = run_sslx({"--version"});
  CHECK(result.exit_code == 0);
  CHECK(result.out == "sslx " SSLX_VERSION_STRING "\n");

  result = run_sslx({"--help"});
  CHECK(result.exit_code == 0);
  CHECK_THAT(result.out,
             Catch::Contains("config") && Catch::Contains("run") && Catch::Contains("Exit codes"));

  result = run_sslx({"frobnicate"});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.err, Catch::Contains("frobnicate"));
  CHECK(run_sslx({}).exit_code == 2);
}

TEST_CASE("cli: config show prints the resolved config, with provenance on request") {
  auto result = run_sslx({"config", "show", kExperiment, "seed=5", "schedule.lr=0.01"});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("seed = 5") && Catch::Contains("lr = 0.01") &&
                             Catch::Contains("total_steps = 1000") &&
                             Catch::Contains("name = \"cosine\""));
  CHECK_THAT(result.out, !Catch::Contains("[sweep]") && !Catch::Contains("defaults"));

  result = run_sslx({"config", "show", kExperiment, "--defaults-tree", "schedule=linear"});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("schedule: linear") &&
                             Catch::Contains("configs/schedule/linear.toml") &&
                             Catch::Contains("# overrides: schedule=linear") &&
                             Catch::Contains("warmup_steps = 100  # ") &&
                             Catch::Contains("plugins = []  # schema default"));
}

TEST_CASE("cli: config errors exit 3 and report every problem with its source") {
  TempDir dir;
  write_file(dir / "bad.toml",
             "defaults = [{ schedule = \"cosine\" }]\nseeed = 1\n[schedule]\nwarmup_step = 5\n");
  const auto result = run_sslx({"config", "show", (dir / "bad.toml").string(), "schedule.lr=fast"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("bad.toml:2: seeed: unknown key 'seeed'") &&
                             Catch::Contains("did you mean 'seed'"));
  CHECK_THAT(result.err, Catch::Contains("bad.toml:4: schedule.warmup_step") &&
                             Catch::Contains("did you mean 'warmup_steps'"));
  CHECK_THAT(result.err, Catch::Contains("command line (schedule.lr=fast): schedule.lr: expected "
                                         "float, got string \"fast\""));
  CHECK_THAT(result.err, Catch::Contains("schedule.total_steps: mandatory value is not set"));
}

TEST_CASE("cli: an unknown key on the command line names the command line") {
  const auto result = run_sslx({"config", "show", kExperiment, "schedule.warmup=3"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("command line (schedule.warmup=3)") &&
                             Catch::Contains("did you mean 'warmup_steps'"));
}

TEST_CASE("cli: run --dry-run lists every job - a broken job is reported by index") {
  auto result = run_sslx({"run", kExperiment, "--dry-run"});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("lr_schedule_sweep: 9 jobs -> runs/lr_schedule_sweep/"));
  CHECK_THAT(result.out, Catch::Contains("[0] schedule.warmup_steps=0,seed=1") &&
                             Catch::Contains("[8] schedule.warmup_steps=400,seed=3"));

  result = run_sslx({"run", kExperiment, "--dry-run", "schedule=cosine,linear", "seed=1"});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("6 jobs") && Catch::Contains("every job: seed=1") &&
                             Catch::Contains("[5] schedule.warmup_steps=400,schedule=linear"));

  // The constant schedule has no total_steps: every job using it is reported, none silently
  // dropped.
  result = run_sslx({"run", kExperiment, "--dry-run", "schedule=cosine,constant", "seed=1"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err,
             Catch::Contains("3 config errors") &&
                 Catch::Contains("job 5 (schedule.warmup_steps=400,schedule=constant)") &&
                 Catch::Contains("unknown key 'total_steps'"));

  // warmup 2500 > total_steps is fine for the schema, but range checks fail for -1.
  result = run_sslx({"run", kExperiment, "--dry-run", "schedule.warmup_steps=0,-1"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("job 3 (schedule.warmup_steps=-1,seed=1)") &&
                             Catch::Contains("must be >= 0\n"));
}

TEST_CASE("cli: list shows components with options, plugins included") {
  auto result = run_sslx({"list", "schedule", "--plugin", SSLX_EXAMPLE_PLUGIN});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("cosine") &&
                             Catch::Contains("total_steps: int = (mandatory)") &&
                             Catch::Contains("step_decay") && Catch::Contains("(plugin "));
  result = run_sslx({"list", "schedul"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("did you mean 'schedule'"));
  result = run_sslx({"list", "--plugin", SSLX_MISMATCHED_PLUGIN});
  CHECK(result.exit_code == 4);
  CHECK_THAT(result.err, Catch::Contains("0.0.0-mismatched") && Catch::Contains("rebuild"));
}

TEST_CASE("cli: a config can load a plugin and use its component") {
  TempDir dir;
  write_file(dir / "exp.toml", "plugins = [\"" + std::string(SSLX_EXAMPLE_PLUGIN) +
                                   "\"]\n[schedule]\nname = \"step_decay\"\nstep_size = 10\n");
  const auto result = run_sslx({"config", "show", (dir / "exp.toml").string()});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("gamma = 0.5"));
}

TEST_CASE("cli: log show summarises a run log") {
  TempDir dir;
  {
    auto writer = sslx::log::RunLogWriter::create(dir / "log.h5", "seed = 9\n");
    writer.log("train", "loss", 0, 4.0);
    writer.log("train", "loss", 10, 2.5);
    writer.set_eval("probe_accuracy", 0.5);
    writer.close(sslx::log::RunStatus::kCompleted);
  }
  auto result = run_sslx({"log", "show", (dir / "log.h5").string(), "--config"});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("status:   completed") && Catch::Contains("train/loss") &&
                             Catch::Contains("2.5") && Catch::Contains("probe_accuracy = 0.5") &&
                             Catch::Contains("seed = 9"));
  write_file(dir / "junk.h5", "junk");
  result = run_sslx({"log", "show", (dir / "junk.h5").string()});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.err, Catch::Contains("not a readable HDF5 file"));
}

TEST_CASE("cli: data prepare builds, then reuses, the cache - tokenizer train reports specials") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 40; ++i)
    text += "entry " + std::to_string(i) + "\n%\n";
  write_file(dir / "corpus.txt", text);
  write_file(dir / "exp.toml", "[data]\nsource = \"text\"\nfiles = [\"" +
                                   (dir / "corpus.txt").string() +
                                   "\"]\nseparator = \"percent_line\"\ncache_dir = \"" +
                                   (dir / "cache").string() + "\"\n");
  auto result = run_sslx({"data", "prepare", (dir / "exp.toml").string()});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("tokenizer: byte") && Catch::Contains("(built)"));
  CHECK_THAT(result.err, Catch::Contains("tokenizing 40 documents"));  // progress
  result = run_sslx({"data", "prepare", (dir / "exp.toml").string()});
  CHECK_THAT(result.out, Catch::Contains("(cached)"));

  result = run_sslx({"tokenizer", "train", (dir / "exp.toml").string()});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("pad=0 bos=1 eos=2 unk=3 mask=4 cls=5 sep=6") &&
                             Catch::Contains("sentinels=100"));

  result = run_sslx({"data", "prepare", (dir / "exp.toml").string(), "data.source=markov",
                     "~data.files", "~data.separator"});
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.out, Catch::Contains("nats/token"));
}
