// Filesystem helpers: whole-file reads with clear errors, and atomic writes (temporary + rename)
// so that a crash never leaves a half-written file under its final name.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace sslx::fs {

std::string read_text(const std::filesystem::path& path);
void write_text_atomic(const std::filesystem::path& path, std::string_view text);

}  // namespace sslx::fs
