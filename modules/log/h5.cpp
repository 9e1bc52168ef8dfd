#include "log/h5.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "util/error.h"
#include "util/fs.h"

namespace sslx::h5 {
namespace {

constexpr const char* kDamagedHint =
    "the file is damaged; a run's log has a copy in each of its checkpoints "
    "(checkpoints/step-N/log.h5)";

// HDF5 closes what is still open in an exit handler; after a write failed (a full disk) its
// close callback crashes there (libhdf5 1.10). Every file sslx opens is closed by its Handle,
// so the handler has nothing to do: it is switched off before the library initialises.
const bool kNoExitHandler = [] {
  H5dont_atexit();
  return true;
}();

std::string object_name(hid_t location) {
  char buffer[512] = {};
  H5Iget_name(location, buffer, sizeof buffer);
  char file[512] = {};
  H5Fget_name(location, file, sizeof file);
  return std::string(file) + ":" + buffer;
}

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw IoError("HDF5: " + what + " failed");
  return id;
}

void check_status(herr_t status, const std::string& what) {
  if (status < 0) throw IoError("HDF5: " + what + " failed");
}

Handle string_type() {
  Handle type(check(H5Tcopy(H5T_C_S1), "string type"), H5Tclose);
  check_status(H5Tset_size(type.get(), H5T_VARIABLE), "string type");
  check_status(H5Tset_cset(type.get(), H5T_CSET_UTF8), "string type");
  return type;
}

void delete_attribute_if_present(hid_t location, const std::string& name) {
  if (H5Aexists(location, name.c_str()) > 0) {
    check_status(H5Adelete(location, name.c_str()), "deleting attribute " + name);
  }
}

template <class T>
void write_scalar_attribute(hid_t location, const std::string& name, hid_t type, const T& value) {
  delete_attribute_if_present(location, name);
  Handle space(check(H5Screate(H5S_SCALAR), "dataspace"), H5Sclose);
  Handle attribute(
      check(H5Acreate2(location, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "creating attribute " + name + " on " + object_name(location)),
      H5Aclose);
  check_status(H5Awrite(attribute.get(), type, &value), "writing attribute " + name);
}

template <class T>
std::vector<T> read_all(hid_t dataset, hid_t memory_type) {
  // The extent comes from the file: a damaged one may claim more values than memory holds
  // (found by fuzzing). sslx writes every value it extends a series by, so a series never
  // stores fewer bytes than its values need.
  const hsize_t count = length(dataset);
  const hsize_t stored = H5Dget_storage_size(dataset);
  if (count > stored / sizeof(T)) {
    throw IoError(object_name(dataset) + " claims " + std::to_string(count) +
                      " values but stores " + std::to_string(stored) + " bytes",
                  kDamagedHint);
  }
  std::vector<T> values(count);
  if (!values.empty()) {
    check_status(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                 "reading " + object_name(dataset));
  }
  return values;
}

// Names of `count` indexed objects; `name_at(i, buffer, size)` is an H5*get_name_by_idx call that
// returns the name's length when given a null buffer.
template <class NameAt>
std::vector<std::string> names_by_index(hsize_t count, NameAt name_at) {
  std::vector<std::string> names;
  for (hsize_t i = 0; i < count; ++i) {
    const ssize_t size = name_at(i, nullptr, 0);
    if (size < 0) throw IoError("HDF5: reading the name of entry " + std::to_string(i) + " failed");
    std::string name(static_cast<std::size_t>(size), '\0');
    name_at(i, name.data(), name.size() + 1);
    names.push_back(std::move(name));
  }
  return names;
}

}  // namespace

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::reset() {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = -1;
}

void quiet_errors() {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

Handle create_file(const std::string& path) {
  quiet_errors();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) throw IoError("cannot create HDF5 file " + path + " (does it exist already?)");
  return Handle(id, H5Fclose);
}

namespace {

std::uint64_t little_endian(const unsigned char* p, std::size_t bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes; i-- > 0;)
    value = (value << 8) | p[i];
  return value;
}

// The "size of lengths" of the file's superblock at offset 0 (8 unless the file says else).
std::size_t size_of_lengths(const std::string& bytes) {
  static const char kSignature[] = "\x89HDF\r\n\x1a\n";
  if (bytes.size() < 16 || bytes.compare(0, 8, kSignature, 8) != 0) return 8;
  const auto version = static_cast<unsigned char>(bytes[8]);
  const auto size = static_cast<unsigned char>(bytes[version < 2 ? 14 : 10]);
  return size == 2 || size == 4 || size == 8 ? size : 8;
}

}  // namespace

