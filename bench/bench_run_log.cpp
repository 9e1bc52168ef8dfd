// Cost of metric logging: the HDF5 run log against a baseline that appends the same rows to a
// CSV file with the same flush cadence. Both write 10k rows per iteration; compare the
// items_per_second columns of the two benchmarks (same run, same machine).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "log/run_log.h"

namespace {

constexpr int kRows = 10000;
constexpr std::size_t kFlushEvery = 1000;

std::filesystem::path scratch(const char* name) {
  return std::filesystem::temp_directory_path() /
         (std::string("sslx-bench-") + std::to_string(getpid()) + "-" + name);
}

void BM_RunLogHdf5(benchmark::State& state) {
  const auto path = scratch("log.h5");
  for (auto _ : state) {
    std::filesystem::remove(path);
    auto writer = sslx::log::RunLogWriter::create(
        path, "", {.flush_interval_seconds = 1e9, .flush_every_rows = kFlushEvery});
    for (int step = 0; step < kRows; ++step)
      writer.log("train", "loss", step, 1.0 / (step + 1));
    writer.close(sslx::log::RunStatus::kCompleted);
  }
  // Result check: the last run wrote every row.
  if (sslx::log::RunLogReader(path).read("train", "loss").steps.size() != kRows) {
    state.SkipWithError("wrong row count");
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * kRows);
}

void BM_CsvBaseline(benchmark::State& state) {
  const auto path = scratch("log.csv");
  for (auto _ : state) {
    std::ofstream out(path, std::ios::trunc);
    out << "step,value,time\n";
    for (int step = 0; step < kRows; ++step) {
      const double now =
          std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
              .count();
      out << step << ',' << 1.0 / (step + 1) << ',' << now << '\n';
      if ((step + 1) % kFlushEvery == 0) out.flush();
    }
  }
  std::filesystem::remove(path);
  state.SetItemsProcessed(state.iterations() * kRows);
}

}  // namespace

BENCHMARK(BM_RunLogHdf5)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvBaseline)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
