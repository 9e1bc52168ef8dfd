// Builds a resolved config, data, objective and trainer from TOML text, for trainer tests.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "config/resolve.h"
#include "config/toml_io.h"
#include "data/data_registry.h"
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

}  // namespace sslx::test
