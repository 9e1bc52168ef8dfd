// What every harness shares: the input as a file (the readers under test take paths), and the
// rule that decides what is a finding. Bad input may only end in an sslx::Error (a clear message
// naming the file, line or key); any other exception, a crash, a leak or a sanitizer report is
// a bug that libFuzzer reports with the input that caused it.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/error.h"
#include "util/strings.h"

namespace sslx::fuzz {

// The input written to a file of its own (one per process, rewritten for every input), in the
// directory libFuzzer's runs share: $TMPDIR or /tmp.
inline std::filesystem::path write_input(std::string_view bytes, const std::string& extension) {
  static const std::filesystem::path directory = [] {
    auto path = std::filesystem::temp_directory_path() / ("sslx-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  const auto file = directory / ("input" + extension);
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return file;
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Runs `body`; an sslx::Error is the expected answer to bad input, everything else escapes.
template <typename Body>
void expect_clean_errors(Body&& body) {
  try {
    body();
  } catch (const sslx::Error&) {
  }
}

// Splits "first<marker>second" (second empty without the marker).
inline std::pair<std::string_view, std::string_view> split_at(std::string_view text,
                                                              std::string_view marker) {
  const auto at = text.find(marker);
  if (at == std::string_view::npos) return {text, {}};
  return {text.substr(0, at), text.substr(at + marker.size())};
}

// The non-empty lines of `text` (an empty override or argument is not worth an input).
inline std::vector<std::string> lines(std::string_view text) {
  std::vector<std::string> parts = sslx::split(text, '\n');
  // erase-remove rather than C++20's std::erase: the checkpoint harness is compiled as C++17.
  parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
  return parts;
}

}  // namespace sslx::fuzz
