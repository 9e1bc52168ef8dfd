#include "train/trainer_options.h"

#include <cstdlib>
#include <memory>

#include "registry/registry_index.h"
#include "util/error.h"
#include "util/job_pool.h"

namespace sslx::train {

using config::Node;
using config::Type;

config::Schema trainer_schema() {
  config::Schema s("the training loop: budget, batches, evaluation, checkpoints");
  s.add({.key = "max_steps",
         .type = Type::kInt,
         .default_value = 1000,
         .doc = "optimizer steps to train (0: no step limit)",
         .min = 0});
  s.add({.key = "max_tokens",
         .type = Type::kInt,
         .default_value = 0,
         .doc = "target tokens to train on (0: no token limit)",
         .min = 0});
  s.add({.key = "max_seconds",
         .type = Type::kFloat,
         .default_value = 0.0,
         .doc = "training time in seconds (0: no time limit)",
         .min = 0.0});
  s.add({.key = "batch_size",
         .type = Type::kInt,
         .default_value = 8,
         .doc = "sequences per micro-batch",
         .min = 1});
  s.add({.key = "sequence_length",
         .type = Type::kInt,
         .default_value = 128,
         .doc = "tokens per sequence",
         .min = 2});
  s.add({.key = "grad_accumulation",
         .type = Type::kInt,
         .default_value = 1,
         .doc = "micro-batches per optimizer step",
         .min = 1});
  s.add({.key = "clip_grad_norm",
         .type = Type::kFloat,
         .default_value = 1.0,
         .doc = "clip the global gradient norm to this (0: off)",
         .min = 0.0});
  s.add({.key = "eval_every",
         .type = Type::kInt,
         .default_value = 100,
         .doc = "evaluate on the validation split every N steps (0: only at the end)",
         .min = 0});
  s.add({.key = "eval_batches",
         .type = Type::kInt,
         .default_value = 10,
         .doc = "validation micro-batches per evaluation",
         .min = 1});
  s.add({.key = "eval_at_start",
         .type = Type::kBool,
         .default_value = false,
         .doc = "also evaluate before the first step"});
  s.add({.key = "checkpoint_every",
         .type = Type::kInt,
         .default_value = 500,
         .doc = "write a checkpoint every N steps (and always at the end)",
         .min = 1});
  s.add({.key = "keep_last",
         .type = Type::kInt,
         .default_value = 2,
         .doc = "checkpoints to keep, newest first",
         .min = 1});
  s.add({.key = "keep_best",
         .type = Type::kBool,
         .default_value = true,
         .doc = "also keep the checkpoint with the lowest validation loss"});
  s.add({.key = "early_stopping_patience",
         .type = Type::kInt,
         .default_value = 0,
         .doc = "stop after N evaluations without a lower validation loss (0: off)",
         .min = 0});
  s.add({.key = "max_skipped_steps",
         .type = Type::kInt,
         .default_value = 10,
         .doc = "steps with a non-finite loss or gradient skipped before the run fails",
         .min = 0});
  s.add({.key = "threads",
         .type = Type::kInt,
         .default_value = 0,
         .doc = "intra-op threads (0: all cores, or the share `sslx run` gives each parallel job)",
         .min = 0});
  s.add({.key = "log_every",
         .type = Type::kInt,
         .default_value = 10,
         .doc = "steps between training log rows and progress lines",
         .min = 1});
  s.add({.key = "device",
         .type = Type::kString,
         .default_value = "auto",
         .doc = "where to train: cpu, cuda, cuda:N, or auto (the first CUDA GPU when there is one, "
                "else the CPU)"});
  s.add({.key = "precision",
         .type = Type::kString,
         .default_value = "fp32",
         .doc = "fp32, or bf16: bfloat16 autocast on CUDA with fp32 weights and optimizer state "
                "(refused on the CPU)",
         .choices = {"fp32", "bf16"}});
  s.add({.key = "world_size",
         .type = Type::kInt,
         .default_value = 1,
         .doc = "data-parallel ranks, each with its own batch_size (`sslx run --nproc N` sets it)",
         .min = 1,
         .max = 4096});
  s.add({.key = "collective_timeout",
         .type = Type::kFloat,
         .default_value = 600.0,
         .doc = "seconds a rank waits for the others (joining, all-reduce) before the job fails",
         .min = 1.0});
  s.add({.key = "gradient_bucket_mb",
         .type = Type::kFloat,
         .default_value = 25.0,
         .doc = "data parallelism: gradients are summed over the ranks in buckets of about this "
                "many MB, each while the backward pass goes on (PyTorch DDP's bucket_cap_mb)",
         .min = 0.001});
  s.add({.key = "data_parallel_loss",
         .type = Type::kString,
         .default_value = "all_targets",
         .doc = "all_targets: the step's loss summed over every rank's targets / their total (as "
                "one process with the whole batch); rank_mean: each rank's mean, averaged over "
                "ranks (PyTorch DDP)",
         .choices = {"all_targets", "rank_mean"}});
  s.add({.key = "lm_head_rows",
         .type = Type::kString,
         .default_value = "labelled",
         .doc = "where language-model objectives compute logits for the loss: labelled (only "
                "positions with a target: MLM's masked ones, SFT's completion, prefix LM's "
                "continuation) or all (every position, as Hugging Face models do); same loss",
         .choices = {"labelled", "all"}});
  s.add({.key = "fused_cross_entropy",
         .type = Type::kBool,
         .default_value = true,
         .doc = "the token cross-entropy as one function over cache-sized row blocks (true) or "
                "as log_softmax + nll_loss (false); same loss and gradients"});
  return s;
}

config::Schema optimizer_schema() {
  config::Schema s("AdamW with decoupled weight decay (the learning rate is in [schedule])");
  s.add({.key = "beta1",
         .type = Type::kFloat,
         .default_value = 0.9,
         .doc = "Adam beta1",
         .min = 0.0,
         .max = 1.0});
  s.add({.key = "beta2",
         .type = Type::kFloat,
         .default_value = 0.95,
         .doc = "Adam beta2",
         .min = 0.0,
         .max = 1.0});
  s.add({.key = "eps",
         .type = Type::kFloat,
         .default_value = 1e-8,
         .doc = "Adam epsilon",
         .min = 0.0});
  s.add({.key = "weight_decay",
         .type = Type::kFloat,
         .default_value = 0.1,
         .doc = "decoupled weight decay of weight matrices",
         .min = 0.0});
  s.add({.key = "decay_biases_and_norms",
         .type = Type::kBool,
         .default_value = false,
         .doc = "also decay biases and norm weights (every 1-D parameter)"});
  s.add({.key = "decay_embeddings",
         .type = Type::kBool,
         .default_value = false,
         .doc = "also decay embedding tables"});
  return s;
}

TrainerOptions trainer_options_from(const Node& t) {
  return TrainerOptions{
      .max_steps = t.get_int("max_steps"),
      .max_tokens = t.get_int("max_tokens"),
      .max_seconds = t.get_float("max_seconds"),
      .batch_size = t.get_int("batch_size"),
      .sequence_length = t.get_int("sequence_length"),
      .grad_accumulation = t.get_int("grad_accumulation"),
      .clip_grad_norm = t.get_float("clip_grad_norm"),
      .eval_every = t.get_int("eval_every"),
      .eval_batches = t.get_int("eval_batches"),
      .eval_at_start = t.get_bool("eval_at_start"),
      .checkpoint_every = t.get_int("checkpoint_every"),
      .keep_last = t.get_int("keep_last"),
      .keep_best = t.get_bool("keep_best"),
      .early_stopping_patience = t.get_int("early_stopping_patience"),
      .max_skipped_steps = t.get_int("max_skipped_steps"),
      .threads = t.get_int("threads"),
      .device = t.get_string("device"),
      .bf16 = t.get_string("precision") == "bf16",
      .log_every = t.get_int("log_every"),
      .world_size = t.get_int("world_size"),
      .collective_timeout = t.get_float("collective_timeout"),
      .gradient_bucket_bytes =
          static_cast<std::size_t>(t.get_float("gradient_bucket_mb") * 1024 * 1024),
      .rank_mean_loss = t.get_string("data_parallel_loss") == "rank_mean",
      .token_loss = {.labelled_rows_only = t.get_string("lm_head_rows") == "labelled",
                     .fused_cross_entropy = t.get_bool("fused_cross_entropy")}};
}

OptimizerOptions optimizer_options_from(const Node& o) {
  return OptimizerOptions{.beta1 = o.get_float("beta1"),
                          .beta2 = o.get_float("beta2"),
                          .eps = o.get_float("eps"),
                          .weight_decay = o.get_float("weight_decay"),
                          .decay_biases_and_norms = o.get_bool("decay_biases_and_norms"),
                          .decay_embeddings = o.get_bool("decay_embeddings")};
}

void register_trainer_sections() {
  auto& index = registry::RegistryIndex::instance();
  index.add_root_field({.key = "trainer",
                        .type = Type::kTable,
                        .default_value = Node(config::Table{}),
                        .doc = "the training loop: budget, batches, evaluation, checkpoints",
                        .nested = std::make_shared<config::Schema>(trainer_schema())});
  index.add_root_field({.key = "optimizer",
                        .type = Type::kTable,
                        .default_value = Node(config::Table{}),
                        .doc = "AdamW settings (the learning rate is in [schedule])",
                        .nested = std::make_shared<config::Schema>(optimizer_schema())});
  index.add_root_check("trainer budget", [](const config::CheckContext& context) {
    const config::Node& t = context.root().at_path("trainer");
    if (t.get_int("max_steps") == 0 && t.get_int("max_tokens") == 0 &&
        t.get_float("max_seconds") == 0) {
      context.error_at("trainer.max_steps",
                       "the training budget is unlimited: set trainer.max_steps, "
                       "trainer.max_tokens or trainer.max_seconds");
    }
  });
}

std::int64_t resolve_threads(std::int64_t configured) {
  if (configured > 0) return configured;
  if (const char* share = std::getenv("SSLX_THREADS"); share != nullptr) {
    char* end = nullptr;
    const long value = std::strtol(share, &end, 10);
    if (end != share && *end == '\0' && value > 0) return value;
    throw Error("SSLX_THREADS=" + std::string(share) + " is not a positive number of threads");
  }
  return static_cast<std::int64_t>(available_cores());
}

}  // namespace sslx::train
