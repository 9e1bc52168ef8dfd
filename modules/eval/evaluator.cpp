#include "eval/evaluator.h"

#include <chrono>
#include <cstdio>

#include "config/config_error.h"
#include "data/data_registry.h"
#include "eval/builtin_evaluators.h"
#include "registry/registry_index.h"
#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/strings.h"

namespace sslx::eval {
namespace stdfs = std::filesystem;
namespace {

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", seconds);
  return text;
}

}  // namespace

EvalContext::EvalContext(const config::Node& config, stdfs::path checkpoint, stdfs::path job_dir)
    : config_(config), checkpoint_(std::move(checkpoint)), job_dir_(std::move(job_dir)) {}

const data::LmData& EvalContext::lm_data() {
  if (!lm_data_) lm_data_.emplace(data::prepare_lm_data(config_));
  return *lm_data_;
}

const std::vector<data::Document>& EvalContext::test_documents() {
  if (test_documents_) return *test_documents_;
  test_documents_.emplace();
  const config::Node& data = config_.at_path("data");
  const auto source = data::corpus_registry().create(data);
  if (dynamic_cast<const data::TokenSource*>(source.get()) != nullptr) return *test_documents_;
  const data::SplitFractions fractions{.validation = data.get_float("val_fraction"),
                                       .test = data.get_float("test_fraction")};
  data::SkipReport skips;
  for (auto& document : source->read(skips)) {
    if (data::split_of(document.text, fractions) == data::Split::kTest)
      test_documents_->push_back(std::move(document));
  }
  return *test_documents_;
}

EvaluatorRegistry::EvaluatorRegistry()
    : Registry("evaluator", "evaluations of a checkpoint, run after training or by `sslx eval`", "",
               std::nullopt),
      section_(std::make_shared<config::Schema>(
          "evaluation after training and by `sslx eval` (docs/evaluation.md)")) {
  section_->add({.key = "tasks",
                 .type = config::Type::kArray,
                 .default_value = config::Node(config::Array{}),
                 .doc = "evaluators to run after training, in this order (empty: none)",
                 .element_type = config::Type::kString});
  section_->add({.key = "checkpoint",
                 .type = config::Type::kString,
                 .default_value = "best",
                 .doc = "which checkpoint of the job they evaluate: the best validation loss or "
                        "the last (best falls back to last, saying so, when none was kept)",
                 .choices = {"best", "last"}});
}

void EvaluatorRegistry::add(std::string name, std::string doc, config::Schema schema,
                            Factory factory, config::Check check) {
  if (section_->find(name) != nullptr) {
    throw Error("evaluator " + in_quotes(name) + " would clash with the key eval." + name,
                "give the evaluator another name");
  }
  const std::string field_doc = "options of the evaluator `" + name + "`: " + doc;
  auto nested = std::make_shared<config::Schema>("options of the evaluator `" + name + "`");
  for (const auto& field : schema.fields())
    nested->add(field);
  Registry::add(name, std::move(doc), std::move(schema), std::move(factory), std::move(check));
  section_->add({.key = name,
                 .type = config::Type::kTable,
                 .default_value = config::Node(config::Table{}),
                 .doc = field_doc,
                 .nested = std::move(nested)});
}

std::unique_ptr<Evaluator> EvaluatorRegistry::create_named(const std::string& name,
                                                           const config::Node& options) const {
  config::Node selected = options;
  selected.set(selector_key(), config::Node(name));
  return create(selected);
}

EvaluatorRegistry& evaluator_registry() {
  static EvaluatorRegistry registry;
  return registry;
}

void register_builtin_evaluators() {
  auto& registry = evaluator_registry();
  registry::RegistryIndex::instance().add_root_field(
      {.key = "eval",
       .type = config::Type::kTable,
       .default_value = config::Node(config::Table{}),
       .doc = "evaluation of checkpoints: which evaluators, which checkpoint, their options",
       .nested = registry.section_schema()});
  if (registry.contains("heldout")) return;
  register_heldout();
  register_probe();
  register_finetune();
  register_generate();
  register_alignment();
}

