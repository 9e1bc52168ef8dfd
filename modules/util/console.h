// Console output: concise lines on stderr/stdout, colour only when the stream is a terminal.
#pragma once

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
