// Generation through the rollout engine at the `small` preset (E 256, L 4, vocabulary 8192, fp32):
// new tokens per second with the KV cache (rollout::generate: the prompt once, then one position
// per step) and by re-running the whole forward pass over the sequence at every new token, for
// batch 1 and 16, prompts of 32 tokens, 64 new tokens, temperature 1, no EOS (every row runs to
// the end). Both loops sample with the same functions and random streams.
//
// The result is checked first: greedy decoding gives the same tokens both ways.
// bench/run_generation_vs_pytorch.sh puts these next to the same loops in PyTorch eager.
//
// Flags: --threads=N (default 2); --benchmark_* as usual.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/utils.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "architectures/heads.h"
#include "rollout/rollout.h"
#include "small_model.h"
#include "util/process_tuning.h"
#include "util/rng.h"

namespace {

using namespace sslx;

constexpr std::int64_t kVocab = 8192, kPrompt = 32, kNew = 64;
int g_threads = 2;

struct Policy {
  std::shared_ptr<arch::Architecture> backbone = bench::build_small("decoder", kVocab);
  arch::LmHead head = arch::lm_head_for(*backbone);
  Policy() {
    backbone->eval();
    head->eval();
  }
  rollout::LogitsFunction logits() {
    return [this](const arch::ArchitectureInputs& inputs) {
      return head(backbone->forward(inputs).hidden_states);
    };
  }
};

std::vector<std::vector<data::TokenId>> prompts(std::int64_t batch) {
  std::vector<std::vector<data::TokenId>> rows;
  for (std::int64_t b = 0; b < batch; ++b) {
    std::vector<data::TokenId> row;
    for (std::int64_t t = 0; t < kPrompt; ++t)
      row.push_back(static_cast<data::TokenId>((97 * b + 31 * t + 7) % kVocab));
    rows.push_back(row);
  }
  return rows;
}

std::vector<std::string> streams(std::int64_t batch) {
  std::vector<std::string> names;
  for (std::int64_t b = 0; b < batch; ++b)
    names.push_back("bench/" + std::to_string(b));
  return names;
}

// The baseline loop: the whole sequence through the model for every new token (no cache).
at::Tensor generate_without_cache(Policy& policy,
                                  const std::vector<std::vector<data::TokenId>>& rows,
                                  const rollout::SamplingOptions& sampling) {
  const torch::NoGradGuard no_grad;
  std::vector<std::int64_t> flat;
  for (const auto& row : rows)
    flat.insert(flat.end(), row.begin(), row.end());
  const auto B = static_cast<std::int64_t>(rows.size());
  at::Tensor sequences = at::tensor(flat, at::kLong).reshape({B, kPrompt});
  std::vector<RngStream> rngs;
  for (const auto& name : streams(B))
    rngs.emplace_back(1, name);
  std::vector<double> u(static_cast<std::size_t>(B));
  for (std::int64_t n = 0; n < kNew; ++n) {
    const at::Tensor logits = policy.logits()({.token_ids = sequences}).select(1, -1);
    for (std::size_t b = 0; b < rngs.size(); ++b)
      u[b] = rngs[b].uniform01();
    const at::Tensor next = rollout::sample_indices(
        rollout::sampling_probabilities(logits, sampling), at::tensor(u, at::kDouble));
    sequences = at::cat({sequences, next.unsqueeze(1)}, 1);
  }
  return sequences.slice(1, kPrompt);
}

at::Tensor generate_with_cache(Policy& policy, const std::vector<std::vector<data::TokenId>>& rows,
                               const rollout::SamplingOptions& sampling) {
  const rollout::RolloutOptions options{.max_new_tokens = kNew, .sampling = sampling};
  return rollout::generate(policy.logits(), rows, options, 1,
                           streams(static_cast<std::int64_t>(rows.size())))
      .responses;
}

void BM_Generate(benchmark::State& state, bool cache) {
  at::set_num_threads(g_threads);
  Policy policy;
  const std::int64_t batch = state.range(0);
  const auto rows = prompts(batch);
  {
    // Result check (and warm-up): greedy decoding is the same with and without the cache.
    const auto check_rows = prompts(4);
    const at::Tensor with = generate_with_cache(policy, check_rows, {.temperature = 0});
    const at::Tensor without = generate_without_cache(policy, check_rows, {.temperature = 0});
    if (!at::equal(with, without)) {
      state.SkipWithError("greedy decoding differs with and without the KV cache");
      return;
    }
  }
  const rollout::SamplingOptions sampling{.temperature = 1.0};
  for (auto _ : state) {
    const at::Tensor tokens = cache ? generate_with_cache(policy, rows, sampling)
                                    : generate_without_cache(policy, rows, sampling);
    benchmark::DoNotOptimize(tokens.data_ptr());
  }
  state.counters["new_tokens/s"] = benchmark::Counter(
      double(batch * kNew) * double(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["batch"] = double(batch);
}

BENCHMARK_CAPTURE(BM_Generate, kv_cache, true)
    ->Arg(1)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_Generate, recompute, false)
    ->Arg(1)
    ->Arg(16)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  // As `sslx run` generates (util/process_tuning.h): may re-exec this process once.
  sslx::remember_command_line(argv);
  sslx::tune_process_for_compute();
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--threads=", 0) == 0) g_threads = std::atoi(arg.c_str() + 10);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