namespace {

std::vector<std::string> configured_tasks(const config::Node& config) {
  std::vector<std::string> tasks;
  if (const auto* list = config.find_path("eval.tasks")) {
    for (const auto& task : list->as_array())
      tasks.push_back(task.as_string());
  }
  return tasks;
}

void require_registered(const std::vector<std::string>& tasks, const std::string& key,
                        const config::Node* origin_of) {
  config::DiagnosticList problems;
  const auto known = evaluator_registry().names();
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (evaluator_registry().contains(tasks[i])) continue;
    std::string message =
        "unknown evaluator " + in_quotes(tasks[i]) + "; registered: " + join(known, ", ");
    const std::string hint = did_you_mean(tasks[i], known);
    if (!hint.empty()) message += "; " + hint;
    config::Origin origin{"command line"};
    if (origin_of != nullptr && origin_of->is_array() && i < origin_of->as_array().size())
      origin = origin_of->as_array()[i].origin();
    problems.add(key + "[" + std::to_string(i) + "]", origin, message);
  }
  problems.throw_if_any();
}

// The validated [eval.<name>] table, or the schema's defaults for a config without one.
config::Node options_of(const config::Node& config, const std::string& name) {
  if (const auto* options = config.find_path("eval." + name)) return *options;
  config::Node options{config::Table{}};
  config::DiagnosticList problems;
  config::validate(options, *evaluator_registry().schema_of(name), "eval." + name, problems);
  problems.throw_if_any();
  return options;
}

}  // namespace

void validate_eval_config(const config::Node& config) {
  require_registered(configured_tasks(config), "eval.tasks", config.find_path("eval.tasks"));
}

void check_eval_config(const config::Node& config, const config::UpstreamRuns& upstream,
                       config::DiagnosticList& diagnostics) {
  for (const auto& name : configured_tasks(config)) {
    const config::Node* options = config.find_path("eval." + name);
    if (options == nullptr || !evaluator_registry().contains(name)) continue;
    evaluator_registry().check(
        name, config::CheckContext(config, *options, "eval." + name, upstream, diagnostics));
  }
}

EvalResults run_evaluators(const config::Node& config, const stdfs::path& checkpoint,
                           const std::vector<std::string>& tasks, const stdfs::path& job_dir) {
  const std::vector<std::string> names = tasks.empty() ? configured_tasks(config) : tasks;
  require_registered(names, tasks.empty() ? "eval.tasks" : "--task",
                     tasks.empty() ? config.find_path("eval.tasks") : nullptr);
  if (!stdfs::is_regular_file(checkpoint / "model.pt")) {
    throw IoError(
        "no model.pt in " + checkpoint.string(),
        "give a checkpoint directory (<job>/checkpoints/step-NNNNNNNN) or a job directory");
  }
  set_threads(config.get_int("trainer.threads"));
  console::info("evaluating " + checkpoint.string() + ": " + join(names, ", "));
  EvalContext context(config, checkpoint, job_dir);
  EvalResults results;
  for (const auto& name : names) {
    auto evaluator = evaluator_registry().create_named(name, options_of(config, name));
    if (const auto reason = evaluator->skip_reason(context)) {
      results.texts[name + "/skipped"] = *reason;
      console::info("eval " + name + ": skipped: " + *reason);
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    evaluator->run(context, results);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    results.scalars[name + "/seconds"] = seconds;
    console::info("eval " + name + ": done in " + seconds_text(seconds));
  }
  return results;
}

stdfs::path find_checkpoint(const stdfs::path& checkpoints, const std::string& which,
                            std::string& note) {
  const auto pointed = [&checkpoints](const std::string& pointer) -> std::optional<stdfs::path> {
    const stdfs::path file = checkpoints / pointer;
    if (!stdfs::is_regular_file(file)) return std::nullopt;
    const stdfs::path checkpoint = checkpoints / trim(fs::read_text(file));
    if (!stdfs::is_regular_file(checkpoint / "model.pt")) {
      throw IoError(file.string() + " names " + checkpoint.string() + ", which has no model.pt",
                    "the run's checkpoints were moved or deleted");
    }
    return checkpoint;
  };
  if (which != "best" && which != "last") {
    throw Error("unknown checkpoint choice " + in_quotes(which) + "; one of: best, last");
  }
  const auto last = pointed("latest");
  if (!last) {
    throw IoError("no checkpoint in " + checkpoints.string() + " (no `latest` file)",
                  "train the job first, or give a checkpoint directory");
  }
  if (which == "best") {
    if (const auto best = pointed("best")) {
      note = "best validation loss";
      return *best;
    }
    note =
        "the last: no best checkpoint was recorded (trainer.keep_best = false, no validation "
        "before the end of training, or a run from before sslx recorded <checkpoints>/best)";
    return *last;
  }
  note = "the last";
  return *last;
}

}  // namespace sslx::eval
