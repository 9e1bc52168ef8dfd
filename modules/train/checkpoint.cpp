#include "train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fcntl.h>
#include <stdio.h>
#include <torch/serialize.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "nn/state_io.h"
#include "util/crash_point.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"
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

namespace {

// What went wrong, without LibTorch's C++ stack trace.
std::string reason(const std::exception& error) {
  if (const auto* torch_error = dynamic_cast<const c10::Error*>(&error))
    return torch_error->what_without_backtrace();
  return error.what();
}

// The checksums file of a checkpoint: a line "<16 hex digits>  <file>" for every other file of
// the folder, the 64-bit hash of its bytes (util/hash.h), written before trainer_state.toml.
constexpr const char* kChecksums = "checksums";

std::string file_checksum(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read " + path.string() + ": " + std::strerror(errno));
  Hasher hasher;
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    hasher.add(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  return hasher.hex();
}

// What to do about a damaged file of `checkpoint`.
std::string damaged_hint(const stdfs::path& checkpoint) {
  return "the file was changed or damaged after the checkpoint was written; to resume from an "
         "earlier checkpoint, write its folder name into " +
         (checkpoint.parent_path() / "latest").string();
}

// The checksums the checkpoint lists, by file name; nullopt for a checkpoint written before sslx
// wrote them.
std::optional<std::map<std::string, std::string>> listed_checksums(const stdfs::path& checkpoint) {
  const stdfs::path list = checkpoint / kChecksums;
  if (!stdfs::is_regular_file(list)) return std::nullopt;
  std::map<std::string, std::string> listed;
  std::istringstream lines(fs::read_text(list));
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::size_t gap = line.find("  ");
    if (gap != 16 || line.size() <= gap + 2) {
      throw IoError(list.string() + ": malformed line \"" + line +
                        "\" (expected 16 hex digits, two spaces, a file name)",
                    damaged_hint(checkpoint));
    }
    listed[line.substr(gap + 2)] = line.substr(0, gap);
  }
  return listed;
}

// Throws IoError naming the file `name` of `checkpoint` when it is missing or its bytes do not
// have the checksum `expected`.
void verify_file(const stdfs::path& checkpoint, const std::string& name,
                 const std::string& expected) {
  const stdfs::path path = checkpoint / name;
  if (!stdfs::is_regular_file(path)) {
    throw IoError(path.string() + " is missing from its checkpoint", damaged_hint(checkpoint));
  }
  const std::string actual = file_checksum(path);
  if (actual != expected) {
    throw IoError(path.string() + " is damaged: its checksum is " + actual + ", " +
                      (checkpoint / kChecksums).string() + " says " + expected,
                  damaged_hint(checkpoint));
  }
}

// An IoError: `path` is in `checkpoint` but its checksums do not list it.
IoError unlisted(const stdfs::path& checkpoint, const stdfs::path& path) {
  return IoError(path.string() + " is not listed in " + (checkpoint / kChecksums).string(),
                 damaged_hint(checkpoint));
}

// Runs `load`, turning LibTorch's errors about the file at `path` into an IoError that names it.
template <class Load>
void read_file(const stdfs::path& checkpoint, const stdfs::path& path, const Load& load) {
  try {
    load();
  } catch (const c10::Error& error) {
    throw IoError("cannot read " + path.string() + ": " + error.what_without_backtrace(),
                  damaged_hint(checkpoint));
  }
}

void write_checkpoint_files(const stdfs::path& folder, const torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const TrainerState& state,
                            const stdfs::path& log_file,
                            const std::map<std::string, std::string>& extra_files) {
  if (!log_file.empty()) {
    stdfs::copy_file(log_file, folder / "log.h5");
    crash_point();
  }
  nn::save_state(model, folder / "model.pt");
  crash_point();
  torch::save(optimizer, (folder / "optimizer.pt").string());
  crash_point();
  {
    // LibTorch's default generator drives dropout: restoring it makes a resumed run draw the
    // same dropout masks as an uninterrupted one.
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    torch::save(generator.get_state(), (folder / "torch_rng.pt").string());
  }
  crash_point();
  if (!state.tensors.empty()) {
    torch::serialize::OutputArchive archive;
    for (const auto& [name, tensor] : state.tensors)
      archive.write(name, tensor);
    archive.save_to((folder / "objective.pt").string());
    crash_point();
  }
  for (const auto& [name, bytes] : extra_files) {
    fs::write_text_atomic(folder / name, bytes);
    crash_point();
  }
  const std::string state_text = state.to_toml();
  std::vector<std::string> names;
  for (const auto& entry : stdfs::directory_iterator(folder))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  std::string checksums =
      "# The 64-bit hash (FNV-1a, then MurmurHash3's fmix64) of each file's bytes, checked when "
      "the checkpoint is loaded.\n";
  for (const auto& name : names)
    checksums += file_checksum(folder / name) + "  " + name + "\n";
  checksums += Hasher().add(state_text).hex() + "  trainer_state.toml\n";
  fs::write_text_atomic(folder / kChecksums, checksums);
  crash_point();
  // Last: a folder with trainer_state.toml is a complete checkpoint.
  fs::write_text_atomic(folder / "trainer_state.toml", state_text);
}

}  // namespace

