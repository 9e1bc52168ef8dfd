// Experiment plans: an experiment's [variants] (stages, job_paths) and [sweep] tables with
// command-line sweeps, expanded into jobs with their dependencies and folder names. Input: the
// TOML, then optionally "\n#--command-line\n" and one override or sweep per line.
#include "config/experiment_plan.h"
#include "config/toml_io.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = sslx::fuzz::split_at(sslx::fuzz::as_text(data, size), "\n#--command-line\n");
  const std::string_view toml = parts.first;
  const std::vector<std::string> command_line = sslx::fuzz::lines(parts.second);
  sslx::fuzz::expect_clean_errors([&] {
    const auto root = sslx::config::parse_toml(toml, "experiment.toml");
    std::vector<sslx::config::Variant> variants;
    std::vector<sslx::config::SweepAxis> axes;
    if (const auto* table = root.find("variants"))
      variants = sslx::config::variants_from_table(*table);
    if (const auto* table = root.find("sweep")) axes = sslx::config::axes_from_table(*table);
    for (const auto& job : sslx::config::plan_jobs(variants, axes, command_line, "/runs/x")) {
      (void)sslx::config::job_directory_name(job);
    }
  });
  return 0;
}
