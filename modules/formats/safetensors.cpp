#include "formats/safetensors.h"

#include <nlohmann/json.hpp>

#include <unistd.h>
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <set>

#include "util/error.h"

namespace sslx::formats {
namespace {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

// The reference implementation refuses larger headers: a bound that keeps a corrupt length from
// allocating gigabytes.
constexpr std::uint64_t kMaxHeaderSize = 100'000'000;

struct DtypeInfo {
  Dtype dtype;
  std::string_view name;
  std::size_t size;
};
constexpr std::array<DtypeInfo, 10> kDtypes{{{Dtype::f64, "F64", 8},
                                             {Dtype::f32, "F32", 4},
                                             {Dtype::f16, "F16", 2},
                                             {Dtype::bf16, "BF16", 2},
                                             {Dtype::i64, "I64", 8},
                                             {Dtype::i32, "I32", 4},
                                             {Dtype::i16, "I16", 2},
                                             {Dtype::i8, "I8", 1},
                                             {Dtype::u8, "U8", 1},
                                             {Dtype::boolean, "BOOL", 1}}};

const DtypeInfo& info(Dtype dtype) {
  for (const auto& entry : kDtypes)
    if (entry.dtype == dtype) return entry;
  throw Error("unknown safetensors dtype " + std::to_string(static_cast<int>(dtype)));
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw IoError(file + ": " + what,
                "the file is not a valid safetensors file (truncated or written by a faulty "
                "writer); export the model again");
}

Dtype parse_dtype(const nlohmann::json& value, const std::string& file, const std::string& name) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    for (const auto& entry : kDtypes)
      if (entry.name == text) return entry.dtype;
  }
  fail(file, "tensor \"" + name + "\" has dtype " + value.dump() +
                 "; expected one of F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL");
}

// A JSON number that is a non-negative integer within `limit`.
std::uint64_t parse_count(const nlohmann::json& value, std::uint64_t limit, const std::string& file,
                          const std::string& what) {
  if (!value.is_number_unsigned() || value.get<std::uint64_t>() > limit)
    fail(file, what + " is " + value.dump() + "; expected an integer in [0, " +
                   std::to_string(limit) + "]");
  return value.get<std::uint64_t>();
}

TensorEntry parse_entry(const std::string& name, const nlohmann::json& value,
                        std::uint64_t data_size, const std::string& file) {
  const std::string where = "tensor \"" + name + "\"";
  if (!value.is_object()) fail(file, where + " is " + value.dump() + "; expected an object");
  for (const auto& [key, unused] : value.items()) {
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      fail(file,
           where + " has an unknown key \"" + key + "\"; expected dtype, shape, data_offsets");
  }
  if (!value.contains("dtype") || !value.contains("shape") || !value.contains("data_offsets"))
    fail(file, where + " needs dtype, shape and data_offsets");
  TensorEntry entry{.name = name, .dtype = parse_dtype(value["dtype"], file, name)};
  const auto& shape = value["shape"];
  if (!shape.is_array()) fail(file, where + " has shape " + shape.dump() + "; expected an array");
  // The byte count, checked for overflow one dimension at a time.
  std::uint64_t bytes = dtype_size(entry.dtype);
  bool empty = false;
  for (const auto& dim : shape) {
    const std::uint64_t d =
        parse_count(dim, std::numeric_limits<std::int64_t>::max(), file, "a dimension of " + where);
    entry.shape.push_back(static_cast<std::int64_t>(d));
    if (d == 0) empty = true;
    if (!empty && bytes > data_size / d)
      fail(file, where + " of shape " + shape.dump() +
                     " needs more bytes than the data section's " + std::to_string(data_size));
    bytes = empty ? 0 : bytes * d;
  }
  const auto& offsets = value["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2)
    fail(file, where + " has data_offsets " + offsets.dump() + "; expected [begin, end]");
  entry.begin = parse_count(offsets[0], data_size, file, "the begin offset of " + where);
  entry.end = parse_count(offsets[1], data_size, file, "the end offset of " + where);
  if (entry.end < entry.begin)
    fail(file, where + " ends (" + std::to_string(entry.end) + ") before it begins (" +
                   std::to_string(entry.begin) + ")");
  if (entry.end - entry.begin != bytes)
    fail(file, where + " spans " + std::to_string(entry.end - entry.begin) + " bytes, but " +
                   std::string(dtype_name(entry.dtype)) + " of shape " + shape.dump() + " needs " +
                   std::to_string(bytes));
  return entry;
}

void read_exactly(std::ifstream& stream, char* destination, std::uint64_t size,
                  const std::string& file, const std::string& what) {
  stream.read(destination, static_cast<std::streamsize>(size));
  if (static_cast<std::uint64_t>(stream.gcount()) != size) fail(file, "cannot read " + what);
}

}  // namespace

std::string_view dtype_name(Dtype dtype) {
  return info(dtype).name;
}
std::size_t dtype_size(Dtype dtype) {
  return info(dtype).size;
}

