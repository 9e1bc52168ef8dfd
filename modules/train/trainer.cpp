#include "train/trainer.h"

#include <ATen/Parallel.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/utils.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <optional>
#include <set>
#include <thread>

#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/device.h"
#include "train/gradient_reducer.h"
#include "train/signals.h"
#include "util/console.h"
#include "util/error.h"
#include "util/process_tuning.h"
#include "util/strings.h"

namespace sslx::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Training metrics summed since the last log row.
struct Window {
  double loss_sum = 0;
  double targets = 0;
  double tokens = 0;
  double seconds = 0;
  double grad_norm_sum = 0;
  std::int64_t steps = 0;
  Metrics metrics;

  void add(const StepReport& step, double step_seconds) {
    steps += 1;
    seconds += step_seconds;
    tokens += static_cast<double>(step.n_tokens);
    if (step.skipped) return;
    loss_sum += step.loss * static_cast<double>(step.n_targets);
    targets += static_cast<double>(step.n_targets);
    grad_norm_sum += step.grad_norm;
    for (const auto& [name, metric] : step.metrics)
      metrics[name].add(metric);
  }
};

// The training row of `state`'s step (averages over `window`) into the log, and the progress
// line on stderr (rewritten in place on a terminal).
void write_training_row(log::RunLogWriter& log, const Window& window, const TrainerState& state,
                        const TrainerOptions& options, double lr, double flops_per_token,
                        bool tty) {
  const std::int64_t step = state.step;
  const double tokens_per_second = window.tokens / std::max(window.seconds, 1e-9);
  if (window.targets > 0) {
    log.log("train", "loss", step, window.loss_sum / window.targets);
    for (const auto& [name, metric] : window.metrics)
      log.log("train", name, step, metric.sum / metric.count);
  }
  log.log("train", "lr", step, lr);
  log.log("train", "grad_norm", step, window.grad_norm_sum / window.steps);
  log.log("train", "skipped_steps", step, static_cast<double>(state.skipped_steps));
  log.log("train", "tokens", step, static_cast<double>(state.tokens_seen));
  log.log("train", "tokens_per_second", step, tokens_per_second);
  log.log("train", "model_flops_per_second", step, tokens_per_second * flops_per_token);
  char line[256];
  const bool bounded = options.max_steps > 0;
  const double remaining =
      bounded ? (options.max_steps - step) * (window.seconds / window.steps) : 0;
  std::snprintf(line, sizeof line, "step %lld%s  loss %.4f  lr %.2e  %.0f tok/s%s%s",
                static_cast<long long>(step),
                bounded ? ("/" + std::to_string(options.max_steps)).c_str() : "",
                window.targets > 0 ? window.loss_sum / window.targets : NAN, lr, tokens_per_second,
                bounded ? "  ETA " : "", bounded ? format_duration(remaining).c_str() : "");
  if (tty) {
    std::cerr << '\r' << line << "\033[K" << std::flush;
  } else {
    std::cerr << line << '\n';
  }
}

// Distinct trained parameters (a tied LM head shares the embedding: counted once).
std::int64_t parameter_count(const torch::nn::Module& model) {
  std::set<const void*> seen;
  std::int64_t count = 0;
  for (const auto& parameter : model.parameters()) {
    if (seen.insert(parameter.data_ptr()).second) count += parameter.numel();
  }
  return count;
}

}  // namespace

