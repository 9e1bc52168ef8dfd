#include "nn/torch_catch.h"

#include <torch/nn/modules/linear.h>

#include <algorithm>
#include <fstream>
#include <iterator>

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

TEST_CASE("a random stream the trainer state lacks is refused, naming it and the ones it has") {
  train::TrainerState state;
  state.rng_states["masking"] = 5;
  CHECK(state.rng_state("masking") == 5);
  CHECK_THROWS_WITH(state.rng_state("ppo/minibatches"),
                    Catch::Contains("no random stream \"ppo/minibatches\" under [rng]") &&
                        Catch::Contains("(it has \"masking\")"));
  CHECK_THROWS_WITH(train::TrainerState{}.rng_state("noise"), Catch::Contains("(it has none)"));
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

namespace {

std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// Loads `checkpoint` into a fresh model and optimizer.
train::TrainerState load_fresh(const std::filesystem::path& checkpoint, Net& model) {
  auto optimizer = train::make_adamw(train::split_for_weight_decay(*model, {}), {});
  return train::load_checkpoint(checkpoint, *model, *optimizer);
}

// What loading `checkpoint` throws as an IoError ("(loaded)" when it loads).
std::string load_error(const std::filesystem::path& checkpoint) {
  try {
    Net fresh;
    load_fresh(checkpoint, fresh);
  } catch (const IoError& error) {
    return error.what();
  }
  return "(loaded)";
}

}  // namespace

TEST_CASE("every file of a checkpoint, truncated or with a flipped bit, is refused by its path") {
  test::TempDir dir;
  torch::manual_seed(0);
  Net model;
  auto optimizer = train::make_adamw(train::split_for_weight_decay(*model, {}), {});
  take_step(model, *optimizer);
  train::TrainerState state{.step = 1};
  state.tensors["objective/cache"] = torch::arange(6.0);  // objective.pt
  const auto path = train::save_checkpoint(dir / "checkpoints", *model, *optimizer, state, {},
                                           {{"rank1.toml", "part = 1\n"}});
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(path))
    files.push_back(entry.path().filename().string());
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"checksums", "model.pt", "objective.pt", "optimizer.pt",
                                          "rank1.toml", "torch_rng.pt", "trainer_state.toml"});
  Net restored;
  REQUIRE_NOTHROW(load_fresh(path, restored));

  std::int64_t refused = 0;
  for (const auto& name : files) {
    if (name == "checksums") continue;
    const std::string original = read_bytes(path / name);
    const std::size_t n = original.size();
    std::vector<std::string> damaged;
    for (const std::size_t length : {std::size_t{0}, std::size_t{1}, n / 4, n / 2, n - 1})
      damaged.push_back(original.substr(0, length));
    for (std::size_t i = 0; i < 8; ++i) {
      std::string flipped = original;
      flipped[(i * 2654435761U + 17) % n] ^= 0x10;
      damaged.push_back(flipped);
    }
    for (const auto& bytes : damaged) {
      INFO(name << ": " << bytes.size() << " of " << n << " bytes");
      write_bytes(path / name, bytes);
      CHECK_THAT(load_error(path), Catch::Contains((path / name).string()));
      if (name == "model.pt")
        CHECK_THROWS_WITH(train::model_file(path), Catch::Contains("model.pt is damaged"));
      ++refused;
    }
    write_bytes(path / name, original);
  }
  CHECK(refused == 6 * 13);
  REQUIRE_NOTHROW(load_fresh(path, restored));
  CHECK(torch::equal(restored->layer->weight, model->layer->weight));

  // The list itself: a file it leaves out, or a file it names that is gone.
  const std::string checksums = read_bytes(path / "checksums");
  const std::size_t model_line = checksums.rfind('\n', checksums.find("model.pt")) + 1;
  write_bytes(path / "checksums", checksums.substr(0, model_line));  // model.pt and after cut
  CHECK_THAT(load_error(path), Catch::Contains("not listed in"));
  CHECK_THROWS_WITH(train::model_file(path), Catch::Contains("not listed in"));
  write_bytes(path / "checksums", checksums);
  std::filesystem::remove(path / "rank1.toml");
  CHECK_THAT(load_error(path), Catch::Contains("rank1.toml is missing"));
}

TEST_CASE("negative control: without checksums a flipped bit in a weight loads unnoticed") {
  // A checkpoint written before sslx wrote checksums, or with them removed: LibTorch's archive
  // reads a changed weight without complaint, and training would go on from a wrong model.
  test::TempDir dir;
  torch::manual_seed(0);
  Net model;
  auto optimizer = train::make_adamw(train::split_for_weight_decay(*model, {}), {});
  const auto path = train::save_checkpoint(dir / "checkpoints", *model, *optimizer, {.step = 1});
  std::filesystem::remove(path / "checksums");
  std::string bytes = read_bytes(path / "model.pt");
  const float first = model->layer->weight[0][0].item<float>();
  const std::size_t at = bytes.find(std::string(reinterpret_cast<const char*>(&first), 4));
  REQUIRE(at != std::string::npos);
  bytes[at + 2] ^= 0x10;
  write_bytes(path / "model.pt", bytes);
  Net restored;
  REQUIRE_NOTHROW(load_fresh(path, restored));
  CHECK_FALSE(torch::equal(restored->layer->weight, model->layer->weight));
}