stdfs::path save_checkpoint(const stdfs::path& directory, const torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer, const TrainerState& state,
                            const stdfs::path& log_file,
                            const std::map<std::string, std::string>& extra_files) {
  stdfs::create_directories(directory);
  const stdfs::path final_path = directory / step_name(state.step);
  const stdfs::path temporary =
      directory / (step_name(state.step) + ".tmp." + std::to_string(getpid()));
  stdfs::remove_all(temporary);
  stdfs::create_directories(temporary);
  crash_point();
  try {
    write_checkpoint_files(temporary, model, optimizer, state, log_file, extra_files);
  } catch (const std::exception& error) {
    // A full disk, say: nothing of this checkpoint stays, `latest` still names the previous one.
    std::error_code ignored;
    stdfs::remove_all(temporary, ignored);
    throw IoError("cannot write the checkpoint of step " + std::to_string(state.step) + " into " +
                      temporary.string() + ": " + reason(error),
                  "free space on that disk (the previous checkpoint is intact), then run the "
                  "same command to resume");
  }
  if (stdfs::exists(final_path)) {
    // The same step saved again (a run resumed from it, evaluated, and saves the new state):
    // `latest` may name it, so it is swapped for the new one in one atomic step, never removed
    // first. What it held is then in `temporary`, removed below or at the next resume.
    if (::renameat2(AT_FDCWD, temporary.c_str(), AT_FDCWD, final_path.c_str(), RENAME_EXCHANGE) ==
        0) {
      crash_point();
      stdfs::remove_all(temporary);
    } else if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
      // A file system without atomic exchange (some network and overlay file systems): replace
      // it the plain way, with a short window in which a crash leaves `latest` dangling.
      stdfs::remove_all(final_path);
      stdfs::rename(temporary, final_path);
    } else {
      throw IoError("cannot replace " + final_path.string() + " with " + temporary.string() + ": " +
                    std::strerror(errno));
    }
  } else {
    stdfs::rename(temporary, final_path);
  }
  crash_point();
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

stdfs::path resolve_checkpoint(const stdfs::path& path) {
  // A run's checkpoints/ folder stands for its newest checkpoint: what an experiment's stage
  // names before the upstream job has written it.
  if (!stdfs::is_regular_file(path / "model.pt")) {
    if (const auto latest = latest_checkpoint(path)) return *latest;
    if (const auto latest = latest_checkpoint(path / "checkpoints")) return *latest;
  }
  return path;
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

stdfs::path model_file(const stdfs::path& checkpoint) {
  const stdfs::path path = checkpoint / "model.pt";
  const auto listed = listed_checksums(checkpoint);
  if (!listed) return path;  // written before checksums
  const auto it = listed->find("model.pt");
  if (it == listed->end()) throw unlisted(checkpoint, path);
  verify_file(checkpoint, "model.pt", it->second);
  return path;
}

void verify_checkpoint(const stdfs::path& checkpoint) {
  const auto listed = listed_checksums(checkpoint);
  if (!listed) return;  // written before checksums
  // Every file of the folder is listed: a damaged list that leaves files out is no check.
  for (const auto& entry : stdfs::directory_iterator(checkpoint)) {
    if (entry.path().filename() != kChecksums &&
        listed->count(entry.path().filename().string()) == 0) {
      throw unlisted(checkpoint, entry.path());
    }
  }
  for (const auto& [name, checksum] : *listed)
    verify_file(checkpoint, name, checksum);
}

TrainerState load_checkpoint(const stdfs::path& checkpoint, torch::nn::Module& model,
                             torch::optim::Optimizer& optimizer) {
  verify_checkpoint(checkpoint);
  const auto state_file = checkpoint / "trainer_state.toml";
  TrainerState state = TrainerState::from_toml(fs::read_text(state_file), state_file.string());
  read_file(checkpoint, checkpoint / "model.pt",
            [&] { nn::load_state(model, checkpoint / "model.pt"); });
  // Optimizer and objective state go where the model is: a checkpoint written on a GPU resumes
  // on the CPU and the other way round (model.pt always holds CPU tensors).
  const auto parameters = model.parameters();
  const c10::Device device = parameters.empty() ? c10::Device(c10::kCPU) : parameters[0].device();
  read_file(checkpoint, checkpoint / "optimizer.pt",
            [&] { torch::load(optimizer, (checkpoint / "optimizer.pt").string(), device); });
  if (stdfs::is_regular_file(checkpoint / "objective.pt")) {
    read_file(checkpoint, checkpoint / "objective.pt", [&] {
      torch::serialize::InputArchive archive;
      archive.load_from((checkpoint / "objective.pt").string(), device);
      for (const auto& name : archive.keys()) {
        at::Tensor tensor;
        archive.read(name, tensor);
        state.tensors[name] = tensor;
      }
    });
  }
  at::Tensor generator_state;
  read_file(checkpoint, checkpoint / "torch_rng.pt",
            [&] { torch::load(generator_state, (checkpoint / "torch_rng.pt").string()); });
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
    if (keep.count(checkpoints[i]) == 0) {
      crash_point();
      stdfs::remove_all(checkpoints[i]);
    }
  }
}

void remove_unfinished_checkpoints(const stdfs::path& directory) {
  if (!stdfs::is_directory(directory)) return;
  for (const auto& entry : stdfs::directory_iterator(directory)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && starts_with(name, "step-") &&
        name.find(".tmp.") != std::string::npos)
      stdfs::remove_all(entry.path());
  }
}

}  // namespace sslx::train
