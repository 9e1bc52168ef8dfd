// The evaluators on tiny models: held-out loss of a random and a trained checkpoint, the probe's
// logistic regression on planted signal, probe and fine-tune end to end on a synthetic labelled
// task, generation through the KV cache, skips, [eval] config checks and checkpoint choice.
#include "nn/torch_catch.h"

#include <torch/torch.h>

#include <cmath>

#include "cli/builtins.h"
#include "config/config_error.h"
#include "eval/classification_metrics.h"
#include "eval/evaluator.h"
#include "eval/probe.h"
#include "log/run_log.h"
#include "nn/state_io.h"
#include "objectives/language_model.h"
#include "support.h"
#include "train/checkpoint.h"
#include "train/training_fixture.h"
#include "util/rng.h"
#include "util/strings.h"

using namespace sslx;

namespace {

std::string markov_job(std::int64_t max_steps, std::int64_t eval_every,
                       const std::string& extra = "", const std::string& objective = "clm") {
  return "[data]\nsource = \"markov\"\ndocuments = 300\ndocument_length = 65\nstates = 8\n"
         "concentration = 0.3\ntest_fraction = 0.2\n[objective]\nname = \"" +
         objective +
         "\"\n"
         "[trainer]\nmax_steps = " +
         std::to_string(max_steps) + "\neval_every = " + std::to_string(eval_every) +
         "\nbatch_size = 8\nsequence_length = 32\neval_batches = 4\ncheckpoint_every = 1000\n"
         "keep_last = 1\nthreads = 1\n[schedule]\nname = \"constant\"\nlr = 0.003\n" +
         extra;
}

// A checkpoint directory inside a job directory, holding the fixture's model as it is now.
std::filesystem::path save_model(test::TrainingFixture& fixture, const test::TempDir& dir) {
  const auto checkpoint = dir / "job" / "checkpoints" / "step-00000000";
  std::filesystem::create_directories(checkpoint);
  nn::save_state(fixture.objective->model(), checkpoint / "model.pt");
  return checkpoint;
}

// Two classes of 300 %-separated entries; their words come from two disjoint vocabularies, or
// with `same_words` from one (no signal: the negative control).
void write_labelled_task(const std::filesystem::path& directory, bool same_words) {
  const std::vector<std::vector<std::string>> words{
      {"apple", "banana", "cherry", "grape", "melon", "peach"},
      {"zebra", "yak", "walrus", "otter", "moose", "koala"}};
  RngStream rng(11, "labelled");
  for (int c = 0; c < 2; ++c) {
    std::string text;
    for (int entry = 0; entry < 300; ++entry) {
      const auto& vocabulary = words[same_words ? 0 : c];
      for (int w = 0; w < 6; ++w)
        text += vocabulary[rng.uniform_below(vocabulary.size())] + " ";
      text += "\n%\n";
    }
    test::write_file(directory / (c == 0 ? "first" : "second"), text);
  }
}

std::string task_section(const std::string& evaluator, const std::filesystem::path& directory,
                         const std::string& extra = "") {
  return "[eval." + evaluator + "]\ndirectory = \"" + directory.string() +
         "\"\nclasses = []\nmax_length = 48\n" + extra;
}

}  // namespace

TEST_CASE("heldout: a random initialisation costs ln V per token") {
  test::TempDir dir;
  // Untied: a tied head scores each token's own embedding highest, which a Markov chain that
  // often repeats its state rewards even at initialisation (loss 5.73 < ln V = 5.89 here).
  test::TrainingFixture fixture(dir, "[model]\ntie_embeddings = false\n" + markov_job(1, 0),
                                "random");
  const auto checkpoint = save_model(fixture, dir);
  const auto results = eval::run_evaluators(fixture.config, checkpoint, {"heldout"});
  const double ln_v = std::log(static_cast<double>(fixture.data.tokenizer->vocab_size()));
  INFO("loss " << results.scalars.at("heldout/loss") << ", ln V " << ln_v);
  CHECK(results.scalars.at("heldout/loss") == Approx(ln_v).margin(0.05));
  CHECK(results.scalars.at("heldout/perplexity") ==
        Approx(std::exp(results.scalars.at("heldout/loss"))));
  CHECK(results.scalars.at("heldout/accuracy") < 0.05);
  CHECK(results.scalars.at("heldout/targets") > 0);
  // Synthetic tokens have no bytes: bits per byte is omitted, and says why.
  CHECK_THAT(results.texts.at("heldout/bits_per_byte"), Catch::Contains("omitted"));
}

