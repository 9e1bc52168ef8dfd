#include "util/console.h"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

namespace sslx::console {
namespace {

bool colour_allowed(int fd) {
  // https://no-color.org: any value of NO_COLOR disables colour.
  return isatty(fd) == 1 && std::getenv("NO_COLOR") == nullptr;
}

const char* ansi_code(Style style) {
  switch (style) {
    case Style::kBold:
      return "\033[1m";
    case Style::kDim:
      return "\033[2m";
    case Style::kRed:
      return "\033[31m";
    case Style::kGreen:
      return "\033[32m";
    case Style::kYellow:
      return "\033[33m";
    case Style::kCyan:
      return "\033[36m";
    case Style::kPlain:
      break;
  }
  return "";
}

}  // namespace

bool stdout_is_tty() {
  return colour_allowed(STDOUT_FILENO);
}
bool stderr_is_tty() {
  return colour_allowed(STDERR_FILENO);
}

std::string styled(std::string_view text, Style style, bool enabled) {
  if (!enabled || style == Style::kPlain) return std::string(text);
  return std::string(ansi_code(style)) + std::string(text) + "\033[0m";
}

void info(std::string_view message) {
  std::cerr << message << '\n';
}

void warning(std::string_view message) {
  std::cerr << styled("warning: ", Style::kYellow, stderr_is_tty()) << message << '\n';
}

void error(std::string_view message) {
  std::cerr << styled("error: ", Style::kRed, stderr_is_tty()) << message << '\n';
}

}  // namespace sslx::console
