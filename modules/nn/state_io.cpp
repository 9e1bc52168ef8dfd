#include "nn/state_io.h"

#include <ATen/ATen.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <map>
#include <set>
#include <string>

namespace sslx::nn {
std::map<std::string, at::Tensor> named_state(const torch::nn::Module& module) {
  std::map<std::string, at::Tensor> state;
  for (const auto& item : module.named_parameters())
    state.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers())
    state.emplace(item.key(), item.value());
  return state;
}

std::map<std::string, at::Tensor> submodule_state(const std::map<std::string, at::Tensor>& state,
                                                  const std::string& submodule) {
  const std::string prefix = submodule + ".";
  std::map<std::string, at::Tensor> selected;
  for (const auto& [name, tensor] : state) {
    // Not starts_with: the checkpoint fuzz harness compiles this file as C++17
    // (fuzz/CMakeLists.txt).
    if (name.compare(0, prefix.size(), prefix) == 0)
      selected.emplace(name.substr(prefix.size()), tensor);
  }
  return selected;
}

void save_state_dict(const std::map<std::string, at::Tensor>& state,
                     const std::filesystem::path& path) {
  torch::serialize::OutputArchive archive;
  for (const auto& [name, tensor] : state)
    archive.write(name, tensor.detach().cpu());  // readable on any machine, GPU or not
  archive.save_to(path.string());
}

void save_state(const torch::nn::Module& module, const std::filesystem::path& path) {
  save_state_dict(named_state(module), path);
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

void load_state(torch::nn::Module& module, const std::map<std::string, at::Tensor>& values,
                const std::string& source) {
  const auto state = named_state(module);
  for (const auto& [key, unused] : values) {
    TORCH_CHECK(state.count(key) == 1, source, " holds \"", key,
                "\", which the model does not have");
  }
  for (const auto& [name, tensor] : state) {
    const auto it = values.find(name);
    TORCH_CHECK(it != values.end(), source, " lacks \"", name, "\"");
    TORCH_CHECK(it->second.sizes() == tensor.sizes(), "\"", name, "\" is ", it->second.sizes(),
                " in ", source, " and ", tensor.sizes(), " in the model");
  }
  const at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : state)
    tensor.copy_(values.at(name));
}

void load_state(torch::nn::Module& module, const std::filesystem::path& path) {
  load_state(module, load_state_dict(path), path.string());
}

}  // namespace sslx::nn
