// Helpers shared by the tests: temporary directories, files, and running the sslx binary.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace sslx::test {

// A fresh directory under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `path`, creating parent directories.
void write_file(const std::filesystem::path& path, const std::string& text);

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program with arguments (no shell), capturing stdout and stderr.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::filesystem::path& working_directory = {});
// Runs the sslx binary built with the tests.
CommandResult run_sslx(const std::vector<std::string>& arguments,
                       const std::filesystem::path& working_directory = {});

}  // namespace sslx::test
