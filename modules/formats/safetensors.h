// The safetensors file format (Hugging Face's, the one transformers and PyTorch users exchange
// weights in): an 8-byte little-endian header length N, N bytes of JSON naming each tensor's
// dtype, shape and [begin, end) byte range in the data section, then the data section, every
// tensor little-endian and C-contiguous. An optional "__metadata__" entry maps strings to strings.
//
// This layer knows bytes only (no LibTorch), so it is fuzzed and sanitised on its own
// (fuzz/fuzz_safetensors.cpp); interop/tensor_file.h turns its entries into tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sslx::formats {

enum class Dtype { f64, f32, f16, bf16, i64, i32, i16, i8, u8, boolean };

// "F32", "BF16", ... as the header spells them.
std::string_view dtype_name(Dtype dtype);
std::size_t dtype_size(Dtype dtype);

struct TensorEntry {
  std::string name;
  Dtype dtype = Dtype::f32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte range in the data section
  std::uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // in the order of their bytes
  std::map<std::string, std::string> metadata;
};

// Parses and checks a header whose data section is `data_size` bytes: valid UTF-8 JSON object,
// known dtypes, non-negative shapes, each range the size its dtype and shape need, ranges inside
// the data section, neither overlapping nor leaving holes. Throws IoError naming `file` and the
// tensor otherwise.
SafetensorsHeader parse_header(std::string_view json, std::uint64_t data_size,
                               const std::string& file);

// A safetensors file opened for reading: the header is read and checked against the file's
// size, tensors are read one at a time (a model need not fit in memory twice).
class SafetensorsReader {
 public:
  explicit SafetensorsReader(const std::filesystem::path& path);

  const SafetensorsHeader& header() const { return header_; }
  // The entry named `name`, or nullptr.
  const TensorEntry* find(std::string_view name) const;
  // Copies the bytes of `entry` (one of header().tensors) into `destination`, which holds
  // entry.end - entry.begin bytes.
  void read(const TensorEntry& entry, void* destination);

 private:
  std::filesystem::path path_;
  std::ifstream stream_;
  std::uint64_t data_start_ = 0;
  SafetensorsHeader header_;
};

// One tensor to write: `bytes` must hold exactly numel(shape) * dtype_size(dtype) bytes,
// little-endian and C-contiguous.
struct TensorBytes {
  std::string name;
  Dtype dtype = Dtype::f32;
  std::vector<std::int64_t> shape;
  const void* bytes = nullptr;
  std::size_t size = 0;
};

// Writes `tensors` (names unique, "__metadata__" reserved) and `metadata` to `path` atomically
// (a temporary file renamed into place). The header is padded with spaces to a multiple of 8
// bytes so that every tensor starts aligned, as the reference writer does.
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata);

}  // namespace sslx::formats