TEST_CASE("heldout: a trained checkpoint gives the live model's test loss - best is recorded") {
  test::TempDir dir;
  test::TrainingFixture fixture(dir, markov_job(60, 20, "[eval]\ntasks = [\"heldout\"]\n"),
                                "trained");
  fixture.trainer->run();
  // The test loss of the live objective, summed over the whole test split here.
  double sum = 0, count = 0;
  {
    fixture.objective->model().eval();
    const at::NoGradGuard no_grad;
    train::Batch batch;
    for (std::int64_t i = 0; fixture.objective->eval_batch(data::Split::kTest, i, batch); ++i) {
      const auto terms = fixture.objective->loss(batch);
      sum += terms.loss_sum.item<double>();
      count += static_cast<double>(terms.n_targets);
    }
  }
  std::string note;
  const auto last = eval::find_checkpoint(fixture.paths.checkpoints, "last", note);
  const auto results = eval::run_evaluators(fixture.config, last, {});  // from eval.tasks
  CHECK(results.scalars.at("heldout/loss") == Approx(sum / count).epsilon(1e-5));
  CHECK(results.scalars.at("heldout/targets") == count);
  const double ln_v = std::log(static_cast<double>(fixture.data.tokenizer->vocab_size()));
  CHECK(results.scalars.at("heldout/loss") < ln_v - 1.0);
  CHECK(results.scalars.at("heldout/entropy_rate") == Approx(*fixture.data.entropy_rate));

  // The trainer recorded <checkpoints>/best at the evaluation with the lowest validation loss
  // (steps 20, 40 and the final one at 60), and kept it.
  const auto best = eval::find_checkpoint(fixture.paths.checkpoints, "best", note);
  CHECK(note == "best validation loss");
  const log::RunLogReader reader(fixture.paths.log);
  const auto val = reader.read("val", "loss");
  std::int64_t best_step = -1;
  double best_loss = INFINITY;
  for (std::size_t i = 0; i < val.steps.size(); ++i) {
    if (val.values[i] < best_loss) {
      best_loss = val.values[i];
      best_step = val.steps[i];
    }
  }
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(best_step));
  CHECK(best.filename().string() == name);
  CHECK((best == last) == (best_step == 60));
}

TEST_CASE("probe: logistic regression finds a planted signal, and none where there is none") {
  torch::manual_seed(5);
  const std::int64_t N = 400, E = 16, K = 4;
  const at::Tensor x = torch::randn({2 * N, E});
  // Class = argmax of the first K features (plus noise), on a feature scale of 1000: the
  // standardisation must make the scale irrelevant.
  const at::Tensor planted = (x.narrow(1, 0, K) + 0.1 * torch::randn({2 * N, K})).argmax(1);
  const at::Tensor random = torch::randint(K, {2 * N}, torch::kLong);
  const auto labels = [](const at::Tensor& t, std::int64_t from, std::int64_t n) {
    const at::Tensor part = t.narrow(0, from, n).contiguous();
    return std::vector<std::int64_t>(part.data_ptr<std::int64_t>(),
                                     part.data_ptr<std::int64_t>() + n);
  };
  const at::Tensor scaled = 1000 * x;
  for (const bool signal : {true, false}) {
    const at::Tensor& y = signal ? planted : random;
    const auto classifier = eval::fit_logistic_regression(scaled.narrow(0, 0, N), labels(y, 0, N),
                                                          K, {.l2 = 1e-3, .max_iterations = 100});
    const auto predicted = classifier.predict(scaled.narrow(0, N, N));
    const auto truth = labels(y, N, N);
    const eval::Confusion confusion = eval::Confusion::of(truth, predicted, K);
    const double majority = eval::majority_accuracy(labels(y, 0, N), truth, K);
    INFO("signal " << signal << ": accuracy " << eval::accuracy(confusion) << ", majority "
                   << majority);
    if (signal) {
      CHECK(eval::accuracy(confusion) > 0.8);
      CHECK(eval::accuracy(confusion) > majority + 0.4);
    } else {
      CHECK(eval::accuracy(confusion) < majority + 0.1);
    }
  }
}

