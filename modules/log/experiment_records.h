// What reports read from an experiment folder: one record per job (its job.toml, the run log's
// status, summaries, final evaluation and loss curves), and per group of jobs that differ only
// in their seed, the mean and standard deviation of every value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "log/run_log.h"

namespace sslx::log {

struct JobRecord {
  std::filesystem::path directory;
  std::size_t index = 0;  // position in the experiment (job.toml), for a stable order
  std::string name, variant, group;
  std::optional<std::int64_t> seed;
  std::string status;  // completed / running / failed / interrupted (running.pid checked)
  bool evaluated = false;
  std::string experiment;   // experiment.name of the job's config
  std::string description;  // experiment.description of the job's config
  std::string config_text;  // the resolved config (TOML) the job ran with
  // The log's root attributes sslx_version, host, cpu, git_commit, start_time and end_time
  // (ISO 8601 UTC; end_time "" while running); absent ones are "".
  std::map<std::string, std::string> provenance;
  // Report values: "parameters", "tokens" (input tokens trained on), "val/loss" (best),
  // and every /eval scalar by its name ("probe/accuracy", "train/seconds", ...).
  std::map<std::string, double> values;
  std::map<std::string, std::string> texts;  // /eval/texts
  double tokens_per_step = 0;                // batch_size x sequence_length x grad_accumulation
  MetricSeries train_loss, val_loss;
  // Every other metric of the validation evaluations during training, by name ("reward",
  // "kl_sequence", "gold_reward" of the policy objectives, ...).
  std::map<std::string, MetricSeries> val_metrics;
  std::int64_t last_step = 0, max_steps = 0;
};

// Every job folder (a folder with log.h5) directly under `experiment`, or `experiment` itself
// when it is a job folder; ordered by job index, then name. Throws IoError when there is none.
std::vector<JobRecord> collect_jobs(const std::filesystem::path& experiment);
JobRecord read_job(const std::filesystem::path& directory);

struct Statistic {
  double mean = 0;
  double std = 0;  // sample standard deviation (n - 1); 0 for one value
  std::size_t n = 0;
};
Statistic statistic(const std::vector<double>& values);

struct GroupSummary {
  std::string label;  // the group, prefixed by the experiment by `sslx compare`
  std::vector<const JobRecord*> jobs;
  std::map<std::string, Statistic> values;  // over the jobs that have the value
};

// The generated samples ("generate/sample*" texts, in name order) of the first job of each group
// that has any: what reports quote.
struct GroupSamples {
  const GroupSummary* group = nullptr;
  const JobRecord* job = nullptr;
  std::vector<std::string> texts;
};
std::vector<GroupSamples> first_samples(const std::vector<GroupSummary>& groups);

// Groups in order of first appearance; only completed jobs count.
std::vector<GroupSummary> summarize_groups(const std::vector<JobRecord>& jobs);

// Whether a value belongs in the comparison table (evaluator bookkeeping such as sizes and
// timings does not; jobs.csv keeps everything).
bool is_table_column(const std::string& name);

// The value names of the table, in the order a reader expects: size and budget first, then the
// trainer's validation loss, the held-out evaluation, probes, fine-tuning, anything else, time.
std::vector<std::string> column_order(const std::vector<GroupSummary>& groups);

}  // namespace sslx::log
