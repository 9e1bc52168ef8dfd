// Tensors in safetensors files (formats/safetensors.h) as LibTorch tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

namespace sslx::interop {

using TensorMap = std::map<std::string, at::Tensor>;

// Every tensor of `path` (CPU, the file's dtype); `metadata`, when given, receives __metadata__.
TensorMap read_tensor_file(const std::filesystem::path& path,
                           std::map<std::string, std::string>* metadata = nullptr);

// Writes `tensors` (any float or integer dtype LibTorch and safetensors share) to `path`.
void write_tensor_file(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace sslx::interop
