#include "util/crash_point.h"

#include <csignal>
#include <cstdlib>

namespace sslx {
namespace {

long crash_target() {
  const char* text = std::getenv("SSLX_CRASH_AT");
  return text == nullptr ? 0 : std::strtol(text, nullptr, 10);
}

}  // namespace

void crash_point() {
  static const long target = crash_target();
  static long passed = 0;
  if (target > 0 && ++passed == target) std::raise(SIGKILL);
}

}  // namespace sslx
