#include "log/experiment_records.h"

#include <signal.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "config/toml_io.h"
#include "util/error.h"
#include "util/fs.h"

namespace sslx::log {
namespace stdfs = std::filesystem;
namespace {

bool process_alive(const stdfs::path& pid_file) {
  if (!stdfs::is_regular_file(pid_file)) return false;
  const std::string text = fs::read_text(pid_file);
  const long pid = std::strtol(text.c_str(), nullptr, 10);
  return pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

// Reads job.toml and the job's config; absent files leave the defaults (name = folder name).
void read_identity(const stdfs::path& directory, JobRecord& record) {
  record.name = directory.filename().string();
  record.group = record.name;
  if (stdfs::is_regular_file(directory / "job.toml")) {
    const config::Node job = config::load_toml_file(directory / "job.toml");
    if (const auto* n = job.find("name"); n && n->is_string()) record.name = n->as_string();
    if (const auto* v = job.find("variant"); v && v->is_string()) record.variant = v->as_string();
    if (const auto* g = job.find("group"); g && g->is_string()) record.group = g->as_string();
    if (const auto* s = job.find("seed"); s && s->kind() == config::Kind::kInt)
      record.seed = s->as_int();
    if (const auto* i = job.find("index"); i && i->kind() == config::Kind::kInt)
      record.index = static_cast<std::size_t>(i->as_int());
  }
}

void read_config(const std::string& config_text, const stdfs::path& directory, JobRecord& record) {
  if (config_text.empty()) return;
  const config::Node config = config::parse_toml(config_text, (directory / "log.h5").string());
  const auto number = [&config](const char* path) -> double {
    const config::Node* node = config.find_path(path);
    return node != nullptr && node->is_number() ? node->as_float() : 0.0;
  };
  const double accumulation = std::max(1.0, number("trainer.grad_accumulation"));
  record.tokens_per_step =
      number("trainer.batch_size") * number("trainer.sequence_length") * accumulation;
  record.max_steps = static_cast<std::int64_t>(number("trainer.max_steps"));
  if (const auto* e = config.find_path("experiment.name"); e && e->is_string())
    record.experiment = e->as_string();
  if (const auto* d = config.find_path("experiment.description"); d && d->is_string())
    record.description = d->as_string();
}

}  // namespace

JobRecord read_job(const stdfs::path& directory) {
  JobRecord record{.directory = directory};
  read_identity(directory, record);
  const RunLogReader reader(directory / "log.h5");
  record.status = to_string(reader.status());
  if (record.status == "running" && !process_alive(directory / "running.pid")) {
    record.status = "interrupted";  // killed without a chance to say so
  }
  record.evaluated = reader.attribute("eval_status") == "completed";
  record.config_text = reader.attribute("config");
  read_config(record.config_text, directory, record);
  for (const char* name : {"sslx_version", "host", "cpu", "git_commit", "start_time", "end_time"})
    record.provenance[name] = reader.attribute(name);
  for (const auto& [name, value] : reader.eval()) {
    record.values[name == "model/parameters" ? "parameters" : name] = value;
  }
  record.texts = reader.eval_texts();
  const auto metrics = reader.metrics();
  const auto has = [&metrics](const std::string& split, const std::string& name) {
    return std::find(metrics.begin(), metrics.end(), std::pair{split, name}) != metrics.end();
  };
  if (has("train", "loss")) {
    record.train_loss = reader.read("train", "loss");
    if (!record.train_loss.steps.empty()) record.last_step = record.train_loss.steps.back();
  }
  if (has("val", "loss")) {
    record.val_loss = reader.read("val", "loss");
    if (!record.val_loss.values.empty()) {
      record.values["val/loss"] =
          *std::min_element(record.val_loss.values.begin(), record.val_loss.values.end());
    }
  }
  for (const auto& [split, name] : metrics) {
    if (split == "val" && name != "loss") record.val_metrics[name] = reader.read(split, name);
  }
  if (record.tokens_per_step > 0 && record.last_step > 0) {
    record.values["tokens"] = static_cast<double>(record.last_step) * record.tokens_per_step;
  }
  return record;
}

std::vector<JobRecord> collect_jobs(const stdfs::path& experiment) {
  std::vector<JobRecord> jobs;
  if (stdfs::is_regular_file(experiment / "log.h5")) {
    jobs.push_back(read_job(experiment));
    return jobs;
  }
  if (!stdfs::is_directory(experiment)) {
    throw IoError(experiment.string() + " is not a folder", "give an experiment's output folder");
  }
  for (const auto& entry : stdfs::directory_iterator(experiment)) {
    if (entry.is_directory() && stdfs::is_regular_file(entry.path() / "log.h5")) {
      jobs.push_back(read_job(entry.path()));
    }
  }
  if (jobs.empty()) {
    throw IoError(experiment.string() + " holds no job folders (folders with a log.h5)",
                  "give the folder `sslx run` wrote, e.g. runs/<experiment>");
  }
  std::sort(jobs.begin(), jobs.end(), [](const JobRecord& a, const JobRecord& b) {
    return a.index != b.index ? a.index < b.index : a.name < b.name;
  });
  return jobs;
}

Statistic statistic(const std::vector<double>& values) {
  Statistic result{.n = values.size()};
  if (values.empty()) return result;
  double sum = 0;
  for (const double v : values)
    sum += v;
  result.mean = sum / static_cast<double>(values.size());
  if (values.size() > 1) {
    double squares = 0;
    for (const double v : values)
      squares += (v - result.mean) * (v - result.mean);
    result.std = std::sqrt(squares / static_cast<double>(values.size() - 1));
  }
  return result;
}

std::vector<GroupSummary> summarize_groups(const std::vector<JobRecord>& jobs) {
  std::vector<GroupSummary> groups;
  for (const auto& job : jobs) {
    if (job.status != "completed") continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&job](const GroupSummary& g) { return g.label == job.group; });
    if (it == groups.end()) {
      groups.push_back({.label = job.group, .jobs = {}, .values = {}});
      it = std::prev(groups.end());
    }
    it->jobs.push_back(&job);
  }
  for (auto& group : groups) {
    std::map<std::string, std::vector<double>> samples;
    for (const JobRecord* job : group.jobs) {
      for (const auto& [name, value] : job->values)
        samples[name].push_back(value);
    }
    for (const auto& [name, values] : samples)
      group.values[name] = statistic(values);
  }
  return groups;
}

