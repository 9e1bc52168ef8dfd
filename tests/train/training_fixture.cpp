#include "training_fixture.h"

#include "cli/builtins.h"

namespace sslx::test {

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

}  // namespace sslx::test
