// Builds a resolved config, data, objective and trainer from TOML text, for trainer tests.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "config/resolve.h"
#include "config/toml_io.h"
#include "data/lm_data.h"
#include "objectives/objective_registry.h"
#include "registry/registry_index.h"
#include "support.h"
#include "train/schedule_registry.h"
#include "train/trainer.h"

namespace sslx::test {

struct TrainingFixture {
  // `toml` is merged over configs/model/tiny.toml as [model] (a tiny decoder by default).
  TrainingFixture(const TempDir& dir, const std::string& toml, const std::string& name);

  std::vector<at::Tensor> parameters() const;

  config::Node config;
  data::LmData data;
  train::TrainerOptions options;
  std::unique_ptr<train::Objective> objective;
  train::RunPaths paths;
  std::unique_ptr<train::Trainer> trainer;
};

// The [data] table of a Markov corpus (400 documents of 129 tokens, 8 states) the
// language-model objective tests train on.
std::string markov_lm_data();

// That corpus and a model, objective and trainer: `objective` is the body of [objective] (its
// name included), `arch` the model's.
std::string markov_lm_setup(const std::string& arch, const std::string& objective,
                            std::int64_t batch, std::int64_t length);

// Whether two batches hold the same tensors (names and values) and target counts.
bool same_batch(const train::Batch& a, const train::Batch& b);

// Resume of an objective's data: a batch drawn, state saved (through its TOML form, as a
// checkpoint stores it), then the next batch must be the one a fresh objective draws after
// load_state; a fresh objective without it draws another (the negative control). Checks with
// Catch.
void check_resume(const std::string& toml);

}  // namespace sslx::test
