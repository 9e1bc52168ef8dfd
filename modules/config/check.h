// Checks over a whole validated config, run when an experiment is planned (`sslx run`, also with
// --dry-run), before any job starts: each registered component (an architecture, an objective, a
// reward, an evaluator, ...) may declare one, for the rules its schema cannot express alone
// (n_heads dividing d_model, an objective that needs a decoder, a checkpoint that must exist).
// Every problem of every job is reported at once, with its key path and where the value was set.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "config/config_error.h"
#include "config/node.h"

namespace sslx::config {

// Runs that the experiment produces before the job being checked: each job directory, with the
// resolved config of the job that writes it. A checkpoint path into one of them is valid though
// nothing is on disk yet.
using UpstreamRuns = std::map<std::filesystem::path, const Node*>;

class CheckContext {
 public:
  CheckContext(const Node& root, const Node& options, std::string path,
               const UpstreamRuns& upstream, DiagnosticList& diagnostics)
      : root_(root),
        options_(options),
        path_(std::move(path)),
        upstream_(upstream),
        diagnostics_(diagnostics) {}

  const Node& root() const { return root_; }         // the job's whole validated config
  const Node& options() const { return options_; }   // the component's own table
  const std::string& path() const { return path_; }  // its key path ("model", "objective.reward")
  const UpstreamRuns& upstream() const { return upstream_; }

  // A problem with the component's option `key` (a key of options()).
  void error(std::string_view key, const std::string& message) const;
  // A problem with any key of the config, by its full path ("trainer.sequence_length").
  void error_at(const std::string& full_path, const std::string& message) const;

  // The same check at another table of the config (a nested component).
  CheckContext nested(const Node& options, std::string path) const {
    return {root_, options, std::move(path), upstream_, diagnostics_};
  }

 private:
  const Node& root_;
  const Node& options_;
  std::string path_;
  const UpstreamRuns& upstream_;
  DiagnosticList& diagnostics_;
};

using Check = std::function<void(const CheckContext&)>;

class Schema;

// Runs the check of every component selected in `config` (a table validated against `schema`),
// nested components included, collecting their problems in `diagnostics`.
void check_components(const Node& config, const Schema& schema, const UpstreamRuns& upstream,
                      DiagnosticList& diagnostics);

}  // namespace sslx::config
