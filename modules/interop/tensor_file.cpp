#include "interop/tensor_file.h"

#include <ATen/ATen.h>

#include <vector>

#include "formats/safetensors.h"
#include "util/error.h"

namespace sslx::interop {
namespace {

struct DtypePair {
  formats::Dtype file;
  at::ScalarType torch;
};
constexpr DtypePair kDtypes[] = {
    {formats::Dtype::f64, at::kDouble}, {formats::Dtype::f32, at::kFloat},
    {formats::Dtype::f16, at::kHalf},   {formats::Dtype::bf16, at::kBFloat16},
    {formats::Dtype::i64, at::kLong},   {formats::Dtype::i32, at::kInt},
    {formats::Dtype::i16, at::kShort},  {formats::Dtype::i8, at::kChar},
    {formats::Dtype::u8, at::kByte},    {formats::Dtype::boolean, at::kBool}};

at::ScalarType torch_dtype(formats::Dtype dtype) {
  for (const auto& pair : kDtypes)
    if (pair.file == dtype) return pair.torch;
  throw Error("no LibTorch dtype for safetensors " + std::string(formats::dtype_name(dtype)));
}

formats::Dtype file_dtype(at::ScalarType dtype, const std::string& name) {
  for (const auto& pair : kDtypes)
    if (pair.torch == dtype) return pair.file;
  throw Error("tensor \"" + name + "\" has dtype " + std::string(c10::toString(dtype)) +
              ", which safetensors cannot hold");
}

}  // namespace

TensorMap read_tensor_file(const std::filesystem::path& path,
                           std::map<std::string, std::string>* metadata) {
  formats::SafetensorsReader reader(path);
  TensorMap tensors;
  for (const auto& entry : reader.header().tensors) {
    at::Tensor tensor = at::empty(entry.shape, at::TensorOptions().dtype(torch_dtype(entry.dtype)));
    reader.read(entry, tensor.data_ptr());
    tensors.emplace(entry.name, std::move(tensor));
  }
  if (metadata != nullptr) *metadata = reader.header().metadata;
  return tensors;
}

void write_tensor_file(const std::filesystem::path& path, const TensorMap& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> contiguous;  // keeps the bytes alive until written
  std::vector<formats::TensorBytes> entries;
  contiguous.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    contiguous.push_back(tensor.detach().to(at::kCPU).contiguous());
    const at::Tensor& bytes = contiguous.back();
    entries.push_back({.name = name,
                       .dtype = file_dtype(bytes.scalar_type(), name),
                       .shape = bytes.sizes().vec(),
                       .bytes = bytes.data_ptr(),
                       .size = bytes.nbytes()});
  }
  formats::write_safetensors(path, entries, metadata);
}

}  // namespace sslx::interop
