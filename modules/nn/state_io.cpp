#include "nn/state_io.h"

#include <ATen/ATen.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <map>
#include <set>
#include <string>

namespace sslx::nn {
namespace {

// Parameters and buffers by dotted name.
std::map<std::string, at::Tensor> named_state(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> state;
  for (const auto& item : module.named_parameters())
    state.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers())
    state.emplace(item.key(), item.value());
  return state;
}

}  // namespace

void save_state(const torch::nn::Module& module, const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, tensor] : named_state(module))
    archive.write(name, tensor.detach());
  archive.save_to(path.string());
}

std::map<std::string, at::Tensor> load_state_dict(const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  std::map<std::string, at::Tensor> state;
  for (const auto& key : archive.keys()) {
    at::Tensor value;
    archive.read(key, value);
    state.emplace(key, value);
  }
  return state;
}

void load_state(torch::nn::Module& module, const std::filesystem::path& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path.string());
  const auto state = named_state(module);
  const auto keys = archive.keys();
  const std::set<std::string> in_file(keys.begin(), keys.end());
  for (const auto& key : in_file) {
    TORCH_CHECK(state.count(key) == 1, path.string(), " holds \"", key,
                "\", which the model does not have");
  }
  std::map<std::string, at::Tensor> read;
  for (const auto& [name, tensor] : state) {
    TORCH_CHECK(in_file.count(name) == 1, path.string(), " lacks \"", name, "\"");
    at::Tensor value;
    archive.read(name, value);
    TORCH_CHECK(value.sizes() == tensor.sizes(), "\"", name, "\" is ", value.sizes(), " in ",
                path.string(), " and ", tensor.sizes(), " in the model");
    read.emplace(name, value);
  }
  const at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state)
    tensor.copy_(read.at(name));
}

}  // namespace sslx::nn
