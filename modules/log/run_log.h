// The HDF5 run log of one job (contract: docs/hdf5-schema.md).
//
//   / attrs: format_version, sslx_version, config (resolved TOML), status, start_time, end_time,
//            host, cpu, git_commit (log/provenance.h)
//   /metrics/<split>/<name>/{step int64, value float64, time float64}   1-D, extendable, chunked
//   /summary/<split>/<name> attrs: count, last, last_step, min, min_step, max, max_step
//   /eval attrs: final evaluation results, name -> float64
//   /eval/texts attrs: textual results (generated samples, reasons an evaluator was skipped)
//   /eval/texts/step_<NNNNNNNN> attrs: texts of the evaluation during training at that step
//                                      (sampled responses of a policy), name -> text
//   / attr eval_status: "completed" once every evaluator of the job has run
//
// Rows are buffered in memory and written at each flush, so the file on disk is always a
// consistent snapshot as of the last flush: a writer killed with SIGKILL loses only the rows
// logged since then.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "log/h5.h"

namespace sslx::log {

inline constexpr std::int64_t kFormatVersion = 1;

enum class RunStatus { kRunning, kCompleted, kFailed, kInterrupted };
std::string to_string(RunStatus status);

struct RunLogOptions {
  double flush_interval_seconds = 5.0;  // flush when this much time passed since the last one
  std::size_t flush_every_rows = 1000;  // ... or when this many rows are buffered
  hsize_t chunk_rows = 1024;
};

class RunLogWriter {
 public:
  // Creates a new log; fails if the file exists.
  static RunLogWriter create(const std::filesystem::path& path, const std::string& config_text,
                             RunLogOptions options = {});
  // Opens an existing log to continue a resumed run; status goes back to "running".
  static RunLogWriter reopen(const std::filesystem::path& path, RunLogOptions options = {});

  RunLogWriter(RunLogWriter&&) noexcept;
  RunLogWriter& operator=(RunLogWriter&&) noexcept;
  // Flushes; a log that was not closed is marked "interrupted".
  ~RunLogWriter();

  // Buffers one row of /metrics/<split>/<name>; flushes when the cadence says so.
  void log(const std::string& split, const std::string& name, std::int64_t step, double value);
  // Writes every buffered row and flushes the file to disk.
  void flush();
  // Drops rows with step > `step` (buffered and on disk): the log then matches a checkpoint.
  void truncate_after(std::int64_t step);
  // A final evaluation result, stored as an attribute of /eval.
  void set_eval(const std::string& name, double value);
  // Texts of the evaluation at `step` during training (/eval/texts/step_<NNNNNNNN>), written now.
  void log_texts(std::int64_t step, const std::map<std::string, std::string>& texts);
  void set_status(RunStatus status);
  // Writes summaries, end time and the final status, and closes the file.
  void close(RunStatus status);

  const std::filesystem::path& path() const { return path_; }

 private:
  struct Buffer {
    std::vector<std::int64_t> steps;
    std::vector<double> values;
    std::vector<double> times;
  };

  RunLogWriter(std::filesystem::path path, h5::Handle file, RunLogOptions options);
  void write_summaries();
  h5::Handle series_group(const std::string& split, const std::string& name);

  std::filesystem::path path_;
  h5::Handle file_;
  RunLogOptions options_;
  std::map<std::pair<std::string, std::string>, Buffer> buffers_;
  std::size_t buffered_rows_ = 0;
  std::chrono::steady_clock::time_point last_flush_;
  bool closed_ = false;
};

// Stores the final evaluation of a finished (closed) run: scalars as attributes of /eval, texts
// as attributes of /eval/texts, then the root attribute eval_status = "completed".
void write_evaluation(const std::filesystem::path& path,
                      const std::map<std::string, double>& scalars,
                      const std::map<std::string, std::string>& texts);

struct MetricSeries {
  std::vector<std::int64_t> steps;
  std::vector<double> values;
  std::vector<double> times;  // seconds since the Unix epoch
};

struct MetricSummary {
  std::int64_t count = 0;
  double last = 0, min = 0, max = 0;
  std::int64_t last_step = 0, min_step = 0, max_step = 0;
};

class RunLogReader {
 public:
  // Opens read-only without locking: a running job's log can be read up to its last flush.
  explicit RunLogReader(const std::filesystem::path& path);

  std::int64_t format_version() const;
  std::string attribute(const std::string& name) const;  // root string attribute or ""
  RunStatus status() const;
  // (split, name) of every metric, sorted.
  std::vector<std::pair<std::string, std::string>> metrics() const;
  MetricSeries read(const std::string& split, const std::string& name) const;
  std::map<std::string, double> eval() const;
  std::map<std::string, std::string> eval_texts() const;
  // Texts logged by evaluations during training, by step.
  std::map<std::int64_t, std::map<std::string, std::string>> training_texts() const;
  // From /summary when the run closed, else computed from the series.
  MetricSummary summary(const std::string& split, const std::string& name) const;

 private:
  std::filesystem::path path_;
  h5::Handle file_;
};

MetricSummary summarize(const MetricSeries& series);

}  // namespace sslx::log
