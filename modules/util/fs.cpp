#include "util/fs.h"

#include <unistd.h>

#include <fstream>
#include <sstream>

#include "util/crash_point.h"
#include "util/error.h"

namespace sslx::fs {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path.string() + " for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IoError("error while reading " + path.string());
  return buffer.str();
}

void write_text_atomic(const std::filesystem::path& path, std::string_view text) {
  const auto temporary = path.string() + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) throw IoError("cannot open " + temporary + " for writing");
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) throw IoError("error while writing " + temporary);
  }
  crash_point();
  std::error_code ec;
  std::filesystem::rename(temporary, path, ec);
  if (ec)
    throw IoError("cannot rename " + temporary + " to " + path.string() + ": " + ec.message());
  crash_point();
}

}  // namespace sslx::fs
