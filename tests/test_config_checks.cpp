// The components' own config checks, run by `sslx run --dry-run` before any job starts: each rule
// is seen failing with its key path and where the value came from, and a config that satisfies
// it passing, through the binary as a user runs it.
#include <catch2/catch.hpp>

#include "support.h"
#include "train/device.h"

using sslx::test::CommandResult;
using sslx::test::run_sslx;
using sslx::test::TempDir;
using sslx::test::write_file;

namespace {

const std::string kSource = SSLX_SOURCE_DIR;
const std::string kGpt = kSource + "/experiments/gpt_fortunes.toml";

CommandResult dry_run(const std::string& file, std::vector<std::string> overrides = {}) {
  std::vector<std::string> arguments{"run", file, "--dry-run"};
  arguments.insert(arguments.end(), overrides.begin(), overrides.end());
  return run_sslx(arguments, kSource);
}

// A policy objective on the tiny model, scored by the reward model at `reward` (a path).
std::string grpo_config(const std::string& reward) {
  return "defaults = [{ data = \"fortunes\" }, { tokenizer = \"sentencepiece\" }, "
         "{ budget = \"tiny\" }, \"_self_\"]\n"
         "[model]\narch = \"decoder\"\n[tokenizer]\nvocab_size = 400\n"
         "[objective]\nname = \"grpo\"\n"
         "train_files = [\"data/fortune_pairs/sft_train.jsonl\"]\n"
         "validation_files = [\"data/fortune_pairs/sft_val.jsonl\"]\n"
         "max_new_tokens = 8\n"
         "reward = { name = \"reward_model\", checkpoint = \"" +
         reward + "\" }\n";
}

// A run folder holding `config` as sslx writes it: the resolved config of `file` + overrides.
void fake_run(const std::filesystem::path& folder, const std::string& file,
              const std::vector<std::string>& overrides) {
  std::vector<std::string> arguments{"config", "show", file};
  arguments.insert(arguments.end(), overrides.begin(), overrides.end());
  const auto shown = run_sslx(arguments, kSource);
  REQUIRE(shown.exit_code == 0);
  write_file(folder / "config.toml", shown.out);
}

}  // namespace

TEST_CASE("config checks: a valid experiment passes, the alignment stages included") {
  CHECK(dry_run(kGpt).exit_code == 0);
  // Stages name checkpoints of jobs that have not run yet: planned upstream jobs count.
  const auto result = dry_run(kSource + "/experiments/alignment.toml", {"budget=tiny"});
  CHECK(result.exit_code == 0);
  CHECK(result.err.empty());
}