Trainer::Trainer(Objective& objective, const TrainerOptions& options,
                 const OptimizerOptions& optimizer_options, std::unique_ptr<LrSchedule> schedule,
                 RunPaths paths, std::string config_text)
    : objective_(objective),
      options_(options),
      optimizer_options_(optimizer_options),
      schedule_(std::move(schedule)),
      paths_(std::move(paths)),
      config_text_(std::move(config_text)),
      group_(dist::world_group()),
      parameters_(distinct_parameters(objective.model())) {
  device_ = resolve_device(options.device, objective.trains_on_accelerators());
  objective.to_device(device_);
  if (group_ != nullptr && !objective.overrides_step()) {
    reducer_ =
        std::make_unique<GradientReducer>(*group_, parameters_, options.gradient_bucket_bytes);
  }
  if (options.max_steps == 0 && options.max_tokens == 0 && options.max_seconds == 0) {
    throw Error("the training budget is unlimited",
                "set trainer.max_steps, trainer.max_tokens or trainer.max_seconds");
  }
  // LibTorch starts with one intra-op thread on Debian's build: set it explicitly.
  at::set_num_threads(static_cast<int>(resolve_threads(options.threads)));
  const auto groups = split_for_weight_decay(objective.model(), optimizer_options);
  optimizer_ = make_adamw(groups, optimizer_options);
  if (device_.is_cuda()) {
    console::info("device: " + device_.str() +
                  (options.bf16 ? ", bfloat16 autocast (fp32 weights and optimizer state)" : ""));
  }
  console::info("optimizer: AdamW, " + describe(groups, optimizer_options) + "; " +
                std::to_string(at::get_num_threads()) +
                (at::get_num_threads() == 1 ? " thread (" : " threads (") +
                describe_process_tuning() + ")");
}

Trainer::~Trainer() = default;

bool Trainer::budget_spent(double elapsed) const {
  return (options_.max_steps > 0 && state_.step >= options_.max_steps) ||
         (options_.max_tokens > 0 && state_.tokens_seen >= options_.max_tokens) ||
         (options_.max_seconds > 0 && elapsed >= options_.max_seconds);
}

StepReport Trainer::standard_step() {
  std::vector<Batch> batches;
  StepReport result;
  for (std::int64_t k = 0; k < options_.grad_accumulation; ++k) {
    batches.push_back(objective_.train_batch().to(device_));
    result.n_targets += batches.back().n_targets;
    result.n_tokens += batches.back().n_tokens;
  }
  optimizer_->zero_grad();
  const std::int64_t own_targets = result.n_targets;
  if (group_ != nullptr) {
    // Targets and tokens of the step on every rank together.
    const auto totals = all_reduce_sum(
        *group_, {static_cast<double>(result.n_targets), static_cast<double>(result.n_tokens)});
    result.n_targets = static_cast<std::int64_t>(totals[0]);
    result.n_tokens = static_cast<std::int64_t>(totals[1]);
  }
  if (result.n_targets == 0) {
    result.skipped = true;  // every label ignored: nothing to learn from
    return result;
  }
  // The loss of the step is the sum over all its targets divided once by their count, so the
  // update does not depend on how the step is split into micro-batches or between ranks
  // (unless trainer.data_parallel_loss asks for PyTorch DDP's mean of per-rank means).
  const bool rank_mean = group_ != nullptr && options_.rank_mean_loss;
  const double total =
      static_cast<double>(rank_mean ? std::max<std::int64_t>(own_targets, 1) : result.n_targets);
  double loss_sum = 0;
  for (std::size_t k = 0; k < batches.size(); ++k) {
    const Batch& batch = batches[k];
    LossTerms terms = [&] {
      const AutocastScope autocast(device_, options_.bf16);
      return objective_.loss(batch);
    }();
    // The last backward pass sums each bucket of gradients over the ranks as it fills.
    if (reducer_ && k + 1 == batches.size()) reducer_->arm();
    (terms.loss_sum / total).backward();
    loss_sum += terms.loss_sum.item<double>();
    for (const auto& [name, metric] : terms.metrics)
      result.metrics[name].add(metric);
  }
  if (group_ != nullptr) {
    reducer_->finish();
    if (!reported_buckets_) {
      reported_buckets_ = true;
      const std::size_t buckets = reducer_->bucket_count();
      console::info("data parallel: gradients in " + std::to_string(buckets) +
                    (buckets == 1 ? " bucket; " : " buckets; ") +
                    std::to_string(reducer_->started_during_backward()) +
                    " of them summed over the ranks while the backward pass ran");
    }
    if (rank_mean) {
      torch::NoGradGuard no_grad;
      for (auto& parameter : parameters_)
        parameter.mutable_grad().div_(group_->world_size());
    }
    loss_sum = all_reduce_sum(*group_, {loss_sum})[0];
    result.metrics = all_reduce_metrics(*group_, result.metrics, objective_.metric_names());
  }
  result.loss = loss_sum / static_cast<double>(result.n_targets);
  const double max_norm = options_.clip_grad_norm > 0 ? options_.clip_grad_norm
                                                      : std::numeric_limits<double>::infinity();
  result.grad_norm = torch::nn::utils::clip_grad_norm_(objective_.model().parameters(), max_norm);
  if (!std::isfinite(result.loss) || !std::isfinite(result.grad_norm)) {
    optimizer_->zero_grad();
    result.skipped = true;
    return result;
  }
  optimizer_->step();
  return result;
}

