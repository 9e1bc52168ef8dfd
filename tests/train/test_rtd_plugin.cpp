// The example objective plugin (examples/objective_rtd: replaced-token detection), loaded as a
// .so from a config's `plugins` list: its batches, its architecture check, its resumable state,
// and that it trains a tiny encoder well below the loss of a model that ignores its input.
#include "nn/torch_catch.h"

#include <torch/torch.h>

#include <cmath>

#include "cli/builtins.h"
#include "config/config_error.h"
#include "config/toml_io.h"
#include "log/run_log.h"
#include "registry/plugin_loader.h"
#include "support.h"
#include "training_fixture.h"

using namespace sslx;

namespace {

const std::string kPlugins = std::string("plugins = [\"") + SSLX_RTD_PLUGIN + "\"]\n";

// Loads the plugin the way `sslx run` does: from the `plugins` list of a config file.
void load_rtd_plugin() {
  cli::register_builtins();
  test::TempDir dir;
  test::write_file(dir / "plugins.toml", kPlugins);
  plugin::load_from_config(config::load_toml_file(dir / "plugins.toml"));
}

std::string rtd_setup(const std::string& arch, const std::string& objective, std::int64_t batch,
                      std::int64_t length) {
  return kPlugins + test::markov_lm_setup(arch, "name = \"rtd\"\n" + objective, batch, length);
}

// Binary entropy in nats: the loss of predicting probability q at every position.
double binary_entropy(double q) {
  return -q * std::log(q) - (1 - q) * std::log(1 - q);
}

}  // namespace

TEST_CASE("rtd plugin: registered from the plugins list with its schema") {
  load_rtd_plugin();
  const auto& registry = objectives::objective_registry();
  REQUIRE(registry.contains("rtd"));
  const auto& entries = registry.entries();
  const auto entry =
      std::find_if(entries.begin(), entries.end(), [](const auto& e) { return e.name == "rtd"; });
  CHECK_THAT(entry->provided_by, Catch::EndsWith("libsslx_objective_rtd.so"));
  CHECK(entry->schema.find("rate") != nullptr);
  CHECK(entry->schema.find("replacement")->choices.size() == 2);
}

TEST_CASE("rtd plugin: labels mark exactly the replaced tokens, never a special one") {
  load_rtd_plugin();
  test::TempDir dir;
  test::TrainingFixture fixture(dir, rtd_setup("encoder", "rate = 0.3\n", 16, 32), "rtd");
  const data::SpecialTokens& specials = fixture.data.tokenizer->specials();
  std::int64_t replaced = 0, tokens = 0, eos = 0;
  for (int i = 0; i < 10; ++i) {
    const train::Batch batch = fixture.objective->train_batch();
    const at::Tensor inputs = batch.at("input_ids"), originals = batch.at("original_ids");
    const at::Tensor labels = batch.at("labels");
    CHECK(torch::equal(labels > 0.5, inputs != originals));
    const at::Tensor is_eos = originals == specials.require_eos();
    CHECK(torch::equal(inputs.masked_select(is_eos), originals.masked_select(is_eos)));
    for (const auto id : std::vector<std::int64_t>(
             inputs.data_ptr<std::int64_t>(), inputs.data_ptr<std::int64_t>() + inputs.numel())) {
      if (id != specials.require_eos()) CHECK_FALSE(specials.is_special(id));
    }
    replaced += (labels > 0.5).sum().item<std::int64_t>();
    eos += is_eos.sum().item<std::int64_t>();
    tokens += batch.n_targets;
    CHECK(batch.n_targets == labels.numel());
  }
  // 5120 positions, 1 in 130 an EOS: the replaced fraction is 0.3 of the others, within a few
  // standard errors (0.0064).
  CHECK(static_cast<double>(replaced) / static_cast<double>(tokens - eos) ==
        Approx(0.3).margin(0.025));
}