bool is_table_column(const std::string& name) {
  // Bookkeeping of the evaluators (sizes, timings, sample counts) stays in jobs.csv and the logs.
  const auto ends_with = [&name](const std::string& suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (name == "train/seconds") return true;
  // The probe and the fine-tune share one majority baseline; training-set fits are diagnostics;
  // best-of-n baselines have their own plot and table (report_alignment.h).
  return !(ends_with("/seconds") || ends_with("_examples") || ends_with("/targets") ||
           ends_with("/batches") || ends_with("/train_accuracy") || ends_with("/train_loss") ||
           name == "finetune/majority_accuracy" || name.rfind("generate/", 0) == 0 ||
           name.rfind("alignment/best_of_", 0) == 0 || name == "alignment/prompts");
}

std::vector<std::string> column_order(const std::vector<GroupSummary>& groups) {
  std::set<std::string> names;
  for (const auto& group : groups) {
    for (const auto& [name, value] : group.values) {
      if (is_table_column(name)) names.insert(name);
    }
  }
  // Rank by prefix; within a rank, alphabetical (std::set order).
  const auto rank = [](const std::string& name) {
    static const std::vector<std::string> leading{"parameters", "tokens", "val/loss"};
    const auto lead = std::find(leading.begin(), leading.end(), name);
    if (lead != leading.end()) return static_cast<int>(lead - leading.begin());
    static const std::vector<std::string> prefixes{"heldout/", "probe/", "finetune/"};
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      if (name.rfind(prefixes[i], 0) == 0) return 10 + static_cast<int>(i);
    }
    return name == "train/seconds" ? 100 : 50;
  };
  std::vector<std::string> order(names.begin(), names.end());
  std::stable_sort(order.begin(), order.end(), [&rank](const std::string& a, const std::string& b) {
    return rank(a) < rank(b);
  });
  return order;
}

std::vector<GroupSamples> first_samples(const std::vector<GroupSummary>& groups) {
  std::vector<GroupSamples> found;
  for (const auto& group : groups) {
    for (const JobRecord* job : group.jobs) {
      GroupSamples samples{.group = &group, .job = job};
      for (const auto& [name, text] : job->texts) {
        if (name.rfind("generate/sample", 0) == 0) samples.texts.push_back(text);
      }
      if (samples.texts.empty()) continue;
      found.push_back(std::move(samples));
      break;
    }
  }
  return found;
}

}  // namespace sslx::log