StepReport Trainer::objective_step() {
  StepReport result = objective_.train_step(*optimizer_);
  if (group_ != nullptr) {
    // The step's loss and grad_norm are the whole batch's already (train/data_parallel.h,
    // DataParallelStep); its counts and metrics are the rank's own.
    const auto totals = all_reduce_sum(
        *group_, {static_cast<double>(result.n_targets), static_cast<double>(result.n_tokens)});
    result.n_targets = static_cast<std::int64_t>(totals[0]);
    result.n_tokens = static_cast<std::int64_t>(totals[1]);
    result.metrics = all_reduce_metrics(*group_, result.metrics, objective_.metric_names());
  }
  return result;
}

Metrics Trainer::evaluate(data::Split split) {
  torch::NoGradGuard no_grad;
  objective_.model().eval();
  Metrics totals;
  Batch batch;
  // Data-parallel: rank r evaluates batches r, r + W, ...; the sums are then combined.
  const int rank = group_ != nullptr ? group_->rank() : 0;
  const int world = group_ != nullptr ? group_->world_size() : 1;
  for (std::int64_t index = rank; index < options_.eval_batches; index += world) {
    if (!objective_.eval_batch(split, index, batch)) break;
    const AutocastScope autocast(device_, options_.bf16);
    const LossTerms terms = objective_.loss(batch.to(device_));
    totals["loss"].add({terms.loss_sum.item<double>(), static_cast<double>(terms.n_targets)});
    for (const auto& [name, metric] : terms.metrics)
      totals[name].add(metric);
  }
  if (group_ != nullptr) {
    std::vector<std::string> names = objective_.metric_names();
    names.insert(names.begin(), "loss");
    totals = all_reduce_metrics(*group_, totals, names);
  }
  objective_.model().train();
  if (totals["loss"].count == 0) {
    throw Error("the " + data::to_string(split) + " split gave no evaluation targets",
                "use more data, a larger val_fraction or a shorter sequence_length");
  }
  return totals;
}

bool Trainer::validate(log::RunLogWriter* log) {
  const std::int64_t step = state_.step;
  const Metrics metrics = evaluate(data::Split::kValidation);
  state_.evaluated_step = step;
  const auto texts = objective_.take_evaluation_texts();
  const double loss = metrics.at("loss").sum / metrics.at("loss").count;
  if (log != nullptr) {
    for (const auto& [name, metric] : metrics)
      log->log("val", name, step, metric.sum / metric.count);
    log->log_texts(step, texts);
    log->log("val", "perplexity", step, std::exp(loss));
  }
  if (state_.has_best && loss >= state_.best_metric) return false;
  state_.has_best = true;
  state_.best_metric = loss;
  state_.best_step = step;
  state_.evaluations_without_improvement = 0;
  return true;
}

std::vector<bool> Trainer::agreed(std::vector<bool> flags) {
  if (group_ == nullptr) return flags;
  at::Tensor values = at::zeros({static_cast<std::int64_t>(flags.size())}, at::kFloat);
  for (std::size_t i = 0; i < flags.size(); ++i)
    values[static_cast<std::int64_t>(i)] = flags[i] ? 1.0F : 0.0F;
  group_->all_reduce_max(values);
  for (std::size_t i = 0; i < flags.size(); ++i)
    flags[i] = values[static_cast<std::int64_t>(i)].item<float>() > 0;
  return flags;
}