void check_global_heaps(const std::string& path) {
  const std::string bytes = fs::read_text(path);
  const std::size_t lengths = size_of_lengths(bytes);
  const std::size_t header = 8 + lengths;  // index, references, reserved, size
  const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
  // A collection: "GCOL", version 1, 3 reserved bytes, its size, then objects. The walk is
  // HDF5's own (H5HG__cache_heap_deserialize), which advances by object 0's size alone (a size
  // of 0 there never advances) and keeps an object that extends past the collection (which
  // H5HG_read would then copy from beyond its buffer). The first was found by fuzzing; the
  // second is the same walk's other unchecked case.
  for (std::size_t at = bytes.find("GCOL"); at != std::string::npos;
       at = bytes.find("GCOL", at + 4)) {
    if (at + 8 + lengths > bytes.size() || data[at + 4] != 1) continue;
    const std::uint64_t size = little_endian(data + at + 8, lengths);
    if (size > bytes.size() - at) continue;  // HDF5 fails to read it: no walk
    const std::size_t end = at + size;
    std::size_t p = at + 8 + lengths;
    while (p < end) {
      if (p + header > end) break;  // too small for an object: free space
      const std::uint64_t index = little_endian(data + p, 2);
      const std::uint64_t object = little_endian(data + p + 8, lengths);
      const std::uint64_t need = index > 0 ? header + ((object + 7) & ~std::uint64_t{7}) : object;
      if (need == 0) {
        throw IoError(path + " is corrupted: the HDF5 global heap collection at byte " +
                          std::to_string(at) + " has a free-space object of size 0",
                      std::string("HDF5 would never finish reading it; ") + kDamagedHint);
      }
      if (need > end - p) {
        throw IoError(path +
                          " is corrupted: an object of the HDF5 global heap collection at byte " +
                          std::to_string(at) + " extends past the collection's end",
                      std::string("HDF5 would read past its buffer; ") + kDamagedHint);
      }
      p += need;
    }
  }
}

Handle open_file(const std::string& path, bool read_only) {
  quiet_errors();
  Handle access(check(H5Pcreate(H5P_FILE_ACCESS), "file access list"), H5Pclose);
  if (read_only) H5Pset_file_locking(access.get(), false, true);
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    throw IoError(path + " is not a readable HDF5 file",
                  "check the path; a log whose writer never flushed cannot be read");
  }
  check_global_heaps(path);
  const hid_t id = H5Fopen(path.c_str(), read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR, access.get());
  if (id < 0) throw IoError("cannot open HDF5 file " + path, "is another process writing it?");
  return Handle(id, H5Fclose);
}

void flush(hid_t file) {
  char name[1024] = {};
  H5Fget_name(file, name, sizeof name);
  check_status(H5Fflush(file, H5F_SCOPE_GLOBAL),
               "writing " + std::string(name) + " (is its disk full?)");
}

bool exists(hid_t location, const std::string& path) {
  // H5Lexists needs every intermediate link to exist, so walk the path one link at a time.
  std::string prefix;
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = path.find('/', start);
    prefix += (prefix.empty() ? "" : "/") + path.substr(start, end - start);
    if (H5Lexists(location, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return true;
}

Handle open_group(hid_t location, const std::string& path) {
  return Handle(check(H5Gopen2(location, path.c_str(), H5P_DEFAULT), "opening group " + path),
                H5Gclose);
}

Handle require_group(hid_t location, const std::string& path) {
  if (exists(location, path)) return open_group(location, path);
  Handle links(check(H5Pcreate(H5P_LINK_CREATE), "link property list"), H5Pclose);
  H5Pset_create_intermediate_group(links.get(), 1);
  return Handle(check(H5Gcreate2(location, path.c_str(), links.get(), H5P_DEFAULT, H5P_DEFAULT),
                      "creating group " + path),
                H5Gclose);
}

void remove(hid_t location, const std::string& path) {
  check_status(H5Ldelete(location, path.c_str(), H5P_DEFAULT), "removing " + path);
}

std::vector<std::string> member_names(hid_t group) {
  H5G_info_t info;
  check_status(H5Gget_info(group, &info), "listing " + object_name(group));
  return names_by_index(info.nlinks, [group](hsize_t i, char* buffer, std::size_t size) {
    return H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, buffer, size, H5P_DEFAULT);
  });
}

Handle create_series(hid_t location, const std::string& name, hid_t type, hsize_t chunk_rows) {
  const hsize_t initial = 0;
  const hsize_t maximum = H5S_UNLIMITED;
  Handle space(check(H5Screate_simple(1, &initial, &maximum), "dataspace"), H5Sclose);
  Handle properties(check(H5Pcreate(H5P_DATASET_CREATE), "dataset properties"), H5Pclose);
  check_status(H5Pset_chunk(properties.get(), 1, &chunk_rows), "chunking");
  return Handle(check(H5Dcreate2(location, name.c_str(), type, space.get(), H5P_DEFAULT,
                                 properties.get(), H5P_DEFAULT),
                      "creating dataset " + name),
                H5Dclose);
}

Handle open_dataset(hid_t location, const std::string& name) {
  return Handle(check(H5Dopen2(location, name.c_str(), H5P_DEFAULT), "opening dataset " + name),
                H5Dclose);
}

hsize_t length(hid_t dataset) {
  Handle space(check(H5Dget_space(dataset), "dataspace"), H5Sclose);
  hsize_t size = 0;
  H5Sget_simple_extent_dims(space.get(), &size, nullptr);
  return size;
}

void append(hid_t dataset, hid_t memory_type, const void* data, hsize_t rows) {
  if (rows == 0) return;
  const hsize_t old_size = length(dataset);
  const hsize_t new_size = old_size + rows;
  check_status(H5Dset_extent(dataset, &new_size), "extending " + object_name(dataset));
  Handle file_space(check(H5Dget_space(dataset), "dataspace"), H5Sclose);
  check_status(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &old_size, nullptr, &rows, nullptr),
      "selecting rows");
  Handle memory_space(check(H5Screate_simple(1, &rows, nullptr), "dataspace"), H5Sclose);
  check_status(
      H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT, data),
      "writing " + object_name(dataset));
}

