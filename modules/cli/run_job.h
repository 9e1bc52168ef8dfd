// Running one job of an experiment in its directory (contract in DESIGN.md "Runs on disk"):
//   <dir>/config.toml (the resolved config), overrides.txt, defaults_tree.txt, log.h5,
//   checkpoints/. Re-running resumes: a completed job is skipped, an interrupted one continues
//   from its latest checkpoint; a changed config in an existing directory is an error that says
//   what differs, unless `fresh` asks to start over.
#pragma once

#include <filesystem>
#include <string>

#include "config/resolve.h"

namespace sslx::cli {

enum class JobOutcome { kCompleted, kSkipped, kInterrupted };

JobOutcome run_job(const config::Resolved& resolved, const std::filesystem::path& directory,
                   bool fresh);

// The keys whose values differ between two configs ("a.b: 1 -> 2"), for the message above.
std::vector<std::string> config_differences(const config::Node& before, const config::Node& after);

}  // namespace sslx::cli
