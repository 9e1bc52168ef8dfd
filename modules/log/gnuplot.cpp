#include "log/gnuplot.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "util/fs.h"

namespace sslx::log::gnuplot {
namespace stdfs = std::filesystem;
namespace {

std::string shell_quoted(const stdfs::path& path) {
  std::string text = "'";
  for (const char c : path.string()) {
    if (c == '\'')
      text += "'\\''";
    else
      text += c;
  }
  return text + "'";
}

}  // namespace

std::string quote(const stdfs::path& path) {
  std::string text = "'";
  for (const char c : path.string()) {
    if (c == '\'')
      text += "''";  // gnuplot's escape inside single quotes
    else
      text += c;
  }
  return text + "'";
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "%.8g", value);
  return buffer;
}

bool available() {
  return std::system("command -v gnuplot >/dev/null 2>&1") == 0;
}

std::string both_terminals(const std::string& size, const stdfs::path& stem,
                           const std::string& commands) {
  return "set terminal pngcairo size " + size + " noenhanced font ',10'\nset output " +
         quote(stem.string() + ".png") + "\n" + commands + "\nset terminal svg size " + size +
         " dynamic noenhanced font ',10'\nset output " + quote(stem.string() + ".svg") + "\n" +
         commands + "\nunset output\n";
}

bool run(const stdfs::path& folder, const std::string& name, const std::string& script) {
  fs::write_text_atomic(folder / name, script);
  const std::string command = "cd " + shell_quoted(folder) + " && gnuplot " + shell_quoted(name) +
                              " 2>>" + shell_quoted(folder / "gnuplot.log");
  return std::system(command.c_str()) == 0;
}

}  // namespace sslx::log::gnuplot
