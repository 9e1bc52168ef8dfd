// Config checks the objectives share (config/check.h): the backbone kinds an objective trains,
// and the runs a stage starts from or is scored by (init_from, a reward model's checkpoint).
// A run named by path must exist on disk or be produced earlier in the same experiment; its
// config must agree with this job's where the two meet (the vocabulary, the backbone's shape).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/check.h"
#include "config/node.h"

namespace sslx::objectives {

// Refuses a [model] whose architecture kind ("encoder", "decoder", "encoder_decoder") is not
// one of `kinds`, at model.arch.
config::Check accepts_architectures(std::string objective, std::vector<std::string> kinds);

// All of `checks`, in order.
config::Check all_of(std::vector<config::Check> checks);

// The resolved config of the run that `path` names (a run folder, its checkpoints/ folder or
// one of its checkpoints): from the experiment's upstream jobs, else from <run>/config.toml.
// nullopt when neither exists.
std::optional<config::Node> run_config(const config::CheckContext& context, std::string_view path);

// Option `key` (a path, may be empty: nothing to check) names a run whose tokens mean what this
// job's mean: the same [tokenizer] (and [data], when the vocabulary is learned from it), and,
// when `trained` is not empty, a run of one of those objectives.
void check_run_reference(const config::CheckContext& context, std::string_view key,
                         const std::vector<std::string>& trained);

// Every file named by train_files and validation_files (where the component has them) exists.
void check_files_exist(const config::CheckContext& context);

// `init_from`: as check_run_reference, and the run trained the same backbone ([model] keys that
// shape parameters), since its weights load strictly.
void check_init_from(const config::CheckContext& context);

}  // namespace sslx::objectives
