#include "nn/torch_catch.h"

#include <torch/nn/modules/linear.h>

#include "support.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "util/error.h"

using namespace sslx;

namespace {
struct NetImpl : torch::nn::Module {
  NetImpl() { layer = register_module("layer", torch::nn::Linear(3, 2)); }
  torch::nn::Linear layer{nullptr};
};
TORCH_MODULE(Net);

void take_step(Net& model, torch::optim::Optimizer& optimizer) {
  optimizer.zero_grad();
  model->layer(torch::ones({4, 3})).pow(2).sum().backward();
  optimizer.step();
}
}  // namespace

TEST_CASE("checkpoint round trip restores model, optimizer moments and trainer state") {
  test::TempDir dir;
  torch::manual_seed(0);
  Net model;
  auto optimizer = train::make_adamw(train::split_for_weight_decay(*model, {}), {});
  take_step(model, *optimizer);
  train::TrainerState state{.step = 1, .tokens_seen = 12, .skipped_steps = 0};
  state.rng_states["masking"] = 0xfedcba9876543210ULL;  // above INT64_MAX: stored as bits
  state.sampler = {2, 7};
  const auto path = train::save_checkpoint(dir / "checkpoints", *model, *optimizer, state);
  CHECK(train::latest_checkpoint(dir / "checkpoints") == path);

  // Continue the original, and separately restore into a fresh model and optimizer and continue:
  // the next step must agree exactly (Adam's moments came back too).
  take_step(model, *optimizer);
  torch::manual_seed(123);
  Net restored;
  auto restored_optimizer = train::make_adamw(train::split_for_weight_decay(*restored, {}), {});
  const auto loaded = train::load_checkpoint(path, *restored, *restored_optimizer);
  CHECK(loaded.step == 1);
  CHECK(loaded.tokens_seen == 12);
  CHECK(loaded.rng_states.at("masking") == 0xfedcba9876543210ULL);
  CHECK(loaded.sampler == data::SamplerState{2, 7});
  take_step(restored, *restored_optimizer);
  CHECK(torch::equal(restored->layer->weight, model->layer->weight));
  CHECK(torch::equal(restored->layer->bias, model->layer->bias));
}

TEST_CASE("latest names only complete checkpoints - pruning keeps the newest and the kept") {
  test::TempDir dir;
  Net model;
  auto optimizer = train::make_adamw(train::split_for_weight_decay(*model, {}), {});
  CHECK_FALSE(train::latest_checkpoint(dir.path()).has_value());
  std::vector<std::filesystem::path> saved;
  for (std::int64_t step : {10, 20, 30, 40}) {
    saved.push_back(train::save_checkpoint(dir.path(), *model, *optimizer, {.step = step}));
  }
  train::prune_checkpoints(dir.path(), 2, {saved[0]});
  CHECK(std::filesystem::exists(saved[0]));  // kept as "best"
  CHECK_FALSE(std::filesystem::exists(saved[1]));
  CHECK(std::filesystem::exists(saved[2]));
  CHECK(train::latest_checkpoint(dir.path()) == saved[3]);

  test::write_file(dir / "latest", "step-00000099\n");
  CHECK_THROWS_WITH(train::latest_checkpoint(dir.path()), Catch::Contains("incomplete"));
}