TEST_CASE("rtd plugin: refuses a decoder, naming the encoder") {
  load_rtd_plugin();
  test::TempDir dir;
  CHECK_THROWS_AS(test::TrainingFixture(dir, rtd_setup("decoder", "", 2, 16), "a"),
                  config::ConfigError);
  CHECK_THROWS_WITH(test::TrainingFixture(dir, rtd_setup("decoder", "", 2, 16), "b"),
                    Catch::Contains("encoder"));
}

TEST_CASE("rtd plugin: resumes its data and replacements exactly from saved state") {
  load_rtd_plugin();
  test::check_resume(rtd_setup("encoder", "", 4, 32));
}

TEST_CASE("rtd plugin: a tiny encoder learns to detect replacements, well below H(rate)") {
  load_rtd_plugin();
  test::TempDir dir;
  const double rate = 0.15;
  // Uniform replacements over the byte vocabulary are mostly tokens the 8-state source never
  // emits: learnable in a few dozen steps (unigram ones need far longer, docs/objectives.md).
  test::TrainingFixture fixture(
      dir,
      rtd_setup("encoder", "rate = 0.15\nreplacement = \"uniform\"\n", 16, 32) +
          "max_steps = 60\neval_every = 0\neval_at_start = true\neval_batches = 8\n"
          "[schedule]\nname = \"constant\"\nlr = 0.003\nwarmup_steps = 10\n",
      "train");
  fixture.trainer->run();
  const auto val = log::RunLogReader(fixture.paths.log).read("val", "loss");
  REQUIRE(val.steps == std::vector<std::int64_t>{0, 60});
  const double initial = val.values.front(), final = val.values.back();
  // Ignoring the input costs at least H(q), q the replaced fraction: H(0.15) = 0.4227 nats, and
  // q is a little below 0.15 (EOS is never replaced), so H(q) < H(0.15).
  const double reference = binary_entropy(rate);
  INFO("initial " << initial << ", final " << final << ", H(rate) " << reference);
  CHECK(final < 0.5 * initial);
  CHECK(final < reference - 0.1);

  // Negative control: the same model scored against labels moved by one position (still the
  // same fraction of ones) is worse than ignoring the input: the low loss comes from seeing
  // which tokens were replaced.
  train::Batch batch;
  REQUIRE(fixture.objective->eval_batch(data::Split::kValidation, 0, batch));
  torch::NoGradGuard no_grad;
  fixture.objective->model().eval();
  const auto per_target = [&](const train::Batch& b) {
    const train::LossTerms terms = fixture.objective->loss(b);
    return terms.loss_sum.item<double>() / static_cast<double>(terms.n_targets);
  };
  const double matched = per_target(batch);
  train::Batch shifted = batch;
  shifted.tensors["labels"] = batch.at("labels").roll(1, 1);
  const double mismatched = per_target(shifted);
  INFO("matched labels " << matched << ", labels moved by one " << mismatched);
  CHECK(matched < reference - 0.1);
  CHECK(mismatched > reference);
}

TEST_CASE("rtd plugin: sslx run trains it from a config that lists the plugin") {
  test::TempDir dir;
  test::write_file(
      dir / "exp.toml",
      "defaults = [{ model = \"tiny\" }]\nseed = 2\n" + kPlugins + test::markov_lm_data() +
          "[model]\narch = \"encoder\"\n[objective]\nname = \"rtd\"\n"
          "[trainer]\nmax_steps = 6\nbatch_size = 4\nsequence_length = 32\neval_batches = 1\n"
          "log_every = 3\n");
  const auto result =
      test::run_sslx({"run", (dir / "exp.toml").string(), "--out", (dir / "out").string(),
                      "--config-dir", SSLX_SOURCE_DIR "/configs"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const log::RunLogReader reader(dir / "out/base/log.h5");
  CHECK(reader.status() == log::RunStatus::kCompleted);
  CHECK(reader.read("train", "accuracy").steps == std::vector<std::int64_t>{3, 6});
  CHECK(reader.read("val", "loss").steps == std::vector<std::int64_t>{6});
}
