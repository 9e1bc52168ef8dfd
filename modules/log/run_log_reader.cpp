#include "log/run_log.h"

#include <algorithm>

#include "log/layout.h"
#include "util/error.h"
#include "util/strings.h"

namespace sslx::log {
namespace fs = std::filesystem;

RunLogReader::RunLogReader(const fs::path& path)
    : path_(path), file_(h5::open_file(path.string(), /*read_only=*/true)) {
  const std::int64_t version = format_version();
  if (version > kFormatVersion) {
    throw IoError(path.string() + " has log format version " + std::to_string(version) +
                      ", newer than this sslx reads (" + std::to_string(kFormatVersion) + ")",
                  "use a newer sslx");
  }
  if (version < 1) throw IoError(path.string() + " is not an sslx run log (no format_version)");
}

std::int64_t RunLogReader::format_version() const {
  return h5::read_integer_attribute(file_.get(), "format_version").value_or(0);
}

std::string RunLogReader::attribute(const std::string& name) const {
  return h5::read_string_attribute(file_.get(), name).value_or("");
}

RunStatus RunLogReader::status() const {
  const std::string text = attribute("status");
  for (RunStatus status :
       {RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kInterrupted}) {
    if (to_string(status) == text) return status;
  }
  throw IoError(path_.string() + ": unknown status " + in_quotes(text));
}

std::vector<std::pair<std::string, std::string>> RunLogReader::metrics() const {
  return list_metrics(file_.get());
}

MetricSeries RunLogReader::read(const std::string& split, const std::string& name) const {
  const std::string path = metric_path(split, name);
  if (!h5::exists(file_.get(), path)) {
    throw IoError(path_.string() + " has no metric " + split + "/" + name);
  }
  const h5::Handle group = h5::open_group(file_.get(), path);
  MetricSeries series{.steps = h5::read_int64(h5::open_dataset(group.get(), "step").get()),
                      .values = h5::read_float64(h5::open_dataset(group.get(), "value").get()),
                      .times = h5::read_float64(h5::open_dataset(group.get(), "time").get())};
  // A writer killed between extending the three columns leaves them of unequal length; the
  // rows present in all three are the consistent ones.
  const std::size_t rows =
      std::min({series.steps.size(), series.values.size(), series.times.size()});
  series.steps.resize(rows);
  series.values.resize(rows);
  series.times.resize(rows);
  return series;
}

std::map<std::string, double> RunLogReader::eval() const {
  std::map<std::string, double> result;
  if (!h5::exists(file_.get(), "eval")) return result;
  const h5::Handle group = h5::open_group(file_.get(), "eval");
  for (const auto& name : h5::attribute_names(group.get())) {
    if (auto value = h5::read_number_attribute(group.get(), name)) result[name] = *value;
  }
  return result;
}

std::map<std::string, std::string> RunLogReader::eval_texts() const {
  std::map<std::string, std::string> result;
  if (!h5::exists(file_.get(), "eval/texts")) return result;
  const h5::Handle group = h5::open_group(file_.get(), "eval/texts");
  for (const auto& name : h5::attribute_names(group.get())) {
    if (auto text = h5::read_string_attribute(group.get(), name)) result[name] = *text;
  }
  return result;
}

std::map<std::int64_t, std::map<std::string, std::string>> RunLogReader::training_texts() const {
  std::map<std::int64_t, std::map<std::string, std::string>> result;
  if (!h5::exists(file_.get(), "eval/texts")) return result;
  const h5::Handle texts = h5::open_group(file_.get(), "eval/texts");
  for (const auto& member : h5::member_names(texts.get())) {
    const auto step = training_texts_step(member);
    if (!step) continue;
    const h5::Handle group = h5::open_group(texts.get(), member);
    for (const auto& name : h5::attribute_names(group.get())) {
      if (auto text = h5::read_string_attribute(group.get(), name)) result[*step][name] = *text;
    }
  }
  return result;
}

MetricSummary RunLogReader::summary(const std::string& split, const std::string& name) const {
  const std::string path = "summary/" + split + "/" + name;
  if (!h5::exists(file_.get(), path)) return summarize(read(split, name));
  const h5::Handle group = h5::open_group(file_.get(), path);
  const auto number = [&group](const char* key) {
    return h5::read_number_attribute(group.get(), key).value_or(0.0);
  };
  const auto integer = [&group](const char* key) {
    return h5::read_integer_attribute(group.get(), key).value_or(0);
  };
  return MetricSummary{.count = integer("count"),
                       .last = number("last"),
                       .min = number("min"),
                       .max = number("max"),
                       .last_step = integer("last_step"),
                       .min_step = integer("min_step"),
                       .max_step = integer("max_step")};
}

}  // namespace sslx::log
