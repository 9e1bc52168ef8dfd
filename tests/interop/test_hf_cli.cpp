// The interop commands end to end: a run trained by `sslx run` is exported with `sslx export`,
// imported with `sslx import`, and fine-tuned from the HF directory with init_from = "hf:DIR".
#include "nn/torch_catch.h"

#include <string>

#include "config/toml_io.h"
#include "nn/state_io.h"
#include "support.h"
#include "util/fs.h"

namespace {

namespace stdfs = std::filesystem;
using sslx::test::run_sslx;

// A tiny GPT-2-shaped decoder on one fortune category with a small SentencePiece vocabulary.
const std::string kPretrain =
    "defaults = [{ model = \"tiny\" }, { tokenizer = \"sentencepiece\" }]\nseed = 1\n"
    "[model]\narch = \"decoder\"\nactivation = \"gelu_tanh\"\n"
    "[tokenizer]\nvocab_size = 500\nsentinels = 5\n"
    "[data]\nsource = \"fortunes\"\nclasses = [\"science\"]\n"
    "[trainer]\nmax_steps = 3\nbatch_size = 4\nsequence_length = 32\neval_every = 0\n"
    "[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 0\n";

sslx::test::CommandResult run(const sslx::test::TempDir& dir, std::vector<std::string> arguments) {
  arguments.insert(arguments.end(), {"--config-dir", SSLX_SOURCE_DIR "/configs"});
  return run_sslx(arguments, dir.path());
}

}  // namespace

TEST_CASE("sslx export, import and init_from = hf:DIR round-trip a trained run", "[hf][cli]") {
  const sslx::test::TempDir dir;
  sslx::test::write_file(dir / "pretrain.toml", kPretrain);
  const auto pretrain = run(dir, {"run", "pretrain.toml", "--out", "out"});
  INFO(pretrain.out << pretrain.err);
  REQUIRE(pretrain.exit_code == 0);

  // A run saved before sslx had lm_head_transform resolved its [model] without the key: such a
  // run still exports, with the option's default.
  const std::string saved = sslx::fs::read_text(dir / "out/base/config.toml");
  const auto key = saved.find("lm_head_transform = false\n");
  REQUIRE(key != std::string::npos);
  sslx::test::write_file(dir / "out/base/config.toml",
                         saved.substr(0, key) + saved.substr(key + 26));
  const auto exported = run_sslx({"export", "out/base", "--format", "hf", "-o", "hf"}, dir.path());
  INFO(exported.out << exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(exported.out, Catch::Contains("as GPT2LMHeadModel (float32) to hf"));
  for (const char* file : {"model.safetensors", "config.json", "generation_config.json",
                           "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"}) {
    INFO(file);
    CHECK(stdfs::is_regular_file(dir / "hf" / file));
  }

  const auto imported = run_sslx({"import", "hf", "-o", "imported"}, dir.path());
  INFO(imported.out << imported.err);
  REQUIRE(imported.exit_code == 0);
  const auto config = sslx::config::load_toml_file(dir / "imported/config.toml");
  CHECK(config.get_string("model.activation") == "gelu_tanh");
  CHECK(config.get_int("tokenizer.sentinels") == 5);
  const auto trained =
      sslx::nn::load_state_dict(dir / "out/base/checkpoints/step-00000003/model.pt");
  const auto read_back = sslx::nn::load_state_dict(dir / "imported/model.pt");
  REQUIRE(trained.size() == read_back.size());
  for (const auto& [name, tensor] : trained) {
    INFO(name);
    CHECK(at::equal(read_back.at(name), tensor));
  }

  // The imported folder exports to the same file again.
  const auto again = run_sslx({"export", "imported", "-o", "hf2"}, dir.path());
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(sslx::fs::read_text(dir / "hf2/model.safetensors") ==
        sslx::fs::read_text(dir / "hf/model.safetensors"));
  CHECK(sslx::fs::read_text(dir / "hf2/config.json") ==
        sslx::fs::read_text(dir / "hf/config.json"));

  // Fine-tuning from the HF directory: --dry-run compares its config.json with [model] first.
  const std::string finetune =
      kPretrain +
      "[objective]\nname = \"sft\"\nformat = \"messages\"\ntrain_files = [\"" SSLX_SOURCE_DIR
      "/tests/data/sft_messages.jsonl\"]\nvalidation_files = [\"" SSLX_SOURCE_DIR
      "/tests/data/sft_messages.jsonl\"]\ninit_from = \"hf:hf\"\n";
  sslx::test::write_file(dir / "finetune.toml", finetune);
  const auto other_shape =
      run(dir, {"run", "finetune.toml", "--out", "ft", "--dry-run", "model.d_model=64"});
  CHECK(other_shape.exit_code == 3);
  CHECK_THAT(other_shape.err, Catch::Contains("the Hugging Face model at hf:hf is another "
                                              "backbone") &&
                                  Catch::Contains("model.d_model = 64 here, 32 there"));
  const auto missing =
      run(dir, {"run", "finetune.toml", "--out", "ft", "--dry-run", "objective.init_from=hf:none"});
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.err, Catch::Contains("objective.init_from: no none/config.json"));
  const auto finetuned = run(dir, {"run", "finetune.toml", "--out", "ft"});
  INFO(finetuned.out << finetuned.err);
  CHECK(finetuned.exit_code == 0);
  CHECK_THAT(finetuned.out + finetuned.err, Catch::Contains("init_from: loaded GPT2LMHeadModel"));
}

TEST_CASE("sslx export refuses a run no HF family holds, naming the option", "[hf][cli]") {
  const sslx::test::TempDir dir;
  sslx::test::write_file(dir / "pretrain.toml", kPretrain + "\n");
  const auto pretrain =
      run(dir, {"run", "pretrain.toml", "--out", "out", "model.positions=rotary"});
  INFO(pretrain.out << pretrain.err);
  REQUIRE(pretrain.exit_code == 0);
  const auto exported = run_sslx({"export", "out/base", "-o", "hf"}, dir.path());
  CHECK(exported.exit_code == 1);
  CHECK_THAT(exported.err, Catch::Contains("GPT2LMHeadModel: positions: GPT-2 has learned "
                                           "positions") &&
                               Catch::Contains("LlamaForCausalLM: norm: Llama uses rms_norm"));
  CHECK(!stdfs::exists(dir / "hf/model.safetensors"));
  const auto no_run = run_sslx({"export", "nowhere", "-o", "hf"}, dir.path());
  CHECK(no_run.exit_code == 1);
  CHECK_THAT(no_run.err, Catch::Contains("no model.pt in nowhere"));
}
