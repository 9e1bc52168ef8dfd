// The whole train step of every objective at the `small` preset (bench/objective_step.toml:
// E 256, L 4, batch 8, 256 tokens, SentencePiece 8k), as the trainer takes it: the objective
// builds its micro-batch from the token shards, computes its loss, backward, gradient clipping,
// AdamW with the trainer's weight-decay groups. bench/run_objectives_vs_pytorch.sh runs each in
// its own process next to the same decoder + CLM step in PyTorch eager.
//
// Counters: tokens/s (input tokens per second of wall clock), GFLOP/s (the objective's model
// FLOPs per training token x tokens), targets/step, peak_rss_MiB (the process's peak resident
// memory so far: meaningful when one benchmark runs per process, as the script does),
// page_faults/step and sys_s/step (kernel time: the cost of memory the allocator gives back).
// The process tunes itself as `sslx run` does (OMP_WAIT_POLICY, malloc; util/process_tuning.h);
// SSLX_PROCESS_TUNING=0 measures LibTorch's defaults.
//
// Flags: --threads=N (default 2); --benchmark_* as usual. Needs the fortune corpus (package
// `fortunes`); the tokenizer and shards are cached in .cache/sslx under the working directory.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <torch/nn/module.h>
#include <torch/nn/utils/clip_grad.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <string>

#include "cli/builtins.h"
#include "config/resolve.h"
#include "data/lm_data.h"
#include "objectives/objective_registry.h"
#include "registry/registry_index.h"
#include "train/optimizer.h"
#include "train/trainer_options.h"
#include "util/process_tuning.h"

namespace {

using namespace sslx;

int g_threads = 2;

config::Node bench_config(const std::vector<std::string>& overrides) {
  cli::register_builtins();
  return config::resolve(
             {.file = SSLX_SOURCE_DIR "/bench/objective_step.toml",
              .overrides = overrides,
              .config_dirs = {}},
             [](const config::Node&) { return registry::RegistryIndex::instance().root_schema(); })
      .config;
}

rusage usage_now() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage;
}

double seconds(const timeval& time) {
  return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_usec) * 1e-6;
}

void BM_TrainStep(benchmark::State& state, const std::vector<std::string>& overrides) {
  at::set_num_threads(g_threads);
  const config::Node config = bench_config(overrides);
  torch::manual_seed(1);
  const data::LmData data = data::prepare_lm_data(config);
  const train::TrainerOptions trainer = train::trainer_options_from(config.at_path("trainer"));
  const objectives::ObjectiveContext context{.model = config.at_path("model"),
                                             .tokenizer = *data.tokenizer,
                                             .corpus = data.corpus,
                                             .trainer = trainer,
                                             .seed = 1};
  auto objective = objectives::objective_registry().create(config.at_path("objective"), context);
  const auto optimizer_options = train::optimizer_options_from(config.at_path("optimizer"));
  auto optimizer = train::make_adamw(
      train::split_for_weight_decay(objective->model(), optimizer_options), optimizer_options);

  std::int64_t tokens = 0, targets = 0;
  const auto step = [&] {
    const train::Batch batch = objective->train_batch();
    optimizer->zero_grad();
    const train::LossTerms terms = objective->loss(batch);
    const double loss = terms.loss_sum.item<double>() / static_cast<double>(terms.n_targets);
    (terms.loss_sum / static_cast<double>(terms.n_targets)).backward();
    torch::nn::utils::clip_grad_norm_(objective->model().parameters(), trainer.clip_grad_norm);
    optimizer->step();
    tokens += batch.n_tokens;
    targets += terms.n_targets;
    return loss;
  };
  for (int i = 0; i < 2; ++i) {  // check and warm up
    if (!std::isfinite(step())) {
      state.SkipWithError("the loss is not finite");
      return;
    }
  }
  tokens = targets = 0;
  const rusage before = usage_now();
  for (auto _ : state)
    benchmark::DoNotOptimize(step());
  const rusage after = usage_now();
  const double steps = static_cast<double>(state.iterations());
  state.counters["tokens/s"] =
      benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(objective->training_flops_per_token() * static_cast<double>(tokens) / 1e9,
                         benchmark::Counter::kIsRate);
  state.counters["targets/step"] = static_cast<double>(targets) / steps;
  state.counters["tokens/step"] = static_cast<double>(tokens) / steps;
  state.counters["peak_rss_MiB"] = static_cast<double>(after.ru_maxrss) / 1024.0;  // KiB on Linux
  state.counters["page_faults/step"] =
      static_cast<double>(after.ru_minflt + after.ru_majflt - before.ru_minflt - before.ru_majflt) /
      steps;
  state.counters["sys_s/step"] = (seconds(after.ru_stime) - seconds(before.ru_stime)) / steps;
  std::int64_t parameters = 0;
  for (const auto& p : objective->model().parameters())
    parameters += p.numel();
  state.counters["parameters"] = static_cast<double>(parameters);
  state.counters["vocab"] = static_cast<double>(data.tokenizer->vocab_size());
}

}  // namespace

