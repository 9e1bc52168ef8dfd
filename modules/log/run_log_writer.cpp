#include "log/run_log.h"

#include <algorithm>
#include <ctime>

#include "log/layout.h"
#include "log/provenance.h"
#include "util/crash_point.h"
#include "util/error.h"
#include "util/strings.h"
#include "util/version.h"

namespace sslx::log {
namespace fs = std::filesystem;
namespace {

double unix_seconds() {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

std::string iso_utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer;
}

void check_link_name(const std::string& name, const char* what) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    throw Error("invalid metric " + std::string(what) + " " + in_quotes(name),
                "use a non-empty name without '/'");
  }
}

}  // namespace

std::string to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kCompleted:
      return "completed";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

RunLogWriter::RunLogWriter(fs::path path, h5::Handle file, RunLogOptions options)
    : path_(std::move(path)),
      file_(std::move(file)),
      options_(options),
      last_flush_(std::chrono::steady_clock::now()) {}

RunLogWriter::RunLogWriter(RunLogWriter&&) noexcept = default;
RunLogWriter& RunLogWriter::operator=(RunLogWriter&&) noexcept = default;

RunLogWriter RunLogWriter::create(const fs::path& path, const std::string& config_text,
                                  RunLogOptions options) {
  h5::Handle file = h5::create_file(path.string());
  h5::write_attribute(file.get(), "format_version", kFormatVersion);
  h5::write_attribute(file.get(), "sslx_version", std::string(SSLX_VERSION_STRING));
  h5::write_attribute(file.get(), "config", config_text);
  h5::write_attribute(file.get(), "status", to_string(RunStatus::kRunning));
  h5::write_attribute(file.get(), "start_time", iso_utc_now());
  h5::write_attribute(file.get(), "end_time", std::string());
  for (const auto& [name, value] : run_provenance())
    h5::write_attribute(file.get(), name, value);
  h5::require_group(file.get(), "metrics");
  h5::flush(file.get());
  return RunLogWriter(path, std::move(file), options);
}

RunLogWriter RunLogWriter::reopen(const fs::path& path, RunLogOptions options) {
  h5::Handle file = h5::open_file(path.string(), /*read_only=*/false);
  const auto version = h5::read_integer_attribute(file.get(), "format_version");
  if (!version || *version != kFormatVersion) {
    throw IoError(path.string() + " has log format version " +
                      (version ? std::to_string(*version) : "none") +
                      "; this sslx writes version " + std::to_string(kFormatVersion),
                  "start the run afresh in a new directory");
  }
  // Every series must read back: a file that a crash or a full disk damaged fails here, before
  // anything is appended to it.
  for (const auto& [split, name] : list_metrics(file.get())) {
    const h5::Handle group = h5::open_group(file.get(), metric_path(split, name));
    for (const char* column : {"step", "value", "time"})
      h5::length(h5::open_dataset(group.get(), column).get());
  }
  h5::write_attribute(file.get(), "status", to_string(RunStatus::kRunning));
  h5::write_attribute(file.get(), "end_time", std::string());
  h5::flush(file.get());
  return RunLogWriter(path, std::move(file), options);
}

RunLogWriter::~RunLogWriter() {
  if (!file_.valid() || closed_) return;
  try {
    flush();
    set_status(RunStatus::kInterrupted);
  } catch (...) {
    // A destructor must not throw; the rows up to the previous flush are on disk.
  }
}

void RunLogWriter::log(const std::string& split, const std::string& name, std::int64_t step,
                       double value) {
  auto key = std::make_pair(split, name);
  auto it = buffers_.find(key);
  if (it == buffers_.end()) {
    check_link_name(split, "split");
    check_link_name(name, "name");
    it = buffers_.emplace(std::move(key), Buffer{}).first;
  }
  it->second.steps.push_back(step);
  it->second.values.push_back(value);
  it->second.times.push_back(unix_seconds());
  ++buffered_rows_;
  const double since_flush =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - last_flush_).count();
  if (buffered_rows_ >= options_.flush_every_rows ||
      since_flush >= options_.flush_interval_seconds) {
    flush();
  }
}

h5::Handle RunLogWriter::series_group(const std::string& split, const std::string& name) {
  // Opening is cheap compared with the flush cadence, so handles are not cached.
  const std::string path = metric_path(split, name);
  const bool is_new = !h5::exists(file_.get(), path);
  h5::Handle group = h5::require_group(file_.get(), path);
  if (is_new) {
    h5::create_series(group.get(), "step", H5T_STD_I64LE, options_.chunk_rows);
    h5::create_series(group.get(), "value", H5T_IEEE_F64LE, options_.chunk_rows);
    h5::create_series(group.get(), "time", H5T_IEEE_F64LE, options_.chunk_rows);
  }
  return group;
}