TEST_CASE("probe and finetune end to end on a synthetic labelled task beat the majority") {
  test::TempDir dir;
  write_labelled_task(dir / "signal", false);
  write_labelled_task(dir / "nosignal", true);
  const std::string eval_sections =
      task_section("probe", dir / "signal") +
      task_section("finetune", dir / "signal", "epochs = 3\nlr = 3e-3\n");
  test::TrainingFixture fixture(dir, markov_job(1, 0, eval_sections), "task");
  const auto checkpoint = save_model(fixture, dir);
  const auto results = eval::run_evaluators(fixture.config, checkpoint, {"probe", "finetune"});
  for (const std::string name : {"probe", "finetune"}) {
    INFO(name << " accuracy " << results.scalars.at(name + "/accuracy") << ", macro-F1 "
              << results.scalars.at(name + "/macro_f1") << ", majority "
              << results.scalars.at(name + "/majority_accuracy"));
    CHECK(results.scalars.at(name + "/majority_accuracy") < 0.7);
    CHECK(results.scalars.at(name + "/accuracy") > 0.9);
    CHECK(results.scalars.at(name + "/macro_f1") > 0.9);
    // 600 entries, test_fraction 0.2
    CHECK(results.scalars.at(name + "/test_examples") > 60);
    CHECK(results.scalars.at(name + "/train_examples") > 300);
  }
  // Negative control: both classes from the same words; neither can tell them apart.
  test::TrainingFixture control(
      dir,
      markov_job(1, 0,
                 task_section("probe", dir / "nosignal") +
                     task_section("finetune", dir / "nosignal", "epochs = 3\nlr = 3e-3\n")),
      "control");
  const auto control_results =
      eval::run_evaluators(control.config, save_model(control, dir), {"probe", "finetune"});
  for (const std::string name : {"probe", "finetune"}) {
    INFO(name << " accuracy without signal " << control_results.scalars.at(name + "/accuracy"));
    CHECK(control_results.scalars.at(name + "/accuracy") < 0.7);
  }
}

TEST_CASE("generate: deterministic per seed - top_k 1 and tiny top_p are greedy decoding") {
  test::TempDir dir;
  const std::string prompts = "[eval.generate]\nprompts = [\"\"]\nmax_new_tokens = 12\n";
  test::TrainingFixture fixture(dir, markov_job(1, 0, prompts), "generate");
  const auto checkpoint = save_model(fixture, dir);
  const auto sample = [&](const std::string& overrides) {
    config::Node config = fixture.config;
    for (const auto& assignment : split(overrides, ',')) {
      if (assignment.empty()) continue;
      const auto parts = split(assignment, '=');
      const std::string& value = parts[1];
      config.find_path("eval.generate")
          ->set(parts[0], value.find('.') != std::string::npos
                              ? config::Node(std::stod(value))
                              : config::Node(static_cast<std::int64_t>(std::stoll(value))));
    }
    const auto results = eval::run_evaluators(config, checkpoint, {"generate"});
    return results.texts.at("generate/sample_0");
  };
  const std::string a = sample("temperature=1.5,top_k=0,top_p=1.0,seed=1");
  CHECK(a == sample("temperature=1.5,top_k=0,top_p=1.0,seed=1"));
  CHECK(a != sample("temperature=1.5,top_k=0,top_p=1.0,seed=2"));
  const std::string greedy = sample("temperature=0.0");
  CHECK(sample("temperature=1.0,top_k=1,top_p=1.0,seed=3") == greedy);
  CHECK(sample("temperature=1.0,top_k=0,top_p=0.000001,seed=4") == greedy);

  // Greedy decoding by full forwards without a cache, from the same EOS prompt, agrees.
  auto& model = dynamic_cast<objectives::LanguageModelImpl&>(fixture.objective->model());
  model.eval();
  const at::NoGradGuard no_grad;
  const auto eos = fixture.data.tokenizer->specials().require_eos();
  std::vector<std::int64_t> ids{eos};
  std::vector<data::TokenId> generated{eos};
  for (int step = 0; step < 12; ++step) {
    const at::Tensor logits =
        model.logits({.token_ids = torch::tensor(ids, torch::kLong).reshape({1, -1})});
    const auto next = logits[0][-1].argmax().item<std::int64_t>();
    if (next == eos) break;
    ids.push_back(next);
    generated.push_back(static_cast<data::TokenId>(next));
  }
  CHECK(fixture.data.tokenizer->decode(generated) == greedy);
}

