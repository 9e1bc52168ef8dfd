// A config file composed with the shipped config groups (its `defaults` list may name them) and
// command-line overrides: TOML parsing, composition, overrides, interpolation, [sweep] and
// [variants]. Input: the file's TOML, then optionally "\n#--overrides\n" and one override per
// line.
#include "config/resolve.h"
#include "config/toml_io.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto [toml, override_lines] =
      sslx::fuzz::split_at(sslx::fuzz::as_text(data, size), "\n#--overrides\n");
  const std::vector<std::string> overrides = sslx::fuzz::lines(override_lines);
  const auto file = sslx::fuzz::write_input(toml, ".toml");
  sslx::fuzz::expect_clean_errors([&] {
    const auto resolved = sslx::config::compose_with_overrides(
        {.file = file, .overrides = overrides, .config_dirs = {}});
    (void)sslx::config::to_toml(resolved.config);  // what `sslx config show` prints
  });
  return 0;
}
