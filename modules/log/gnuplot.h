// What the report's plots share: quoting for gnuplot scripts and the shell, numbers as gnuplot
// reads them, one set of plot commands rendered as PNG and SVG, and running a script.
#pragma once

#include <filesystem>
#include <string>

namespace sslx::log::gnuplot {

// `path` inside single quotes, as gnuplot reads a string ('' for a quote).
std::string quote(const std::filesystem::path& path);
// `value` with 8 significant digits ("NaN" for NaN, which gnuplot skips).
std::string number(double value);
bool available();
// The same plot commands rendered once as PNG (stem.png) and once as SVG (stem.svg).
std::string both_terminals(const std::string& size, const std::filesystem::path& stem,
                           const std::string& commands);
// Writes `script` to folder/name and runs gnuplot on it in `folder`; false when gnuplot failed
// (its messages are in folder/gnuplot.log).
bool run(const std::filesystem::path& folder, const std::string& name, const std::string& script);

}  // namespace sslx::log::gnuplot