void Trainer::checkpoint(log::RunLogWriter* log) {
  if (state_.step == checkpointed_step_) return;
  checkpointed_step_ = state_.step;
  objective_.save_state(state_);
  // Every rank's sampler position and random streams go into rank 0's checkpoint.
  const auto rank_files = group_ != nullptr ? gather_rank_states(*group_, state_.step, state_)
                                            : std::map<std::string, std::string>{};
  if (!is_main()) return;
  log->flush();  // the log always holds every row up to a checkpoint
  save_checkpoint(paths_.checkpoints, objective_.model(), *optimizer_, state_, paths_.log,
                  rank_files);
  std::set<std::filesystem::path> keep;
  if (!best_checkpoint_.empty()) keep.insert(best_checkpoint_);
  prune_checkpoints(paths_.checkpoints, static_cast<std::size_t>(options_.keep_last), keep);
}

void Trainer::mark_best() {
  if (!is_main()) return;
  best_checkpoint_ = *latest_checkpoint(paths_.checkpoints);
  mark_best_checkpoint(paths_.checkpoints, best_checkpoint_);
}

void Trainer::resume(log::RunLogWriter* log) {
  std::int64_t keep_rows_up_to = -1;
  if (is_main()) remove_unfinished_checkpoints(paths_.checkpoints);
  // The best checkpoint stays protected from pruning across restarts.
  if (const auto best = best_checkpoint(paths_.checkpoints)) best_checkpoint_ = *best;
  if (const auto latest = latest_checkpoint(paths_.checkpoints)) {
    state_ = load_checkpoint(*latest, objective_.model(), *optimizer_);
    if (!is_main()) load_rank_state(*latest, group_->rank(), state_);
    objective_.load_state(state_);
    keep_rows_up_to = state_.step;
    console::info("resuming from " + latest->string() + " (step " + std::to_string(state_.step) +
                  ")");
    // A crash between saving an improving step and pointing `best` at it: point it now.
    if (is_main() && options_.keep_best && state_.has_best && state_.best_step == state_.step &&
        best_checkpoint_ != *latest) {
      best_checkpoint_ = *latest;
      mark_best_checkpoint(paths_.checkpoints, best_checkpoint_);
    }
  }
  // Rows logged after the checkpoint belong to steps that will be taken again.
  if (log != nullptr) log->truncate_after(keep_rows_up_to);
}

log::RunLogWriter Trainer::open_log() {
  if (!std::filesystem::exists(paths_.log))
    return log::RunLogWriter::create(paths_.log, config_text_);
  try {
    return log::RunLogWriter::reopen(paths_.log);
  } catch (const Error& error) {
    // A crash inside an HDF5 write, or a full disk, can leave the file unreadable: the latest
    // checkpoint holds the log as it stood then, which is every row the resumed run keeps.
    const auto latest = latest_checkpoint(paths_.checkpoints);
    if (!latest || !std::filesystem::is_regular_file(*latest / "log.h5")) {
      throw IoError(paths_.log.string() + " cannot be read (" + error.what() +
                        ") and no checkpoint holds a copy of it",
                    "start the run again with --fresh");
    }
    console::warning(paths_.log.string() + " cannot be read (" + error.what() +
                     "); restored from " + (*latest / "log.h5").string());
    std::filesystem::copy_file(*latest / "log.h5", paths_.log,
                               std::filesystem::copy_options::overwrite_existing);
    return log::RunLogWriter::reopen(paths_.log);
  }
}

