#include "log/provenance.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "util/strings.h"

namespace sslx::log {
namespace {

// The standard output of a shell command (its standard error discarded), "" when it fails.
std::string command_output(const char* command) {
  FILE* pipe = ::popen(command, "r");
  if (pipe == nullptr) return "";
  std::string out;
  char buffer[256];
  while (const std::size_t n = std::fread(buffer, 1, sizeof(buffer), pipe))
    out.append(buffer, n);
  return ::pclose(pipe) == 0 ? out : "";
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line, model;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = trim(line.substr(line.find(':') + 1));
      break;
    }
  }
  const unsigned threads = std::thread::hardware_concurrency();
  if (model.empty()) model = "unknown processor";
  return model + ", " + std::to_string(threads) + " logical CPUs";
}

std::string git_commit() {
  const std::string head = trim(command_output("git rev-parse HEAD 2>/dev/null"));
  if (head.empty()) return "";
  const std::string changes =
      command_output("git status --porcelain --untracked-files=no 2>/dev/null");
  return changes.empty() ? head : head + "+dirty";
}

}  // namespace

std::map<std::string, std::string> run_provenance() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) host[0] = '\0';
  return {{"host", host}, {"cpu", cpu_model()}, {"git_commit", git_commit()}};
}

}  // namespace sslx::log
