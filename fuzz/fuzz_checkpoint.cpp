// Loading a checkpoint whose files are damaged (train/checkpoint.h): the first byte of the input
// picks a file of a valid checkpoint of a small model and optimizer (model.pt, optimizer.pt,
// torch_rng.pt, objective.pt, trainer_state.toml or the checksums list), the rest of the input
// replaces that file. Whatever the bytes, loading may only end in sslx::Error or, when they are
// the file's own, in the checkpoint loaded. LibTorch itself is not instrumented: the target
// checks that sslx refuses a damaged file before LibTorch parses it.
//
// With SSLX_FUZZ_CHECKPOINT_SEEDS=DIR set, the harness writes one seed per file into DIR (the
// inputs of fuzz/corpus/checkpoint) and exits.
#include <torch/nn/modules/linear.h>
#include <torch/optim/adamw.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz/fuzz_input.h"
#include "train/checkpoint.h"

namespace {

namespace stdfs = std::filesystem;

constexpr std::array<const char*, 6> kFiles = {
    "model.pt", "optimizer.pt", "torch_rng.pt", "objective.pt", "checksums", "trainer_state.toml"};

struct Net : torch::nn::Module {
  Net() { layer = register_module("layer", torch::nn::Linear(3, 2)); }
  torch::nn::Linear layer{nullptr};
};

std::unique_ptr<torch::optim::AdamW> optimizer_of(Net& net) {
  return std::make_unique<torch::optim::AdamW>(net.parameters(), torch::optim::AdamWOptions(1e-3));
}

// A checkpoint of one AdamW step, written once per process.
const stdfs::path& template_checkpoint() {
  static const stdfs::path path = [] {
    torch::manual_seed(0);
    Net net;
    auto optimizer = optimizer_of(net);
    net.layer(torch::ones({2, 3})).sum().backward();
    optimizer->step();
    sslx::train::TrainerState state{.step = 1};
    state.tensors["objective/cache"] = torch::arange(4.0);
    const stdfs::path directory =
        stdfs::temp_directory_path() / ("sslx-fuzz-checkpoint-" + std::to_string(getpid()));
    stdfs::remove_all(directory);
    return sslx::train::save_checkpoint(directory, net, *optimizer, state);
  }();
  return path;
}

std::string read_bytes(const stdfs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const stdfs::path& checkpoint = template_checkpoint();
  if (const char* seeds = std::getenv("SSLX_FUZZ_CHECKPOINT_SEEDS")) {
    stdfs::create_directories(seeds);
    for (std::size_t i = 0; i < kFiles.size(); ++i) {
      std::ofstream out(stdfs::path(seeds) / (std::string(kFiles[i]) + ".seed"), std::ios::binary);
      out << static_cast<char>(i) << read_bytes(checkpoint / kFiles[i]);
    }
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const stdfs::path& source = template_checkpoint();
  const stdfs::path work = source.parent_path() / "work";
  stdfs::remove_all(work);
  stdfs::copy(source, work);
  {
    std::ofstream out(work / kFiles[data[0] % kFiles.size()], std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  sslx::fuzz::expect_clean_errors([&] {
    Net net;
    auto optimizer = optimizer_of(net);
    (void)sslx::train::load_checkpoint(work, net, *optimizer);
  });
  return 0;
}