TEST_CASE("evaluators that do not apply are skipped with the reason recorded") {
  test::TempDir dir;
  test::TrainingFixture fixture(dir, "[model]\narch = \"encoder\"\n" + markov_job(1, 0, "", "mlm"),
                                "encoder");
  const auto results =
      eval::run_evaluators(fixture.config, save_model(fixture, dir), {"generate", "heldout"});
  CHECK_THAT(results.texts.at("generate/skipped"), Catch::Contains("needs a decoder"));
  CHECK(results.scalars.count("generate/samples") == 0);
  CHECK(results.scalars.count("heldout/loss") == 1);  // MLM's masked-token loss
  CHECK(results.scalars.count("heldout/accuracy") == 1);
}

TEST_CASE("[eval] config: unknown keys and unknown evaluators are errors naming the key") {
  test::TempDir dir;
  CHECK_THROWS_WITH(test::TrainingFixture(dir, markov_job(1, 0, "[eval.probe]\nl3 = 1.0\n"), "a"),
                    Catch::Contains("[eval.probe]") && Catch::Contains("l2"));
  test::TrainingFixture fixture(dir, markov_job(1, 0, "[eval]\ntasks = [\"prob\"]\n"), "b");
  CHECK_THROWS_AS(eval::validate_eval_config(fixture.config), config::ConfigError);
  CHECK_THROWS_WITH(eval::validate_eval_config(fixture.config),
                    Catch::Contains("eval.tasks[0]") && Catch::Contains("probe"));
  // Defaults are filled and documented by the schema.
  CHECK(fixture.config.get_float("eval.probe.l2") == Approx(1e-3));
  CHECK(fixture.config.get_string("eval.checkpoint") == "best");
  CHECK(fixture.config.get_int("eval.generate.top_k") == 40);
}

TEST_CASE("find_checkpoint: best, last, and the fallback that says so") {
  test::TempDir dir;
  const auto checkpoints = dir / "checkpoints";
  for (const std::string step : {"step-00000010", "step-00000020"})
    test::write_file(checkpoints / step / "model.pt", "x");
  test::write_file(checkpoints / "latest", "step-00000020\n");
  std::string note;
  CHECK(eval::find_checkpoint(checkpoints, "best", note).filename() == "step-00000020");
  CHECK_THAT(note, Catch::Contains("no best checkpoint was recorded"));
  test::write_file(checkpoints / "best", "step-00000010\n");
  CHECK(eval::find_checkpoint(checkpoints, "best", note).filename() == "step-00000010");
  CHECK(eval::find_checkpoint(checkpoints, "last", note).filename() == "step-00000020");
  test::write_file(checkpoints / "best", "step-00000030\n");
  CHECK_THROWS_WITH(eval::find_checkpoint(checkpoints, "best", note),
                    Catch::Contains("step-00000030"));
  CHECK_THROWS(eval::find_checkpoint(dir / "none", "last", note));
}

namespace {

// An evaluator as a plugin would add one: its options become [eval.constant].
class ConstantEvaluator : public eval::Evaluator {
 public:
  explicit ConstantEvaluator(double value) : value_(value) {}
  void run(eval::EvalContext&, eval::EvalResults& results) override {
    results.scalars["constant/value"] = value_;
  }

 private:
  double value_;
};

}  // namespace

TEST_CASE("a registered evaluator gets its [eval.name] options validated and runs") {
  cli::register_builtins();
  if (!eval::evaluator_registry().contains("constant")) {
    config::Schema schema;
    schema.add({.key = "value", .type = config::Type::kFloat, .default_value = 1.0, .doc = "v"});
    eval::evaluator_registry().add(
        "constant", "a test evaluator", std::move(schema), [](const config::Node& options) {
          return std::make_unique<ConstantEvaluator>(options.get_float("value"));
        });
  }
  test::TempDir dir;
  test::TrainingFixture fixture(
      dir, markov_job(1, 0, "[eval]\ntasks = [\"constant\"]\n[eval.constant]\nvalue = 2.5\n"), "c");
  const auto results = eval::run_evaluators(fixture.config, save_model(fixture, dir), {});
  CHECK(results.scalars.at("constant/value") == 2.5);
  CHECK(results.scalars.count("constant/seconds") == 1);
  CHECK_THROWS_WITH(
      test::TrainingFixture(dir, markov_job(1, 0, "[eval.constant]\nvalu = 2.5\n"), "d"),
      Catch::Contains("did you mean"));
}