RunOutcome Trainer::run() {
  StopRequest stop;
  std::optional<log::RunLogWriter> log_file;
  if (is_main()) log_file.emplace(open_log());
  log::RunLogWriter* log = log_file ? &*log_file : nullptr;
  try {
    resume(log);
    // Every rank starts from rank 0's parameters (the same seed gives the same ones: a guard).
    if (group_ != nullptr) broadcast_model(*group_, objective_.model());
    // Reports state each model's size (experiments match variants on it).
    if (log != nullptr)
      log->set_eval("model/parameters", static_cast<double>(parameter_count(objective_.model())));
    objective_.model().train();
    const auto start = Clock::now();
    const double elapsed_before = state_.elapsed_seconds;
    const auto elapsed = [&] { return elapsed_before + seconds_since(start); };
    const bool tty = console::stderr_is_tty();

    if (options_.eval_at_start && state_.step == 0) validate(log);

    Window window;
    RunOutcome outcome = RunOutcome::kCompleted;
    bool evaluated_last_step = false;
    // Budget spent / stop requested, agreed between the ranks once per step: a signal that reached
    // only some ranks stops all of them at the same step, and the row logged for that step.
    auto flags = agreed({budget_spent(elapsed()), stop.requested()});
    for (;;) {
      if (flags[0]) break;
      if (flags[1]) {
        outcome = RunOutcome::kInterrupted;
        break;
      }
      const double lr = schedule_->lr(state_.step);
      set_learning_rate(*optimizer_, lr);
      const auto step_start = Clock::now();
      const StepReport result = objective_.overrides_step() ? objective_step() : standard_step();
      if (result.skipped) {
        if (++state_.skipped_steps > options_.max_skipped_steps) {
          throw Error(std::to_string(state_.skipped_steps) +
                          " steps had a non-finite loss or gradient (or no targets)",
                      "lower the learning rate, or raise trainer.max_skipped_steps");
        }
        console::warning("step " + std::to_string(state_.step + 1) +
                         ": non-finite loss or gradient, step skipped");
      }
      ++state_.step;
      state_.tokens_seen += result.n_targets;
      window.add(result, seconds_since(step_start));

      flags = agreed({budget_spent(elapsed()), stop.requested()});
      const bool last = flags[0];
      const bool stopping = flags[1];
      // Rows also at every step that may checkpoint, so that a resumed run logs the same rows
      // (averaged over the same steps) as an uninterrupted one.
      const bool may_checkpoint =
          state_.step % options_.checkpoint_every == 0 ||
          (options_.eval_every > 0 && state_.step % options_.eval_every == 0);
      // And when stopping on a signal: the log then ends at the step of the final checkpoint.
      if (log != nullptr &&
          (state_.step % options_.log_every == 0 || last || may_checkpoint || stopping)) {
        write_training_row(*log, window, state_, options_, lr,
                           objective_.training_flops_per_token(), tty);
        window = Window{};
      }

      evaluated_last_step = false;
      if (options_.eval_every > 0 && state_.step % options_.eval_every == 0 && !last) {
        evaluated_last_step = true;
        if (validate(log)) {
          if (options_.keep_best) {
            state_.elapsed_seconds = elapsed();
            checkpoint(log);
            mark_best();
          }
        } else if (options_.early_stopping_patience > 0 &&
                   ++state_.evaluations_without_improvement >= options_.early_stopping_patience) {
          outcome = RunOutcome::kEarlyStopped;
          break;
        }
      }
      if (state_.step % options_.checkpoint_every == 0 && !last) {
        state_.elapsed_seconds = elapsed();
        checkpoint(log);
      }
    }
    if (tty) std::cerr << '\n';
    // The final evaluation competes for the best checkpoint too: otherwise a run whose last
    // step is its best would hand the evaluators an older model.
    // A run resumed from its final checkpoint evaluated this step before saving it (the log
    // holds those rows): it is not evaluated twice.
    if (outcome != RunOutcome::kInterrupted && !evaluated_last_step &&
        state_.evaluated_step != state_.step) {
      validate(log);
    }
    state_.elapsed_seconds = elapsed();
    checkpoint(log);
    if (options_.keep_best && state_.has_best && state_.best_step == state_.step) mark_best();
    if (log != nullptr) {
      // Training time of the whole run across resumes (reports compare cost with it).
      log->set_eval("train/seconds", state_.elapsed_seconds);
      log->close(outcome == RunOutcome::kInterrupted ? log::RunStatus::kInterrupted
                                                     : log::RunStatus::kCompleted);
    }
    return outcome;
  } catch (...) {
    // The error that stopped the run is the one to report; a log that cannot be written any
    // more (a full disk) keeps its rows up to the last flush.
    try {
      if (log != nullptr) log->close(log::RunStatus::kFailed);
    } catch (const std::exception& error) {
      console::warning("the run log could not be closed: " + std::string(error.what()));
    }
    throw;
  }
}

}  // namespace sslx::train
