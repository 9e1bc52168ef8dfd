// The safetensors reader (formats/safetensors.h): the header checks, then every tensor read into
// a buffer of the size its entry declares. Whatever the bytes, the reader may only throw
// sslx::Error; nothing may be read or written past a buffer.
#include <vector>

#include "formats/safetensors.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = sslx::fuzz::write_input(sslx::fuzz::as_text(data, size), ".safetensors");
  sslx::fuzz::expect_clean_errors([&] {
    sslx::formats::SafetensorsReader reader(file);
    for (const auto& entry : reader.header().tensors) {
      std::vector<char> bytes(entry.end - entry.begin);
      reader.read(entry, bytes.data());
      (void)reader.find(entry.name);
    }
  });
  return 0;
}
