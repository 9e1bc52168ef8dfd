// The safetensors reader and writer at the byte level: files written by hand (as the format's
// specification lays them out) read back, and every kind of damage is a clear error naming the
// file and the tensor, never a read past the buffer (the same parser runs under AddressSanitizer
// in fuzz/fuzz_safetensors.cpp).
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "support.h"
#include "util/error.h"

namespace {

using sslx::formats::Dtype;
using sslx::formats::SafetensorsReader;

// A file as the specification lays it out: u64 little-endian header length, header, data.
std::string file_bytes(const std::string& header, const std::string& data) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i)
    bytes[static_cast<std::size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return bytes + header + data;
}

std::string floats(const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

std::filesystem::path write_bytes(const sslx::test::TempDir& dir, const std::string& bytes) {
  const auto path = dir / "model.safetensors";
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The message of the IoError that opening `bytes` as a safetensors file throws.
std::string open_error(const std::string& bytes) {
  const sslx::test::TempDir dir;
  const auto path = write_bytes(dir, bytes);
  try {
    SafetensorsReader reader(path);
  } catch (const sslx::IoError& e) {
    const std::string message = e.what();
    CHECK(message.find(path.string()) != std::string::npos);  // every error names the file
    return message;
  }
  FAIL("no error for a damaged file");
  return {};
}

const std::string kTwoTensors =
    R"({"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]},)"
    R"("a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";

}  // namespace

TEST_CASE("a hand-written safetensors file reads back tensor by tensor", "[safetensors]") {
  const sslx::test::TempDir dir;
  const auto path = write_bytes(dir, file_bytes(kTwoTensors, floats({1, 2, 3, 4.5f, -5})));
  SafetensorsReader reader(path);
  REQUIRE(reader.header().tensors.size() == 2);
  CHECK(reader.header().metadata.at("format") == "pt");
  const auto* b = reader.find("b");
  REQUIRE(b != nullptr);
  CHECK(b->dtype == Dtype::f32);
  CHECK(b->shape == std::vector<std::int64_t>{2});
  float values[2] = {};
  reader.read(*b, values);
  CHECK(values[0] == 4.5f);
  CHECK(values[1] == -5.0f);
  CHECK(reader.find("c") == nullptr);
}

TEST_CASE("the writer pads the header to 8 bytes and orders tensors widest first",
          "[safetensors]") {
  const sslx::test::TempDir dir;
  const std::vector<float> f = {1.5f, -2.0f};
  const std::vector<std::int16_t> h = {7, 8, 9};
  const std::vector<double> d = {0.25};
  sslx::formats::write_safetensors(dir / "out.safetensors",
                                   {{"half", Dtype::bf16, {3}, h.data(), 6},
                                    {"float", Dtype::f32, {1, 2}, f.data(), 8},
                                    {"double", Dtype::f64, {}, d.data(), 8}},
                                   {{"format", "pt"}});
  std::ifstream in(dir / "out.safetensors", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::uint64_t length = 0;
  std::memcpy(&length, bytes.data(), 8);
  CHECK(length % 8 == 0);
  CHECK(bytes.size() == 8 + length + 8 + 8 + 6);
  SafetensorsReader reader(dir / "out.safetensors");
  const auto& tensors = reader.header().tensors;
  REQUIRE(tensors.size() == 3);
  CHECK(tensors[0].name == "double");  // 8-byte elements first, then 4, then 2
  CHECK(tensors[1].name == "float");
  CHECK(tensors[2].name == "half");
  CHECK(tensors[0].shape.empty());  // a scalar
  double scalar = 0;
  reader.read(tensors[0], &scalar);
  CHECK(scalar == 0.25);
  std::int16_t halves[3] = {};
  reader.read(tensors[2], halves);
  CHECK(halves[2] == 9);
}

TEST_CASE("the writer refuses a byte count that does not match dtype and shape", "[safetensors]") {
  const sslx::test::TempDir dir;
  const float f[2] = {};
  CHECK_THROWS_WITH(
      sslx::formats::write_safetensors(dir / "x.safetensors", {{"w", Dtype::f32, {3}, f, 8}}, {}),
      Catch::Contains("\"w\" has 8 bytes, its dtype and shape need 12"));
}

TEST_CASE("damaged safetensors files are clear errors naming the file and tensor",
          "[safetensors]") {
  const std::string good = file_bytes(kTwoTensors, floats({1, 2, 3, 4, 5}));
  SECTION("shorter than the header length") {
    CHECK_THAT(open_error("abc"), Catch::Contains("3 bytes; a safetensors file starts"));
  }
  SECTION("header length past the end") {
    std::string bytes = good;
    bytes[0] = '\xff';
    bytes[1] = '\xff';
    CHECK_THAT(open_error(bytes), Catch::Contains("reaches past the end"));
  }
  SECTION("truncated data") {
    CHECK_THAT(open_error(good.substr(0, good.size() - 3)),
               Catch::Contains("tensor \"b\"") && Catch::Contains("offset"));
  }
  SECTION("trailing bytes after the tensors") {
    CHECK_THAT(open_error(good + "xxxx"), Catch::Contains("the data section holds 24 bytes but its "
                                                          "tensors 20"));
  }
  SECTION("overlapping ranges") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                               R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1, 2, 3, 4}))),
               Catch::Contains("tensor \"b\" [8, 16) overlaps tensor \"a\""));
  }
  SECTION("a hole between tensors") {
    const std::string header = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1, 2, 3}))),
               Catch::Contains("bytes [4, 8) of the data section belong to no tensor"));
  }
  SECTION("an unknown dtype") {
    const std::string header = R"({"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1}))),
               Catch::Contains("tensor \"w\" has dtype \"F31\""));
  }
  SECTION("a range that does not fit dtype and shape") {
    const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]},)"
                               R"("v":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1, 2}))),
               Catch::Contains("tensor \"w\" spans 4 bytes, but F32 of shape [2] needs 8"));
  }
  SECTION("a shape too large for the file") {
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1}))),
               Catch::Contains("needs more bytes than the data section"));
  }
  SECTION("a negative dimension") {
    const std::string header = R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1}))),
               Catch::Contains("a dimension of tensor \"w\" is -1"));
  }
  SECTION("offsets in the wrong order") {
    const std::string header = R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1}))),
               Catch::Contains("tensor \"w\" ends (0) before it begins (4)"));
  }
  SECTION("header JSON that is not UTF-8") {
    const std::string header =
        "{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    CHECK_THAT(open_error(file_bytes(header, floats({1}))),
               Catch::Contains("not valid JSON (UTF-8)"));
  }
  SECTION("a header that is not an object") {
    CHECK_THAT(open_error(file_bytes("[1, 2]", "")), Catch::Contains("expected a JSON object"));
  }
  SECTION("an unknown key in a tensor entry") {
    const std::string header =
        R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"stride":[1]}})";
    CHECK_THAT(open_error(file_bytes(header, floats({1}))),
               Catch::Contains("tensor \"w\" has an unknown key \"stride\""));
  }
  SECTION("metadata that is not strings") {
    CHECK_THAT(open_error(file_bytes(R"({"__metadata__":{"n":1}})", "")),
               Catch::Contains("__metadata__ \"n\" is 1; expected a string"));
  }
}