void RunLogWriter::flush() {
  for (auto& [key, buffer] : buffers_) {
    if (buffer.steps.empty()) continue;
    const h5::Handle group = series_group(key.first, key.second);
    const hsize_t rows = buffer.steps.size();
    h5::append(h5::open_dataset(group.get(), "step").get(), H5T_NATIVE_INT64, buffer.steps.data(),
               rows);
    crash_point();
    h5::append(h5::open_dataset(group.get(), "value").get(), H5T_NATIVE_DOUBLE,
               buffer.values.data(), rows);
    h5::append(h5::open_dataset(group.get(), "time").get(), H5T_NATIVE_DOUBLE, buffer.times.data(),
               rows);
    buffer = Buffer{};
  }
  buffered_rows_ = 0;
  h5::flush(file_.get());
  crash_point();
  last_flush_ = std::chrono::steady_clock::now();
}

void RunLogWriter::truncate_after(std::int64_t step) {
  flush();
  for (const auto& [split, name] : list_metrics(file_.get())) {
    const h5::Handle group = h5::open_group(file_.get(), metric_path(split, name));
    const auto steps = h5::read_int64(h5::open_dataset(group.get(), "step").get());
    // Steps are logged in increasing order: keep the prefix with step <= `step`, and no row that
    // a crash inside a flush left without its value or time.
    hsize_t keep = 0;
    while (keep < steps.size() && steps[keep] <= step)
      ++keep;
    hsize_t complete = steps.size();
    for (const char* column : {"value", "time"})
      complete = std::min(complete, h5::length(h5::open_dataset(group.get(), column).get()));
    keep = std::min(keep, complete);
    if (keep == steps.size() && keep == complete) continue;
    for (const char* column : {"step", "value", "time"}) {
      h5::resize(h5::open_dataset(group.get(), column).get(), keep);
    }
  }
  if (h5::exists(file_.get(), "eval/texts")) {
    const h5::Handle texts = h5::open_group(file_.get(), "eval/texts");
    for (const auto& name : h5::member_names(texts.get())) {
      if (const auto logged = training_texts_step(name); logged && *logged > step)
        h5::remove(texts.get(), name);
    }
  }
  h5::flush(file_.get());
}

void RunLogWriter::log_texts(std::int64_t step, const std::map<std::string, std::string>& texts) {
  if (texts.empty()) return;
  const h5::Handle group = h5::require_group(file_.get(), training_texts_path(step));
  for (const auto& [name, text] : texts)
    h5::write_attribute(group.get(), name, text);
}

void RunLogWriter::set_eval(const std::string& name, double value) {
  const h5::Handle group = h5::require_group(file_.get(), "eval");
  h5::write_attribute(group.get(), name, value);
}

void RunLogWriter::set_status(RunStatus status) {
  h5::write_attribute(file_.get(), "status", to_string(status));
  h5::flush(file_.get());
}

void RunLogWriter::write_summaries() {
  for (const auto& [split, name] : list_metrics(file_.get())) {
    const h5::Handle group = h5::open_group(file_.get(), metric_path(split, name));
    MetricSeries series{.steps = h5::read_int64(h5::open_dataset(group.get(), "step").get()),
                        .values = h5::read_float64(h5::open_dataset(group.get(), "value").get())};
    if (series.steps.empty()) continue;
    const MetricSummary summary = summarize(series);
    const h5::Handle target = h5::require_group(file_.get(), "summary/" + split + "/" + name);
    h5::write_attribute(target.get(), "count", summary.count);
    h5::write_attribute(target.get(), "last", summary.last);
    h5::write_attribute(target.get(), "last_step", summary.last_step);
    h5::write_attribute(target.get(), "min", summary.min);
    h5::write_attribute(target.get(), "min_step", summary.min_step);
    h5::write_attribute(target.get(), "max", summary.max);
    h5::write_attribute(target.get(), "max_step", summary.max_step);
  }
}

void RunLogWriter::close(RunStatus status) {
  flush();
  write_summaries();
  h5::write_attribute(file_.get(), "end_time", iso_utc_now());
  set_status(status);
  closed_ = true;
  file_.reset();
}

MetricSummary summarize(const MetricSeries& series) {
  MetricSummary summary;
  summary.count = static_cast<std::int64_t>(series.values.size());
  if (series.values.empty()) return summary;
  summary.last = series.values.back();
  summary.last_step = series.steps.back();
  summary.min = summary.max = series.values.front();
  summary.min_step = summary.max_step = series.steps.front();
  for (std::size_t i = 1; i < series.values.size(); ++i) {
    if (series.values[i] < summary.min) {
      summary.min = series.values[i];
      summary.min_step = series.steps[i];
    }
    if (series.values[i] > summary.max) {
      summary.max = series.values[i];
      summary.max_step = series.steps[i];
    }
  }
  return summary;
}

void write_evaluation(const std::filesystem::path& path,
                      const std::map<std::string, double>& scalars,
                      const std::map<std::string, std::string>& texts) {
  h5::quiet_errors();
  const h5::Handle file = h5::open_file(path.string(), false);
  const h5::Handle group = h5::require_group(file.get(), "eval");
  for (const auto& [name, value] : scalars)
    h5::write_attribute(group.get(), name, value);
  const h5::Handle text_group = h5::require_group(file.get(), "eval/texts");
  for (const auto& [name, text] : texts)
    h5::write_attribute(text_group.get(), name, text);
  h5::write_attribute(file.get(), "eval_status", std::string("completed"));
  h5::flush(file.get());
}

}  // namespace sslx::log
