// Console output: concise lines on stderr/stdout, colour only when the stream is a terminal.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sslx::console {

enum class Style { kPlain, kBold, kDim, kRed, kGreen, kYellow, kCyan };

// Whether standard output / standard error is a terminal (and NO_COLOR is unset).
bool stdout_is_tty();
bool stderr_is_tty();

// `text` wrapped in the ANSI codes for `style` when `enabled`, unchanged otherwise.
std::string styled(std::string_view text, Style style, bool enabled);

void info(std::string_view message);     // stderr, plain
void warning(std::string_view message);  // stderr, "warning: " prefix
void error(std::string_view message);    // stderr, "error: " prefix

}  // namespace sslx::console

namespace sslx::console {

// Progress of a long task on standard error: a line rewritten in place on a terminal, plain
// lines every 10% otherwise (so logs of batch jobs stay short).
class Progress {
 public:
  Progress(std::string task, std::int64_t total);
  void update(std::int64_t done);
  void finish(std::string_view summary = {});

 private:
  std::string task_;
  std::int64_t total_;
  int last_reported_decile_ = -1;
  bool tty_;
};

}  // namespace sslx::console
