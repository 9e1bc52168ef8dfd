// `a.b=v` overrides and sweep syntax, one per line: parse, parse the value as TOML, expand sweeps.
#include "config/override.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const std::string& line : sslx::fuzz::lines(sslx::fuzz::as_text(data, size))) {
    sslx::fuzz::expect_clean_errors([&] {
      const auto parsed = sslx::config::parse_override(line);
      (void)parsed.value();
      (void)sslx::config::split_top_level(parsed.value_text);
      (void)sslx::config::parse_sweep_values(parsed.value_text, parsed.origin());
    });
  }
  return 0;
}
