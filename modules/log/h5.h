// Thin RAII over the HDF5 C API: just what the run log needs. Every failure throws IoError with
// the file and object names.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sslx::h5 {

// Owns one hid_t and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Silences HDF5's automatic error printing: errors are reported by exceptions instead.
void quiet_errors();

// Throws IoError when a global heap collection of the file (where variable-length strings live)
// is corrupted in one of the ways HDF5 1.10 does not survive: a free-space object of size 0 (it
// loops forever; found by fuzzing, fuzz/fuzz_run_log.cpp) or an object past the collection's
// end (it would read beyond its buffer). open_file checks every file first.
void check_global_heaps(const std::string& path);

Handle create_file(const std::string& path);
// `read_only` readers open without file locking so that a running job's log can be inspected.
Handle open_file(const std::string& path, bool read_only);
void flush(hid_t file);

bool exists(hid_t location, const std::string& path);
Handle open_group(hid_t location, const std::string& path);
// Creates every missing group along `path` ("a/b/c").
Handle require_group(hid_t location, const std::string& path);
// Unlinks the object at `path` (its space is reused by later writes to the file).
void remove(hid_t location, const std::string& path);
std::vector<std::string> member_names(hid_t group);
// A soft link to `object` in another HDF5 file (a path relative to this file's folder).
void link_external(hid_t location, const std::string& name, const std::string& file,
                   const std::string& object);

// 1-D extendable chunked dataset of int64 or float64.
Handle create_series(hid_t location, const std::string& name, hid_t type, hsize_t chunk_rows);
Handle open_dataset(hid_t location, const std::string& name);
hsize_t length(hid_t dataset);
void append(hid_t dataset, hid_t memory_type, const void* data, hsize_t rows);
void resize(hid_t dataset, hsize_t rows);
std::vector<std::int64_t> read_int64(hid_t dataset);
std::vector<double> read_float64(hid_t dataset);

void write_attribute(hid_t location, const std::string& name, const std::string& value);
void write_attribute(hid_t location, const std::string& name, std::int64_t value);
void write_attribute(hid_t location, const std::string& name, double value);
std::vector<std::string> attribute_names(hid_t location);
std::optional<std::string> read_string_attribute(hid_t location, const std::string& name);
std::optional<double> read_number_attribute(hid_t location, const std::string& name);
// A number attribute that must hold a whole number (counts, steps, versions): IoError naming it
// when it holds anything else (a damaged file: NaN, infinity, 1e300, 2.5).
std::optional<std::int64_t> read_integer_attribute(hid_t location, const std::string& name);

}  // namespace sslx::h5
