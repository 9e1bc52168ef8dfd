// Saving and loading a module's state by its registered names (the state-dict keys), strictly:
// loading checks that the file holds exactly the module's keys, each with the module's shape,
// and says which key differs. LibTorch's own torch::load skips extra keys and silently resizes
// a tensor of another shape.
#pragma once

#include <torch/nn/module.h>

#include <filesystem>
#include <map>
#include <string>

namespace sslx::nn {

// Writes every parameter and buffer of `module` under its dotted name.
void save_state(const torch::nn::Module& module, const std::filesystem::path& path);

// Writes `state` as save_state() writes a module's.
void save_state_dict(const std::map<std::string, at::Tensor>& state,
                     const std::filesystem::path& path);

// Every tensor of a state file by name (for inspecting checkpoints).
std::map<std::string, at::Tensor> load_state_dict(const std::filesystem::path& path);

// Every parameter and buffer of `module` by dotted name (the tensors themselves, not copies).
std::map<std::string, at::Tensor> named_state(const torch::nn::Module& module);

// The tensors of `state` under "<submodule>." (e.g. "backbone"), named without that prefix: the
// state of one submodule of a model, to load into it on its own.
std::map<std::string, at::Tensor> submodule_state(const std::map<std::string, at::Tensor>& state,
                                                  const std::string& submodule);

// Copies `state` into `module` in place, strictly as load_state() does; `source` names where the
// tensors came from in the errors.
void load_state(torch::nn::Module& module, const std::map<std::string, at::Tensor>& state,
                const std::string& source);

// Reads into `module` in place; throws (c10::Error) on a missing or extra key or another shape,
// before changing anything.
void load_state(torch::nn::Module& module, const std::filesystem::path& path);

}  // namespace sslx::nn
