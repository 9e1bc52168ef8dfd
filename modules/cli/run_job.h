// Running one job of an experiment in its directory (a contract, docs/training.md):
//   <dir>/config.toml (the resolved config), overrides.txt, defaults_tree.txt, log.h5,
//   checkpoints/. Re-running resumes: a completed job is skipped, an interrupted one continues
//   from its latest checkpoint; a changed config in an existing directory is an error that says
//   what differs, unless `fresh` asks to start over.
#pragma once

#include <filesystem>
#include <string>

#include "config/experiment_plan.h"
#include "config/resolve.h"

namespace sslx::cli {

enum class JobOutcome { kCompleted, kSkipped, kInterrupted };

// Writes <dir>/job.toml (name, variant, group, seed: what reports group by), trains, evaluates.
// Holds <dir>/running.pid locked meanwhile: a second run of the same directory is refused.
JobOutcome run_job(const config::Resolved& resolved, const config::PlannedJob& job,
                   const std::filesystem::path& directory, bool fresh);

// Deletes what a job directory holds, unless another sslx run is using it (an Error naming its
// pid then): `sslx run --fresh`.
void clear_job_directory(const std::filesystem::path& directory);

// Whether the job in `directory` has finished (trained and evaluated). Throws sslx::Error when
// the directory holds a run with another config, saying what differs.
bool job_is_complete(const config::Node& config, const std::filesystem::path& directory);

// The keys whose values differ between two configs ("a.b: 1 -> 2"), for the message above.
std::vector<std::string> config_differences(const config::Node& before, const config::Node& after);

}  // namespace sslx::cli
