// The HDF5 run-log reader on corrupted files: open, then read everything `sslx log show`,
// reports and `sslx compare` read (attributes, status, every series, summaries, eval values and
// texts).
#include "fuzz/fuzz_input.h"
#include "log/run_log.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = sslx::fuzz::write_input(sslx::fuzz::as_text(data, size), ".h5");
  sslx::fuzz::expect_clean_errors([&] {
    const sslx::log::RunLogReader reader(file);
    (void)reader.format_version();
    (void)reader.attribute("objective");
    (void)reader.status();
    for (const auto& [split, name] : reader.metrics()) {
      (void)reader.read(split, name);
      (void)reader.summary(split, name);
    }
    (void)reader.eval();
    (void)reader.eval_texts();
    (void)reader.training_texts();
  });
  return 0;
}