int main(int argc, char** argv) {
  // As `sslx run` trains (util/process_tuning.h): may re-exec this process once.
  sslx::remember_command_line(argv);
  sslx::tune_process_for_compute();
  for (int i = 1; i < argc; ++i) {
    const std::string argument = argv[i];
    if (argument.rfind("--threads=", 0) == 0) g_threads = std::atoi(argument.c_str() + 10);
  }
  const std::string pairs = std::string(SSLX_SOURCE_DIR) + "/data/fortune_pairs/";
  const auto add = [](const std::string& name, std::vector<std::string> overrides) {
    benchmark::RegisterBenchmark(("TrainStep/" + name).c_str(), BM_TrainStep, overrides)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  };
  struct Step {
    std::string name;
    std::vector<std::string> overrides;
    bool plain_loss_twin;  // also run with the plain token loss (a language-model objective)
  };
  const std::vector<Step> steps = {
      {"clm", {"model.arch=decoder", "objective.name=clm"}, true},
      {"clm_document_mask",
       {"model.arch=decoder", "objective.name=clm", "objective.document_mask=true"},
       false},
      {"mlm", {"model.arch=encoder", "objective.name=mlm"}, true},
      {"span_corruption", {"model.arch=encoder_decoder", "objective.name=span_corruption"}, true},
      {"prefix_lm", {"model.arch=decoder", "objective.name=prefix_lm"}, true},
      {"sft",
       {"model.arch=decoder", "objective.name=sft",
        "objective.train_files=[\"" + pairs + "sft_train.jsonl\"]",
        "objective.validation_files=[\"" + pairs + "sft_val.jsonl\"]"},
       true},
      {"sft_packed",
       {"model.arch=decoder", "objective.name=sft", "objective.packing=true",
        "objective.train_files=[\"" + pairs + "sft_train.jsonl\"]",
        "objective.validation_files=[\"" + pairs + "sft_val.jsonl\"]"},
       false},
      {"reward_model",
       {"model.arch=decoder", "objective.name=reward_model",
        "objective.train_files=[\"" + pairs + "preferences_train.jsonl\"]",
        "objective.validation_files=[\"" + pairs + "preferences_val.jsonl\"]"},
       false},
  };
  for (const Step& step : steps)
    add(step.name, step.overrides);
  // The language-model steps again with the plain token loss (logits at every position,
  // log_softmax + nll_loss), to compare with the defaults (train/trainer_options.h,
  // TokenLossOptions).
  for (const Step& step : steps) {
    if (!step.plain_loss_twin) continue;
    std::vector<std::string> overrides = step.overrides;
    overrides.insert(overrides.end(),
                     {"trainer.lm_head_rows=all", "trainer.fused_cross_entropy=false"});
    add(step.name + "/plain_loss", overrides);
  }

  // How the CLM step's cost grows with the context (attention's T^2 included) and the width:
  // batch 8, d_ff = 4 d_model, heads of 64, positions for the longest context.
  // bench/run_scaling.sh runs each in its own process and prints the table.
  for (const int context : {128, 256, 512, 1024}) {
    for (const int width : {256, 512}) {
      add("scaling/T=" + std::to_string(context) + "/E=" + std::to_string(width),
          {"model.arch=decoder", "objective.name=clm",
           "trainer.sequence_length=" + std::to_string(context),
           "model.d_model=" + std::to_string(width), "model.d_ff=" + std::to_string(4 * width),
           "model.n_heads=" + std::to_string(width / 64), "model.max_positions=1024"});
    }
  }

  // Our --threads flag is not Google Benchmark's: drop it before Initialize.
  std::vector<char*> arguments;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]).rfind("--threads=", 0) != 0) arguments.push_back(argv[i]);
  }
  int count = static_cast<int>(arguments.size());
  benchmark::Initialize(&count, arguments.data());
  if (benchmark::ReportUnrecognizedArguments(count, arguments.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
