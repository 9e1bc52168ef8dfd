#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "nn/state_io.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::train {
namespace stdfs = std::filesystem;

namespace {

std::string step_name(std::int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "step-%08lld", static_cast<long long>(step));
  return buffer;
}

}  // namespace

stdfs::path save_checkpoint(const stdfs::path& directory, const torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const TrainerState& state) {
  stdfs::create_directories(directory);
  const stdfs::path final_path = directory / step_name(state.step);
  const stdfs::path temporary =
      directory / (step_name(state.step) + ".tmp." + std::to_string(getpid()));
  stdfs::remove_all(temporary);
  stdfs::create_directories(temporary);
  nn::save_state(model, temporary / "model.pt");
  torch::save(optimizer, (temporary / "optimizer.pt").string());
  {
    // LibTorch's default generator drives dropout: restoring it makes a resumed run draw the
    // same dropout masks as an uninterrupted one.
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    torch::save(generator.get_state(), (temporary / "torch_rng.pt").string());
  }
  if (!state.tensors.empty()) {
    torch::serialize::OutputArchive archive;
    for (const auto& [name, tensor] : state.tensors)
      archive.write(name, tensor);
    archive.save_to((temporary / "objective.pt").string());
  }
  fs::write_text_atomic(temporary / "trainer_state.toml", state.to_toml());
  stdfs::remove_all(final_path);  // a checkpoint of the same step from a run that crashed after it
  stdfs::rename(temporary, final_path);
  fs::write_text_atomic(directory / "latest", final_path.filename().string() + "\n");
  return final_path;
}

std::optional<stdfs::path> latest_checkpoint(const stdfs::path& directory) {
  const stdfs::path pointer = directory / "latest";
  if (!stdfs::is_regular_file(pointer)) return std::nullopt;
  const stdfs::path checkpoint = directory / trim(fs::read_text(pointer));
  if (!stdfs::is_regular_file(checkpoint / "trainer_state.toml")) {
    throw IoError(pointer.string() + " names " + checkpoint.string() + ", which is incomplete",
                  "delete " + pointer.string() + " to start the run afresh");
  }
  return checkpoint;
}

void mark_best_checkpoint(const stdfs::path& directory, const stdfs::path& checkpoint) {
  fs::write_text_atomic(directory / "best", checkpoint.filename().string() + "\n");
}

std::optional<stdfs::path> best_checkpoint(const stdfs::path& directory) {
  const stdfs::path pointer = directory / "best";
  if (!stdfs::is_regular_file(pointer)) return std::nullopt;
  const stdfs::path checkpoint = directory / trim(fs::read_text(pointer));
  if (!stdfs::is_regular_file(checkpoint / "trainer_state.toml")) return std::nullopt;
  return checkpoint;
}

TrainerState load_checkpoint(const stdfs::path& checkpoint, torch::nn::Module& model,
                             torch::optim::Optimizer& optimizer) {
  const auto state_file = checkpoint / "trainer_state.toml";
  TrainerState state = TrainerState::from_toml(fs::read_text(state_file), state_file.string());
  nn::load_state(model, checkpoint / "model.pt");
  torch::load(optimizer, (checkpoint / "optimizer.pt").string());
  if (stdfs::is_regular_file(checkpoint / "objective.pt")) {
    torch::serialize::InputArchive archive;
    archive.load_from((checkpoint / "objective.pt").string());
    for (const auto& name : archive.keys()) {
      at::Tensor tensor;
      archive.read(name, tensor);
      state.tensors[name] = tensor;
    }
  }
  at::Tensor generator_state;
  torch::load(generator_state, (checkpoint / "torch_rng.pt").string());
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(generator_state);
  return state;
}

void prune_checkpoints(const stdfs::path& directory, std::size_t keep_last,
                       const std::set<stdfs::path>& keep) {
  std::vector<stdfs::path> checkpoints;
  for (const auto& entry : stdfs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && starts_with(name, "step-") &&
        name.find(".tmp") == std::string::npos) {
      checkpoints.push_back(entry.path());
    }
  }
  std::sort(checkpoints.begin(), checkpoints.end());  // zero-padded step numbers sort in order
  if (checkpoints.size() <= keep_last) return;
  for (std::size_t i = 0; i + keep_last < checkpoints.size(); ++i) {
    if (keep.count(checkpoints[i]) == 0) stdfs::remove_all(checkpoints[i]);
  }
}

}  // namespace sslx::train
