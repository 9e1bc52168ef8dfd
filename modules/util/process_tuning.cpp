#include "util/process_tuning.h"

#include <malloc.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

namespace sslx {
namespace {

char** g_argv = nullptr;
bool g_keeps_freed_memory = false;

bool tuning_disabled() {
  const char* value = std::getenv("SSLX_PROCESS_TUNING");
  return value != nullptr && std::strcmp(value, "0") == 0;
}

}  // namespace

void remember_command_line(char** argv) {
  g_argv = argv;
}

void keep_freed_memory() {
  // No block is served by mmap, so a freed one goes back to the heap, and the heap is never
  // trimmed: the next step's tensors reuse the pages the last step faulted in.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
  g_keeps_freed_memory = true;
}

void tune_process_for_compute() {
  if (tuning_disabled()) return;
  if (std::getenv("OMP_WAIT_POLICY") == nullptr && g_argv != nullptr) {
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    execv("/proc/self/exe", g_argv);
    // Only reached when the exec failed (no /proc): go on without the wait policy.
  }
  keep_freed_memory();
}

std::string describe_process_tuning() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  std::string text = "OMP_WAIT_POLICY=" + std::string(policy != nullptr ? policy : "(unset)");
  text += g_keeps_freed_memory ? ", freed memory kept for reuse" : ", malloc defaults";
  return text;
}

}  // namespace sslx
