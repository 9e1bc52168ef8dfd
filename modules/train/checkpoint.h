// Checkpoints of a run: <dir>/step-<N>/ with model.pt (state by registered names, loaded
// strictly), optimizer.pt, trainer_state.toml and, when the objective keeps tensors of its own
// (TrainerState::tensors), objective.pt. A checkpoint is written into a temporary
// directory and renamed into place, and <dir>/latest (a one-line file, itself replaced
// atomically) names the newest complete one, so a crash never leaves a half checkpoint as
// "latest". Older checkpoints beyond `keep_last` are removed, except those listed in `keep`.
#pragma once

#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "train/trainer_state.h"

namespace sslx::train {

// Saves <directory>/step-NNNNNNNN (model.pt, optimizer.pt, torch_rng.pt, objective.pt when the
// state has tensors, checksums, trainer_state.toml and, when `log_file` is given, a copy of the run
// log as it stands: what restores a log that a crash or a full disk left unreadable), `extra_files`
// (name -> bytes: the other ranks' parts of a data-parallel job) and points <directory>/latest at
// it. Written into a temporary folder first: no crash leaves `latest`
// naming an incomplete checkpoint.
std::filesystem::path save_checkpoint(const std::filesystem::path& directory,
                                      const torch::nn::Module& model,
                                      torch::optim::Optimizer& optimizer, const TrainerState& state,
                                      const std::filesystem::path& log_file = {},
                                      const std::map<std::string, std::string>& extra_files = {});

// The checkpoint named by <dir>/latest, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory);

// A checkpoint directory from what a user or an experiment stage names: a checkpoint directory
// itself (any folder with model.pt), a run's checkpoints/ folder or a run folder (both: its
// newest checkpoint). Returned unchanged when none of these holds.
std::filesystem::path resolve_checkpoint(const std::filesystem::path& path);

// <dir>/best (a one-line file like `latest`) names the checkpoint of the best validation loss
// when trainer.keep_best is on; evaluators load it (eval.checkpoint = "best").
void mark_best_checkpoint(const std::filesystem::path& directory,
                          const std::filesystem::path& checkpoint);
std::optional<std::filesystem::path> best_checkpoint(const std::filesystem::path& directory);

// Every file a checkpoint folder holds is listed with the hash of its bytes in its `checksums`
// file, written before trainer_state.toml. verify_checkpoint checks them all and model_file the
// model's alone (loading a model for evaluation, export or fine-tuning): an IoError names the
// file that is missing or whose bytes changed, so a damaged file is refused instead of loaded.
// A checkpoint written before sslx wrote checksums is not checked.
void verify_checkpoint(const std::filesystem::path& checkpoint);
// <checkpoint>/model.pt, verified.
std::filesystem::path model_file(const std::filesystem::path& checkpoint);

// Restores model, optimizer and trainer state; the model's key set and shapes must match. The
// checkpoint is verified first; a file that LibTorch cannot read is an IoError naming it.
TrainerState load_checkpoint(const std::filesystem::path& checkpoint, torch::nn::Module& model,
                             torch::optim::Optimizer& optimizer);

// Removes what saves cut short by a crash left behind (step-*.tmp.<pid> folders); call it only
// while no other process saves into `directory` (the job's lock is held).
void remove_unfinished_checkpoints(const std::filesystem::path& directory);

// Removes step-* checkpoints other than the newest `keep_last` and those in `keep`.
void prune_checkpoints(const std::filesystem::path& directory, std::size_t keep_last,
                       const std::set<std::filesystem::path>& keep);

}  // namespace sslx::train
