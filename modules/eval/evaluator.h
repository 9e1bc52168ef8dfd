// Evaluators (docs/evaluation.md): components that run on a checkpoint of a job and return named
// metrics. They are registered by name with a config schema, like every other component, so plugins
// can add their own; their options live under [eval.<name>] and the [eval] section says which ones
// run after training and on which checkpoint (docs/evaluation.md).
//
// This header is free of LibTorch: the launcher and the command line include it.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/node.h"
#include "data/lm_data.h"
#include "registry/registry.h"

namespace sslx::eval {

struct EvalResults {
  // "<evaluator>/<metric>", e.g. "heldout/loss", "probe/accuracy", "probe/majority_accuracy".
  std::map<std::string, double> scalars;
  // "<evaluator>/<name>", e.g. "generate/sample_0"; "<evaluator>/skipped" holds the reason an
  // evaluator did not apply to this job, "eval/checkpoint" which checkpoint was evaluated.
  std::map<std::string, std::string> texts;
};

// What every evaluator of one run shares: the job's config, the checkpoint, and the job's data,
// prepared once on first use.
class EvalContext {
 public:
  EvalContext(const config::Node& config, std::filesystem::path checkpoint,
              std::filesystem::path job_dir = {});

  const config::Node& config() const { return config_; }
  // A checkpoint directory holding model.pt.
  const std::filesystem::path& checkpoint() const { return checkpoint_; }
  // The job's directory, where evaluators save what they make (the fine-tune evaluator's
  // classifier); empty when the caller gave none, and nothing may be saved.
  const std::filesystem::path& job_dir() const { return job_dir_; }
  // The job's tokenizer and token corpora (data::prepare_lm_data of the job's config).
  const data::LmData& lm_data();
  // The text documents of the job's test split (empty for synthetic token sources).
  const std::vector<data::Document>& test_documents();

 private:
  const config::Node& config_;
  std::filesystem::path checkpoint_;
  std::filesystem::path job_dir_;
  std::optional<data::LmData> lm_data_;
  std::optional<std::vector<data::Document>> test_documents_;
};

class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // Why this evaluator does not apply to the job (an encoder cannot generate, ...), or nullopt.
  virtual std::optional<std::string> skip_reason(EvalContext& context) const {
    return std::nullopt;
  }
  // Adds "<name>/<metric>" scalars and texts to `results`.
  virtual void run(EvalContext& context, EvalResults& results) = 0;
};

// The evaluators' registry. add() also declares the evaluator's options as the table
// [eval.<name>] of the root schema, so its keys are validated like every other section's.
class EvaluatorRegistry : public registry::Registry<Evaluator> {
 public:
  EvaluatorRegistry();
  // `check`: the evaluator's rules over the whole config (config/check.h), run at --dry-run for
  // every evaluator in eval.tasks.
  void add(std::string name, std::string doc, config::Schema schema, Factory factory,
           config::Check check = {});
  // The [eval] table of the root schema: tasks, checkpoint and one table per evaluator.
  std::shared_ptr<const config::Schema> section_schema() const { return section_; }
  // Creates evaluator `name` from the validated [eval.<name>] table.
  std::unique_ptr<Evaluator> create_named(const std::string& name,
                                          const config::Node& options) const;

 private:
  std::shared_ptr<config::Schema> section_;
};
EvaluatorRegistry& evaluator_registry();

// Registers heldout, probe, finetune, generate and alignment, and the [eval] root section
// (idempotent).
void register_builtin_evaluators();

// Checks [eval] beyond its schema: every task names a registered evaluator (a ConfigError at
// eval.tasks[i] listing the known ones otherwise). Call it before training starts.
void validate_eval_config(const config::Node& config);

// Runs the check of every evaluator in eval.tasks over `config`, its options at eval.<name>.
void check_eval_config(const config::Node& config, const config::UpstreamRuns& upstream,
                       config::DiagnosticList& diagnostics);

// Runs `tasks` (empty: the config's eval.tasks) in order on `checkpoint`, a checkpoint directory
// holding model.pt, with the job's resolved `config`. An evaluator that does not apply records
// "<name>/skipped" with the reason. Sets LibTorch's threads from trainer.threads. `job_dir`: the
// job's directory, where evaluators may save what they make (EvalContext::job_dir).
EvalResults run_evaluators(const config::Node& config, const std::filesystem::path& checkpoint,
                           const std::vector<std::string>& tasks,
                           const std::filesystem::path& job_dir = {});

// The checkpoint of a job that eval.checkpoint names: `which` is "best" (the checkpoint of the
// best validation loss, <checkpoints>/best) or "last" (<checkpoints>/latest). `note` receives
// what was chosen and why, e.g. that a run without a best checkpoint falls back to the last.
std::filesystem::path find_checkpoint(const std::filesystem::path& checkpoints,
                                      const std::string& which, std::string& note);

}  // namespace sslx::eval
