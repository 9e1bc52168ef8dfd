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
#include <optional>
#include <set>

#include "train/trainer_state.h"

namespace sslx::train {

std::filesystem::path save_checkpoint(const std::filesystem::path& directory,
                                      const torch::nn::Module& model,
                                      torch::optim::Optimizer& optimizer,
                                      const TrainerState& state);

// The checkpoint named by <dir>/latest, if any.
std::optional<std::filesystem::path> latest_checkpoint(const std::filesystem::path& directory);

// <dir>/best (a one-line file like `latest`) names the checkpoint of the best validation loss
// when trainer.keep_best is on; evaluators load it (eval.checkpoint = "best").
void mark_best_checkpoint(const std::filesystem::path& directory,
                          const std::filesystem::path& checkpoint);
std::optional<std::filesystem::path> best_checkpoint(const std::filesystem::path& directory);

// Restores model, optimizer and trainer state; the model's key set and shapes must match.
TrainerState load_checkpoint(const std::filesystem::path& checkpoint, torch::nn::Module& model,
                             torch::optim::Optimizer& optimizer);

// Removes step-* checkpoints other than the newest `keep_last` and those in `keep`.
void prune_checkpoints(const std::filesystem::path& directory, std::size_t keep_last,
                       const std::set<std::filesystem::path>& keep);

}  // namespace sslx::train
