// Exceptions that carry what went wrong, where, and a hint; only main() turns them into exit codes.
#pragma once

#include <stdexcept>
#include <string>

namespace sslx {

// Process exit codes of the `sslx` command line (documented in docs/cli.md).
enum class ExitCode : int {
  kOk = 0,
  kRuntimeFailure = 1,  // a run, a file or a library call failed
  kUsage = 2,           // bad command line: unknown subcommand or flag
  kConfig = 3,          // the configuration is invalid (keys, types, composition, sweeps)
  kPlugin = 4,          // a plugin could not be loaded or was built for another sslx
  kPeerFailed = 5,      // a data-parallel rank stopped because another rank failed or hung
  kInterrupted = 130,   // SIGINT
};

// Base class of every sslx error. `hint` says what to do about it, if anything is known.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, std::string hint = {});
  const std::string& hint() const { return hint_; }
  virtual ExitCode exit_code() const { return ExitCode::kRuntimeFailure; }

 private:
  std::string hint_;
};

// Input files (data, logs) that cannot be read or do not have the expected shape.
class IoError : public Error {
 public:
  using Error::Error;
};

// A run stopped by SIGINT/SIGTERM after writing its checkpoint; re-running resumes it.
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted; run the same command again to resume") {}
  ExitCode exit_code() const override { return ExitCode::kInterrupted; }
};

class PluginError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::kPlugin; }
};

// A collective of a data-parallel job failed: another rank died, hung or left (the cause is in
// that rank's output; the launcher tells the ranks apart by this error's exit code).
class PeerError : public Error {
 public:
  using Error::Error;
  ExitCode exit_code() const override { return ExitCode::kPeerFailed; }
};

}  // namespace sslx
