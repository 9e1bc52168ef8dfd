// The [trainer] and [optimizer] sections: budget, batch shape, evaluation, checkpoints, AdamW.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "config/node.h"
#include "config/schema.h"
#include "train/optimizer.h"

namespace sslx::train {

// How a language model's token loss is computed (objectives/language_model.h, token_loss):
// trainer.lm_head_rows and trainer.fused_cross_entropy. Each combination gives the same loss and
// gradients; the defaults are the faster ones.
struct TokenLossOptions {
  // The LM head only at the positions that have a label ("labelled"), not at all ("all"). The
  // head works position by position, so the loss and the gradients are those of the full logits;
  // what is saved is the head's share of the step at the other positions (85% of an MLM batch,
  // an SFT batch's prompts and padding, a prefix LM's prefixes): at a vocabulary of 8,000 and
  // d_model 256 the head is about 40% of the model's FLOPs per position.
  bool labelled_rows_only = true;
  // One fused, cache-blocked cross-entropy (nn/cross_entropy.h), not log_softmax + nll_loss.
  bool fused_cross_entropy = true;
};

struct TrainerOptions {
  // Budget: training stops at the first limit reached (0 = no limit; at least one is needed).
  std::int64_t max_steps = 1000;
  std::int64_t max_tokens = 0;
  double max_seconds = 0;
  std::int64_t batch_size = 8;  // sequences per micro-batch
  std::int64_t sequence_length = 128;
  std::int64_t grad_accumulation = 1;  // micro-batches per optimizer step
  double clip_grad_norm = 1.0;         // 0 = off
  std::int64_t eval_every = 100;       // optimizer steps; 0 = only at the end
  std::int64_t eval_batches = 10;
  bool eval_at_start = false;
  std::int64_t checkpoint_every = 500;
  std::int64_t keep_last = 2;
  bool keep_best = true;                     // also keep the checkpoint with the best val loss
  std::int64_t early_stopping_patience = 0;  // evaluations without improvement; 0 = off
  std::int64_t max_skipped_steps = 10;       // non-finite steps tolerated before stopping
  std::int64_t threads = 0;                  // intra-op threads; 0 = resolve_threads(0)
  std::string device = "auto";               // train/device.h
  bool bf16 = false;                         // precision = "bf16": CUDA autocast
  std::int64_t log_every = 10;               // steps between progress lines and train log rows
  // Data parallelism: ranks of the job (each trains batch_size sequences per micro-batch) and
  // how long a rank waits for the others in a collective before the job fails.
  std::int64_t world_size = 1;
  double collective_timeout = 600;  // seconds
  // Gradients are summed over the ranks in buckets of about this many bytes, each as soon as the
  // backward pass has produced it.
  std::size_t gradient_bucket_bytes = std::size_t{25} << 20;
  // How a step's loss is normalised across ranks: false (data_parallel_loss = "all_targets"):
  // summed over every rank's targets and divided once by their total, the update of one process
  // with the whole batch; true ("rank_mean"): each rank's mean over its own targets, averaged over
  // the ranks (PyTorch DistributedDataParallel's convention; ranks with fewer targets weigh more).
  bool rank_mean_loss = false;
  TokenLossOptions token_loss;
};

config::Schema trainer_schema();
config::Schema optimizer_schema();
TrainerOptions trainer_options_from(const config::Node& trainer);
OptimizerOptions optimizer_options_from(const config::Node& optimizer);

// Adds [trainer] and [optimizer] to the root schema (called by the built-ins registration).
void register_trainer_sections();

// Intra-op threads for `configured` (trainer.threads): itself when positive; for 0, the share
// that `sslx run` gives each of its parallel jobs ($SSLX_THREADS), else every available core.
std::int64_t resolve_threads(std::int64_t configured);

}  // namespace sslx::train