TEST_CASE("config checks: the backbone's shape, every problem at once") {
  auto result = dry_run(kGpt, {"model.n_heads=7", "trainer.sequence_length=100000"});
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err,
             Catch::Contains("2 config errors") &&
                 Catch::Contains("command line (model.n_heads=7): job 0 (base): model.n_heads: "
                                 "n_heads = 7 must divide d_model = 256") &&
                 Catch::Contains("trainer.sequence_length: sequences of 100000 tokens exceed "
                                 "the 512 learned positions"));
  CHECK_THAT(result.err, !Catch::Contains("Exception raised from"));

  result = dry_run(kGpt, {"model.n_kv_heads=3"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("model.n_kv_heads: n_kv_heads = 3 must divide n_heads"));

  // Head width 6 is even, 3 is not: rotary positions rotate pairs of dimensions.
  CHECK(dry_run(kGpt, {"model.positions=rotary", "model.d_model=24"}).exit_code == 0);
  result = dry_run(kGpt, {"model.positions=rotary", "model.d_model=12"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("model.n_heads: rotary positions need an even head "
                                         "width, got d_model / n_heads = 3"));

  // Only a learned table limits the length.
  CHECK(dry_run(kGpt, {"model.positions=rotary", "trainer.sequence_length=1000"}).exit_code == 0);
  CHECK(dry_run(kGpt, {"trainer.sequence_length=512"}).exit_code == 0);
  CHECK(dry_run(kGpt, {"trainer.sequence_length=513"}).exit_code == 3);

  result = dry_run(kGpt, {"model.positions=relative", "model.relative_buckets=64",
                          "model.relative_max_distance=20"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("model.relative_max_distance: relative_max_distance = "
                                         "20 must exceed the exact distances"));
}

TEST_CASE("config checks: an objective on a backbone kind it cannot train") {
  auto result = dry_run(kGpt, {"objective.name=mlm", "~objective.document_mask"});
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("model.arch: objective 'mlm' does not train "
                                         "'decoder' (kind decoder); it trains kinds: encoder"));
  CHECK(dry_run(kGpt, {"objective.name=prefix_lm", "~objective.document_mask"}).exit_code == 0);
}

TEST_CASE("config checks: schedule and budget") {
  auto result = dry_run(kGpt, {"schedule.warmup_steps=200"});
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("schedule.total_steps: total_steps (200) must exceed "
                                         "warmup_steps (200)"));
  CHECK(dry_run(kGpt, {"schedule.warmup_steps=199"}).exit_code == 0);

  result = dry_run(kGpt, {"trainer.max_steps=0", "schedule.total_steps=100"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.max_steps: the training budget is unlimited"));
}

TEST_CASE("config checks: init_from names a run with the same backbone and vocabulary") {
  TempDir dir;
  const std::string sft = (dir / "sft.toml").string();
  write_file(sft,
             "defaults = [{ data = \"fortunes\" }, { tokenizer = \"sentencepiece\" }, "
             "{ budget = \"tiny\" }, \"_self_\"]\n"
             "[objective]\nname = \"sft\"\n"
             "train_files = [\"data/fortune_pairs/sft_train.jsonl\"]\n"
             "validation_files = [\"data/fortune_pairs/sft_val.jsonl\"]\n");
  const std::string run = (dir / "pretrained").string();

  auto result = dry_run(sft, {"objective.init_from=" + run + "/checkpoints"});
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective.init_from: no run at " + run));

  fake_run(dir / "pretrained", sft,
           {"objective.name=clm", "~objective.train_files", "~objective.validation_files"});
  CHECK(dry_run(sft, {"objective.init_from=" + run + "/checkpoints"}).exit_code == 0);
  // Dropout changes how a model trains, not its parameters.
  CHECK(dry_run(sft, {"objective.init_from=" + run, "model.dropout=0.1"}).exit_code == 0);

  result = dry_run(sft, {"objective.init_from=" + run, "model.d_model=64"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trained another backbone") &&
                             Catch::Contains("model.d_model = 64 here, 32 there"));

  result = dry_run(sft, {"objective.init_from=" + run, "tokenizer=byte"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("has another vocabulary"));

  result = dry_run(sft, {"objective.train_files=[\"no/such.jsonl\"]"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective.train_files: no file no/such.jsonl"));
}

TEST_CASE("config checks: a policy objective's reward model, backbone and lengths") {
  TempDir dir;
  const std::string policy = (dir / "grpo.toml").string();
  const std::string reward = (dir / "reward").string();
  write_file(policy, grpo_config(reward));

  auto result = dry_run(policy);
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective.reward.checkpoint: no run at " + reward));

  // A run of another objective is no reward model.
  fake_run(dir / "reward", policy,
           {"objective.name=clm", "~objective.train_files", "~objective.validation_files",
            "~objective.max_new_tokens", "~objective.reward"});
  result = dry_run(policy);
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trained objective 'clm'; expected a run of "
                                         "reward_model"));

  fake_run(dir / "reward", policy,
           {"objective.name=reward_model", "~objective.max_new_tokens", "~objective.reward"});
  CHECK(dry_run(policy).exit_code == 0);

  // The reward model reads token ids: its vocabulary must be the policy's.
  result = dry_run(policy, {"tokenizer.vocab_size=300"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective.reward.checkpoint: the run at " + reward +
                                         " has another vocabulary") &&
                             Catch::Contains("tokenizer.vocab_size = 300 here"));

  result = dry_run(policy, {"objective.max_new_tokens=32"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective.max_new_tokens: 32 new tokens leave no room "
                                         "for a prompt in trainer.sequence_length = 32"));

  result = dry_run(policy, {"trainer.grad_accumulation=2"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.grad_accumulation: a policy step is one "
                                         "rollout batch"));

  // A policy step runs data-parallel too (tests/train/test_data_parallel.cpp).
  result = dry_run(policy, {"trainer.world_size=2"});
  CHECK(result.exit_code == 0);

  // Generation and rewards run on the CPU so far (a cluster job included).
  result = dry_run(policy, {"launcher.name=slurm", "trainer.device=cuda"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.device: policy optimisation (generation, "
                                         "rewards, reference) runs on the CPU so far"));

  result = dry_run(policy, {"model.arch=encoder"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective 'grpo' does not train 'encoder'"));

  result = dry_run(policy, {"objective.gold_reward={name=\"topic_match\",directory=\"nowhere\"}"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective.gold_reward.directory: no directory nowhere"));
}

TEST_CASE("config checks: a stage whose upstream job trains another vocabulary") {
  // The reward model's job gets its own tokenizer: the policy scored by it would read token
  // ids that mean other tokens. Neither job has run; the planned upstream job's config decides.
  TempDir dir;
  const auto experiment = [&dir](const std::string& reward_tokenizer) {
    const std::string file = (dir / "stages.toml").string();
    write_file(file,
               "defaults = [{ data = \"fortunes\" }, { tokenizer = \"sentencepiece\" }, "
               "{ budget = \"tiny\" }, \"_self_\"]\n"
               "[model]\narch = \"decoder\"\n"
               "[tokenizer]\nvocab_size = 400\n"
               "[variants.reward_model]\n"
               "objective.name = \"reward_model\"\n"
               "objective.train_files = [\"data/fortune_pairs/preferences_train.jsonl\"]\n"
               "objective.validation_files = [\"data/fortune_pairs/preferences_val.jsonl\"]\n" +
                   reward_tokenizer +
                   "[variants.grpo]\n"
                   "job_paths = { \"objective.reward.checkpoint\" = \"reward_model\" }\n"
                   "objective.name = \"grpo\"\n"
                   "objective.train_files = [\"data/fortune_pairs/sft_train.jsonl\"]\n"
                   "objective.validation_files = [\"data/fortune_pairs/sft_val.jsonl\"]\n"
                   "objective.max_new_tokens = 8\n");
    return dry_run(file, {"--out", (dir / "runs").string()});
  };
  CHECK(experiment("").exit_code == 0);
  const auto result = experiment("tokenizer.vocab_size = 300\n");
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("job 1 (grpo): objective.reward.checkpoint: the run at") &&
                             Catch::Contains("has another vocabulary") &&
                             Catch::Contains("tokenizer.vocab_size = 400 here, 300 there"));
}

TEST_CASE("config checks: corpus files and tokenizer models exist") {
  auto result = dry_run(kGpt, {"data.directory=/no/fortunes"});
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("data.directory: no directory /no/fortunes"));

  result = dry_run(kGpt, {"data.classes=[\"work\",\"no_such_class\"]"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("data.classes: no class file no_such_class"));
  CHECK_THAT(result.err, !Catch::Contains("no class file work"));

  const std::vector<std::string> text{"data.source=text", "~data.directory", "~data.classes"};
  auto with = [&text](const std::string& files) {
    auto overrides = text;
    overrides.push_back("data.files=[\"" + files + "\"]");
    return overrides;
  };
  result = dry_run(kGpt, with("no/such/*.txt"));
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("data.files: ") && Catch::Contains("no/such/*.txt"));
  CHECK(dry_run(kGpt, with("README.md")).exit_code == 0);

  result = dry_run(kGpt, {"tokenizer.model=no/such.model"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("tokenizer.model: no SentencePiece model file "
                                         "no/such.model"));
}

TEST_CASE("a second decoder from a plugin trains with clm and generates, by its kind") {
  TempDir dir;
  const std::string file = (dir / "llama.toml").string();
  write_file(file, "plugins = [\"" + std::string(SSLX_LLAMA_DECODER_PLUGIN) +
                       "\"]\n"
                       "defaults = [{ data = \"fortunes\" }, { budget = \"tiny\" }, \"_self_\"]\n"
                       "[model]\narch = \"llama_decoder\"\n"
                       "[objective]\nname = \"clm\"\n"
                       "[eval]\ntasks = [\"heldout\", \"generate\"]\n");
  // Objectives that train other kinds refuse it by its kind.
  auto result = dry_run(file, {"objective.name=mlm"});
  REQUIRE(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("objective 'mlm' does not train 'llama_decoder' "
                                         "(kind decoder)"));

  result = run_sslx({"run", file, "--out", (dir / "runs").string()}, kSource);
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const auto log = dir / "runs" / "base" / "log.h5";
  const auto shown = run_sslx({"log", "show", log.string(), "--texts"});
  REQUIRE(shown.exit_code == 0);
  CHECK_THAT(shown.out, Catch::Contains("heldout/loss") && Catch::Contains("[generate/sample_0]"));
  CHECK_THAT(shown.out,
             !Catch::Contains("generate/skipped") && !Catch::Contains("heldout/skipped"));
}

TEST_CASE("config checks: launcher values must fit on an #SBATCH line") {
  CHECK(dry_run(kGpt, {"launcher.name=slurm", "launcher.time=2:00:00"}).exit_code == 0);
  auto result = dry_run(kGpt, {"launcher.name=slurm", "launcher.time=1 day",
                               "launcher.sbatch_options=[\"--qos high\"]"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("launcher.time: \"1 day\" cannot be written on an "
                                         "#SBATCH line") &&
                             Catch::Contains("launcher.sbatch_options: \"--qos high\""));
  result = dry_run(kGpt, {"launcher.name=pbs"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("launcher.name"));
}

TEST_CASE("config checks: trainer.device and trainer.precision fit this machine") {
  CHECK(dry_run(kGpt, {"trainer.device=cpu"}).exit_code == 0);
  CHECK(dry_run(kGpt, {"trainer.device=auto"}).exit_code == 0);
  auto result = dry_run(kGpt, {"trainer.device=tpu"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.device: \"tpu\" is not a device: use \"cpu\", "
                                         "\"cuda\", \"cuda:N\" or \"auto\""));
  result = dry_run(kGpt, {"trainer.device=cpu", "trainer.precision=bf16"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.precision: \"bf16\" autocasts on CUDA only"));

  // A GPU beyond those this process sees (none with Debian's CPU-only LibTorch).
  const int gpus = sslx::train::cuda_device_count();
  const std::string missing = "cuda:" + std::to_string(gpus);
  result = dry_run(kGpt, {"trainer.device=" + missing});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.device: \"" + missing + "\"") &&
                             Catch::Contains(gpus == 0 ? "sees none: it was built without CUDA"
                                                       : "this machine has"));
  CHECK_THROWS_WITH(sslx::train::resolve_device(missing, true),
                    Catch::Contains("trainer.device: \"" + missing + "\""));
  // auto: the first GPU when there is one, else the CPU; always the CPU for a CPU-only objective.
  CHECK(sslx::train::resolve_device("auto", true).is_cuda() == (gpus > 0));
  CHECK(sslx::train::resolve_device("auto", false).is_cpu());

  // A job for a cluster runs on the cluster's GPUs: only the values are checked here.
  CHECK(dry_run(kGpt, {"launcher.name=slurm", "trainer.device=cuda", "trainer.precision=bf16"})
            .exit_code == 0);
  result = dry_run(kGpt, {"launcher.name=slurm", "trainer.device=gpu"});
  CHECK(result.exit_code == 3);
  CHECK_THAT(result.err, Catch::Contains("trainer.device: \"gpu\" is not a device"));
}
