#include "tests/experiments/recorded_jobs.h"

#include "log/run_log.h"
#include "tests/support.h"

namespace sslx::test {

const char* const kToyJobConfig = R"([experiment]
name = "toy"
description = "two variants"
[trainer]
batch_size = 4
sequence_length = 8
grad_accumulation = 2
max_steps = 20
)";

void record_job(const std::filesystem::path& experiment, std::size_t index,
                const std::string& variant, int seed, const std::vector<double>& val_losses,
                const std::map<std::string, double>& eval, bool completed,
                const std::string& config_text) {
  const std::string name = variant + ",seed=" + std::to_string(seed);
  const std::filesystem::path dir = experiment / name;
  write_file(dir / "job.toml", "index = " + std::to_string(index) + "\nname = \"" + name +
                                   "\"\nvariant = \"" + variant + "\"\ngroup = \"" + variant +
                                   "\"\nseed = " + std::to_string(seed) + "\n");
  {
    auto log = log::RunLogWriter::create(dir / "log.h5", config_text);
    for (std::size_t i = 0; i < val_losses.size(); ++i) {
      const auto step = static_cast<std::int64_t>(10 * (i + 1));
      log.log("train", "loss", step, val_losses[i] + 0.5);
      log.log("val", "loss", step, val_losses[i]);
    }
    log.close(completed ? log::RunStatus::kCompleted : log::RunStatus::kFailed);
  }
  if (completed) log::write_evaluation(dir / "log.h5", eval, {{"generate/sample_0", "hello"}});
}

}  // namespace sslx::test
