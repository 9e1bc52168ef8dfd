// The interop commands end to end: a run trained by `sslx run` is exported with `sslx export`,
// imported with `sslx import`, and fine-tuned from the HF directory with init_from = "hf:DIR"; a
// classifier the fine-tune evaluator kept goes the same way as BertForSequenceClassification.
#include "nn/torch_catch.h"

#include <nlohmann/json.hpp>

#include <map>
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

// dir/imported/model.pt (what `sslx import hf` wrote) holds exactly `original`, and
// `sslx export imported -o hf2` writes the same files as hf/ again.
void check_imported_and_exported_again(const sslx::test::TempDir& dir,
                                       const std::map<std::string, at::Tensor>& original) {
  const auto read_back = sslx::nn::load_state_dict(dir / "imported/model.pt");
  REQUIRE(original.size() == read_back.size());
  for (const auto& [name, tensor] : original) {
    INFO(name);
    CHECK(at::equal(read_back.at(name), tensor));
  }
  const auto again = run_sslx({"export", "imported", "-o", "hf2"}, dir.path());
  INFO(again.out << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(sslx::fs::read_text(dir / "hf2/model.safetensors") ==
        sslx::fs::read_text(dir / "hf/model.safetensors"));
  CHECK(sslx::fs::read_text(dir / "hf2/config.json") ==
        sslx::fs::read_text(dir / "hf/config.json"));
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
  // The checkpoint's tensors, and the same files when the imported folder is exported again.
  check_imported_and_exported_again(
      dir, sslx::nn::load_state_dict(dir / "out/base/checkpoints/step-00000003/model.pt"));

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

TEST_CASE("a classifier the fine-tune evaluator saved exports as BertForSequenceClassification",
          "[hf][cli]") {
  // A tiny BERT-shaped encoder pretrained with masked LM, then fine-tuned on two fortune
  // categories by the evaluator with BERT's head ([CLS] through the pooler), which keeps it.
  const sslx::test::TempDir dir;
  const std::string bert =
      "defaults = [{ model = \"tiny\" }, { tokenizer = \"sentencepiece\" }]\nseed = 1\n"
      "[model]\narch = \"encoder\"\nnorm_position = \"post\"\ntoken_types = 2\n"
      "[objective]\nname = \"mlm\"\n"
      "[tokenizer]\nvocab_size = 500\n"
      "[data]\nsource = \"fortunes\"\nclasses = [\"science\", \"food\"]\n"
      "[trainer]\nmax_steps = 3\nbatch_size = 4\nsequence_length = 32\neval_every = 0\n"
      "[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 0\n"
      "[eval]\ntasks = [\"finetune\"]\n"
      "[eval.finetune]\nclasses = [\"science\", \"food\"]\nmax_train = 40\nmax_test = 20\n"
      "epochs = 1\npooling = \"first\"\npooler = true\nsave_model = true\n";
  sslx::test::write_file(dir / "bert.toml", bert);
  const auto trained = run(dir, {"run", "bert.toml", "--out", "out"});
  INFO(trained.out << trained.err);
  REQUIRE(trained.exit_code == 0);
  const stdfs::path saved = dir / "out/base/finetune";
  REQUIRE(stdfs::is_regular_file(saved / "model.pt"));
  const auto saved_config = sslx::config::load_toml_file(saved / "config.toml");
  CHECK(saved_config.get_string("classifier.pooling") == "first");
  CHECK(saved_config.get_bool("classifier.pooler"));
  const auto state = sslx::nn::load_state_dict(saved / "model.pt");
  CHECK(state.at("classifier_head.proj.weight").sizes() == at::IntArrayRef({2, 32}));
  CHECK(state.at("classifier_head.pooler.weight").sizes() == at::IntArrayRef({32, 32}));
  CHECK(state.count("lm_head.proj.weight") == 0);

  const auto exported = run_sslx({"export", "out/base/finetune", "-o", "hf"}, dir.path());
  INFO(exported.out << exported.err);
  REQUIRE(exported.exit_code == 0);
  CHECK_THAT(exported.out, Catch::Contains("as BertForSequenceClassification (float32)"));
  const auto config = nlohmann::json::parse(sslx::fs::read_text(dir / "hf/config.json"));
  CHECK(config["architectures"] == nlohmann::json::array({"BertForSequenceClassification"}));
  CHECK(config["id2label"] == nlohmann::json({{"0", "science"}, {"1", "food"}}));
  CHECK(config["label2id"] == nlohmann::json({{"science", 0}, {"food", 1}}));
  CHECK(config["problem_type"] == "single_label_classification");
  CHECK(!stdfs::exists(dir / "hf/generation_config.json"));

  // Imported back: the same tensors, and the same files when exported again.
  const auto imported = run_sslx({"import", "hf", "-o", "imported"}, dir.path());
  INFO(imported.out << imported.err);
  REQUIRE(imported.exit_code == 0);
  CHECK_THAT(imported.out, Catch::Contains("imported BertForSequenceClassification"));
  check_imported_and_exported_again(dir, state);

  // A classifier does not generate, and a pre-norm one has no HF class.
  const auto generate = run_sslx({"generate", "hf", "--prompt", "x"}, dir.path());
  CHECK(generate.exit_code == 1);
  CHECK_THAT(generate.err, Catch::Contains("holds a BertForSequenceClassification (2 labels)"));
  const auto prenorm =
      run(dir, {"run", "bert.toml", "--out", "prenorm", "model.norm_position=pre"});
  INFO(prenorm.out << prenorm.err);
  REQUIRE(prenorm.exit_code == 0);
  const auto refused = run_sslx({"export", "prenorm/base/finetune", "-o", "hf3"}, dir.path());
  CHECK(refused.exit_code == 1);
  CHECK_THAT(refused.err, Catch::Contains("encoder classifier exactly") &&
                              Catch::Contains("norm_position: BERT is post-norm"));
}