TEST_CASE("sslx eval on a job directory and on a checkpoint directory - exit codes") {
  test::TempDir dir;
  test::write_file(dir / "job.toml", "defaults = [{ model = \"tiny\" }]\nseed = 3\n" +
                                         markov_job(20, 10) + "[experiment]\nname = \"evaljob\"\n");
  const auto run = test::run_sslx(
      {"run", (dir / "job.toml").string(), "--out", (dir / "runs").string()}, dir.path());
  REQUIRE(run.exit_code == 0);
  const auto job = dir / "runs" / "base";
  const auto by_job = test::run_sslx({"eval", job.string(), "--task", "heldout"}, dir.path());
  INFO(by_job.err);
  CHECK(by_job.exit_code == 0);
  CHECK_THAT(by_job.out,
             Catch::Contains("heldout/loss") &&
                 Catch::Contains("step-00000020 (best validation loss)"));  // the final one
  const auto by_checkpoint =
      test::run_sslx({"eval", (job / "checkpoints" / "step-00000020").string(), "--task",
                      "generate", "eval.generate.prompts=[\"\"]", "eval.generate.max_new_tokens=3"},
                     dir.path());
  CHECK(by_checkpoint.exit_code == 0);
  CHECK_THAT(by_checkpoint.out, Catch::Contains("generate/sample_0"));
  const auto unknown = test::run_sslx({"eval", job.string(), "--task", "prob"}, dir.path());
  CHECK(unknown.exit_code == 3);
  CHECK_THAT(unknown.err, Catch::Contains("did you mean 'probe'"));
  CHECK(test::run_sslx({"eval", dir.path().string()}, dir.path()).exit_code == 1);
}

TEST_CASE("heldout: bits per byte of a byte-level model is its bits per token") {
  // With the byte tokenizer every ASCII byte is one token and each document's EOS stands for
  // one byte, so bits per byte must equal loss / ln 2 exactly.
  test::TempDir dir;
  std::string text;
  RngStream rng(5, "text");
  for (int d = 0; d < 300; ++d) {
    for (int c = 0; c < 20 + d % 17; ++c)
      text += static_cast<char>('a' + rng.uniform_below(26));
    text += "\n\n";
  }
  test::write_file(dir / "corpus.txt", text);
  const std::string job = "[data]\nsource = \"text\"\nfiles = [\"" + (dir / "corpus.txt").string() +
                          "\"]\ntest_fraction = 0.2\ncache_dir = \"" + (dir / "cache").string() +
                          "\"\n[trainer]\nmax_steps = 1\nbatch_size = 4\nsequence_length = 16\n"
                          "[schedule]\nname = \"constant\"\nlr = 0.001\n";
  for (const bool document_mask : {false, true}) {
    test::TrainingFixture fixture(dir,
                                  job + "[objective]\nname = \"clm\"\ndocument_mask = " +
                                      (document_mask ? "true" : "false") + "\n",
                                  document_mask ? "masked" : "unmasked");
    const auto results =
        eval::run_evaluators(fixture.config, save_model(fixture, dir), {"heldout"});
    if (document_mask) {
      CHECK(results.scalars.count("heldout/bits_per_byte") == 0);
      CHECK_THAT(results.texts.at("heldout/bits_per_byte"), Catch::Contains("document_mask"));
    } else {
      CHECK(results.scalars.at("heldout/bits_per_byte") ==
            Approx(results.scalars.at("heldout/loss") / std::log(2.0)).epsilon(1e-12));
    }
  }
}

TEST_CASE("probe on an encoder_decoder reads its encoder states, generate is skipped") {
  test::TempDir dir;
  write_labelled_task(dir / "signal", false);
  test::TrainingFixture fixture(
      dir,
      "[model]\narch = \"encoder_decoder\"\n" +
          markov_job(1, 0, task_section("probe", dir / "signal"), "span_corruption"),
      "t5");
  const auto results =
      eval::run_evaluators(fixture.config, save_model(fixture, dir), {"probe", "generate"});
  CHECK(results.scalars.at("probe/accuracy") > 0.9);
  CHECK(results.scalars.at("probe/majority_accuracy") < 0.7);
  CHECK_THAT(results.texts.at("generate/skipped"), Catch::Contains("encoder_decoder"));
}