void resize(hid_t dataset, hsize_t rows) {
  check_status(H5Dset_extent(dataset, &rows), "resizing " + object_name(dataset));
}

std::vector<std::int64_t> read_int64(hid_t dataset) {
  return read_all<std::int64_t>(dataset, H5T_NATIVE_INT64);
}

std::vector<double> read_float64(hid_t dataset) {
  return read_all<double>(dataset, H5T_NATIVE_DOUBLE);
}

void write_attribute(hid_t location, const std::string& name, const std::string& value) {
  const Handle type = string_type();
  const char* text = value.c_str();
  write_scalar_attribute(location, name, type.get(), text);
}

void write_attribute(hid_t location, const std::string& name, std::int64_t value) {
  write_scalar_attribute(location, name, H5T_NATIVE_INT64, value);
}

void write_attribute(hid_t location, const std::string& name, double value) {
  write_scalar_attribute(location, name, H5T_NATIVE_DOUBLE, value);
}

std::vector<std::string> attribute_names(hid_t location) {
  H5O_info_t info;
  check_status(H5Oget_info2(location, &info, H5O_INFO_NUM_ATTRS), "object info");
  return names_by_index(info.num_attrs, [location](hsize_t i, char* buffer, std::size_t size) {
    return H5Aget_name_by_idx(location, ".", H5_INDEX_NAME, H5_ITER_INC, i, buffer, size,
                              H5P_DEFAULT);
  });
}

std::optional<std::string> read_string_attribute(hid_t location, const std::string& name) {
  if (H5Aexists(location, name.c_str()) <= 0) return std::nullopt;
  Handle attribute(check(H5Aopen(location, name.c_str(), H5P_DEFAULT), "opening " + name),
                   H5Aclose);
  Handle file_type(check(H5Aget_type(attribute.get()), "attribute type"), H5Tclose);
  if (H5Tget_class(file_type.get()) != H5T_STRING) return std::nullopt;
  if (H5Tis_variable_str(file_type.get()) > 0) {
    const Handle type = string_type();
    char* text = nullptr;
    check_status(H5Aread(attribute.get(), type.get(), &text), "reading " + name);
    std::string value = text ? text : "";
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(file_type.get());
  std::string value(size, '\0');
  check_status(H5Aread(attribute.get(), file_type.get(), value.data()), "reading " + name);
  value.erase(value.find_last_not_of('\0') + 1);
  return value;
}

std::optional<double> read_number_attribute(hid_t location, const std::string& name) {
  if (H5Aexists(location, name.c_str()) <= 0) return std::nullopt;
  Handle attribute(check(H5Aopen(location, name.c_str(), H5P_DEFAULT), "opening " + name),
                   H5Aclose);
  Handle file_type(check(H5Aget_type(attribute.get()), "attribute type"), H5Tclose);
  const H5T_class_t type_class = H5Tget_class(file_type.get());
  if (type_class != H5T_INTEGER && type_class != H5T_FLOAT) return std::nullopt;
  double value = 0;
  check_status(H5Aread(attribute.get(), H5T_NATIVE_DOUBLE, &value), "reading " + name);
  return value;
}

std::optional<std::int64_t> read_integer_attribute(hid_t location, const std::string& name) {
  const auto value = read_number_attribute(location, name);
  if (!value) return std::nullopt;
  // 2^63 is the first double past int64; a cast of anything at or beyond it is undefined.
  constexpr double kLimit = 9223372036854775808.0;
  if (!(*value >= -kLimit && *value < kLimit) || std::trunc(*value) != *value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", *value);
    throw IoError("attribute " + name + " of " + object_name(location) + " holds " + text +
                      ", not a whole number",
                  kDamagedHint);
  }
  return static_cast<std::int64_t>(*value);
}

void link_external(hid_t location, const std::string& name, const std::string& file,
                   const std::string& object) {
  check_status(H5Lcreate_external(file.c_str(), object.c_str(), location, name.c_str(), H5P_DEFAULT,
                                  H5P_DEFAULT),
               "linking " + name + " to " + file);
}

}  // namespace sslx::h5