SafetensorsHeader parse_header(std::string_view json, std::uint64_t data_size,
                               const std::string& file) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    fail(file, std::string("the header is not valid JSON (UTF-8): ") + e.what());
  }
  if (!root.is_object()) fail(file, "the header is " + root.dump() + "; expected a JSON object");
  SafetensorsHeader header;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail(file, "__metadata__ must be an object of strings");
      for (const auto& [key, text] : value.items()) {
        if (!text.is_string())
          fail(file, "__metadata__ \"" + key + "\" is " + text.dump() + "; expected a string");
        header.metadata.emplace(key, text.get<std::string>());
      }
      continue;
    }
    header.tensors.push_back(parse_entry(name, value, data_size, file));
  }
  // The data section is the tensors' bytes back to back: no overlap, no hole, nothing after.
  std::sort(header.tensors.begin(), header.tensors.end(),
            [](const TensorEntry& a, const TensorEntry& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  std::uint64_t expected = 0;
  const TensorEntry* previous = nullptr;
  for (const auto& entry : header.tensors) {
    if (entry.begin < expected)
      fail(file, "tensor \"" + entry.name + "\" [" + std::to_string(entry.begin) + ", " +
                     std::to_string(entry.end) + ") overlaps tensor \"" + previous->name + "\"");
    if (entry.begin > expected)
      fail(file, "bytes [" + std::to_string(expected) + ", " + std::to_string(entry.begin) +
                     ") of the data section belong to no tensor (before \"" + entry.name + "\")");
    expected = entry.end;
    previous = &entry;
  }
  if (expected != data_size)
    fail(file, "the data section holds " + std::to_string(data_size) + " bytes but its tensors " +
                   std::to_string(expected));
  return header;
}

SafetensorsReader::SafetensorsReader(const std::filesystem::path& path)
    : path_(path), stream_(path, std::ios::binary) {
  const std::string file = path.string();
  if (!stream_) throw IoError("cannot open " + file, "check the path");
  std::error_code error;
  const std::uint64_t file_size = std::filesystem::file_size(path, error);
  if (error) throw IoError("cannot read the size of " + file + ": " + error.message());
  if (file_size < 8)
    fail(file, "the file has " + std::to_string(file_size) +
                   " bytes; a safetensors file starts with an 8-byte header length");
  std::array<unsigned char, 8> length_bytes{};
  read_exactly(stream_, reinterpret_cast<char*>(length_bytes.data()), 8, file, "the header length");
  std::uint64_t length = 0;
  for (int i = 7; i >= 0; --i)
    length = (length << 8) | length_bytes[static_cast<std::size_t>(i)];
  if (length > file_size - 8 || length > kMaxHeaderSize)
    fail(file, "the header length " + std::to_string(length) + " reaches past the end of the " +
                   std::to_string(file_size) + "-byte file");
  std::string json(length, '\0');
  read_exactly(stream_, json.data(), length, file, "the header");
  data_start_ = 8 + length;
  header_ = parse_header(json, file_size - data_start_, file);
}

const TensorEntry* SafetensorsReader::find(std::string_view name) const {
  for (const auto& entry : header_.tensors)
    if (entry.name == name) return &entry;
  return nullptr;
}

void SafetensorsReader::read(const TensorEntry& entry, void* destination) {
  stream_.clear();
  stream_.seekg(static_cast<std::streamoff>(data_start_ + entry.begin));
  read_exactly(stream_, static_cast<char*>(destination), entry.end - entry.begin, path_.string(),
               "tensor \"" + entry.name + "\"");
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorBytes>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  // Widest dtypes first, then by name (the reference writer's order): every tensor starts at a
  // multiple of its element size.
  std::vector<const TensorBytes*> order;
  std::set<std::string_view> names;
  for (const auto& tensor : tensors) {
    if (tensor.name == "__metadata__" || !names.insert(tensor.name).second)
      throw Error("write_safetensors: tensor name \"" + tensor.name + "\" is reserved or repeated");
    std::size_t expected = dtype_size(tensor.dtype);
    for (const std::int64_t d : tensor.shape)
      expected *= static_cast<std::size_t>(d);
    if (expected != tensor.size)
      throw Error("write_safetensors: tensor \"" + tensor.name + "\" has " +
                  std::to_string(tensor.size) + " bytes, its dtype and shape need " +
                  std::to_string(expected));
    order.push_back(&tensor);
  }
  std::sort(order.begin(), order.end(), [](const TensorBytes* a, const TensorBytes* b) {
    const auto sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const TensorBytes* tensor : order) {
    header[tensor->name] = {{"dtype", dtype_name(tensor->dtype)},
                            {"shape", tensor->shape},
                            {"data_offsets", {offset, offset + tensor->size}}};
    offset += tensor->size;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');

  const std::filesystem::path temporary =
      path.string() + ".tmp." + std::to_string(static_cast<long>(::getpid()));
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot write " + temporary.string(), "check the directory");
    std::array<char, 8> length{};
    for (std::size_t i = 0; i < 8; ++i)
      length[i] = static_cast<char>((json.size() >> (8 * i)) & 0xff);
    out.write(length.data(), 8);
    out.write(json.data(), static_cast<std::streamsize>(json.size()));
    for (const TensorBytes* tensor : order)
      out.write(static_cast<const char*>(tensor->bytes),
                static_cast<std::streamsize>(tensor->size));
    out.flush();
    if (!out) {
      std::filesystem::remove(temporary);
      throw IoError("cannot write " + temporary.string(), "is the disk full?");
    }
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace sslx::formats
