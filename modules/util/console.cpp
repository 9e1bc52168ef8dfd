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

namespace sslx::console {

Progress::Progress(std::string task, std::int64_t total)
    : task_(std::move(task)), total_(total), tty_(stderr_is_tty()) {}

void Progress::update(std::int64_t done) {
  const int percent = total_ > 0 ? static_cast<int>(100 * done / total_) : 100;
  if (tty_) {
    std::cerr << '\r' << task_ << ": " << done << '/' << total_ << " (" << percent << "%)"
              << std::flush;
    return;
  }
  const int decile = percent / 10;
  if (decile != last_reported_decile_) {
    last_reported_decile_ = decile;
    std::cerr << task_ << ": " << done << '/' << total_ << " (" << percent << "%)\n";
  }
}

void Progress::finish(std::string_view summary) {
  if (tty_) std::cerr << '\r' << std::string(task_.size() + 40, ' ') << '\r';
  std::cerr << task_ << ": done" << (summary.empty() ? "" : ", ") << summary << '\n';
}

}  // namespace sslx::console
