#include "training_fixture.h"

#include "nn/torch_catch.h"

#include "cli/builtins.h"

namespace sslx::test {

std::string markov_lm_data() {
  return "[data]\nsource = \"markov\"\ndocuments = 400\ndocument_length = 129\nstates = 8\n"
         "concentration = 0.3\n";
}

std::string markov_lm_setup(const std::string& arch, const std::string& objective,
                            std::int64_t batch, std::int64_t length) {
  return markov_lm_data() + "[model]\narch = \"" + arch + "\"\n[objective]\n" + objective +
         "[trainer]\nbatch_size = " + std::to_string(batch) +
         "\nsequence_length = " + std::to_string(length) + "\n";
}

TrainingFixture::TrainingFixture(const TempDir& dir, const std::string& toml,
                                 const std::string& name) {
  cli::register_builtins();
  const auto file = dir / (name + ".toml");
  write_file(file, "defaults = [{ model = \"tiny\" }]\nseed = 3\n" + toml);
  config = config::resolve({.file = file, .config_dirs = {SSLX_SOURCE_DIR "/configs"}},
                           [](const config::Node&) {
                             return registry::RegistryIndex::instance().root_schema();
                           })
               .config;
  torch::manual_seed(static_cast<std::uint64_t>(config.get_int("seed")));
  data = data::prepare_lm_data(config);
  options = train::trainer_options_from(config.at_path("trainer"));
  objective = objectives::objective_registry().create(
      config.at_path("objective"),
      objectives::ObjectiveContext{.model = config.at_path("model"),
                                   .tokenizer = *data.tokenizer,
                                   .corpus = data.corpus,
                                   .trainer = options,
                                   .seed = static_cast<std::uint64_t>(config.get_int("seed"))});
  paths = {.log = dir / (name + ".h5"), .checkpoints = dir / (name + "-checkpoints")};
  trainer = std::make_unique<train::Trainer>(
      *objective, options, train::optimizer_options_from(config.at_path("optimizer")),
      train::schedule_registry().create(config.at_path("schedule")), paths,
      config::to_toml(config));
}

std::vector<at::Tensor> TrainingFixture::parameters() const {
  std::vector<at::Tensor> values;
  for (const auto& parameter : objective->model().parameters())
    values.push_back(parameter.detach().clone());
  return values;
}

bool same_batch(const train::Batch& a, const train::Batch& b) {
  if (a.tensors.size() != b.tensors.size() || a.n_targets != b.n_targets) return false;
  for (const auto& [name, tensor] : a.tensors) {
    if (!b.tensors.contains(name) || !torch::equal(tensor, b.tensors.at(name))) return false;
  }
  return true;
}

void check_resume(const std::string& toml) {
  TempDir dir;
  TrainingFixture first(dir, toml, "first");
  first.objective->train_batch();
  first.objective->train_batch();
  train::TrainerState state;
  first.objective->save_state(state);
  const train::Batch expected = first.objective->train_batch();

  TrainingFixture resumed(dir, toml, "resumed");
  resumed.objective->load_state(train::TrainerState::from_toml(state.to_toml(), "state"));
  CHECK(same_batch(resumed.objective->train_batch(), expected));

  TrainingFixture fresh(dir, toml, "fresh");
  CHECK_FALSE(same_batch(fresh.objective->train_batch(), expected));
}

}  // namespace sslx::test
