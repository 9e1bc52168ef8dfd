// Throughput of the backbones at the `small` preset (configs/model/small.toml: E 256, L 4, H 4,
// F 1024, P 512), batch 8, context 256, vocabulary 8192, fp32, with a tied LM head and a
// cross-entropy loss: forward (no autograd), forward+backward, and one AdamW train step for the
// decoder; one Transformer block; self-attention alone at context 128, 256 and 512.
//
// Counters: tokens/s (B·T positions per second of wall clock) and GFLOP/s of model FLOPs:
//   architectures: forward_flops_per_token(T) + 2 E V (the LM head, which the architecture's
//                  count leaves out), times 3 with the backward pass;
//   one block:     2 N_block + 2 T E (the architecture's formula for one layer);
//   attention:     2 N_attn + 2 T E, N_attn = 4 (E² + E) (q, k, v and out projections; 2 T E is
//                  the scores term as Kaplan et al. count it, the convention of the architectures).
// Each benchmark first checks its result (finite loss; finite gradient on every parameter; a
// train step lowers the loss on its batch) and warms up, then times.
//
// Flags: --threads=N (default 2; LibTorch starts with 1 here); --profile=FILE writes a Chrome
// trace of the decoder's forward+backward instead of benchmarking. bench/run_decoder_vs_pytorch.sh
// runs the decoder benchmarks side by side with bench/pytorch_baseline.py.
#include <ATen/ATen.h>
#include <benchmark/benchmark.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/optim/adamw.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "architectures/architecture.h"
#include "architectures/architecture_options.h"
#include "architectures/heads.h"
#include "nn/attention.h"
#include "nn/transformer_block.h"
#include "small_model.h"

namespace {

using namespace sslx;

constexpr std::int64_t kBatch = 8;
constexpr std::int64_t kContext = 256;
constexpr std::int64_t kVocab = 8192;

std::shared_ptr<arch::Architecture> build_small(const std::string& kind) {
  return bench::build_small(kind, kVocab);
}

std::int64_t count(const std::vector<at::Tensor>& parameters) {
  std::int64_t n = 0;
  for (const auto& p : parameters)
    n += p.numel();
  return n;
}

void clear_gradients(std::vector<at::Tensor>& parameters) {
  for (auto& p : parameters)
    p.mutable_grad() = at::Tensor();
}

// Empty when every parameter has a finite gradient, else what is wrong.
std::string gradient_problem(const std::vector<at::Tensor>& parameters) {
  for (const auto& p : parameters) {
    if (!p.grad().defined()) return "a parameter got no gradient";
    if (!at::isfinite(p.grad()).all().item<bool>()) return "a gradient is not finite";
  }
  return {};
}

bool finite(const at::Tensor& t) {
  return at::isfinite(t).all().item<bool>();
}

void report(benchmark::State& state, double tokens_per_iteration, double flops_per_token) {
  const double iterations = double(state.iterations());
  state.counters["tokens/s"] =
      benchmark::Counter(tokens_per_iteration * iterations, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(
      tokens_per_iteration * flops_per_token * iterations / 1e9, benchmark::Counter::kIsRate);
}

// A backbone with its LM head on a fixed random batch: (B, T) tokens and next-token targets.
struct LanguageModel {
  std::shared_ptr<arch::Architecture> backbone;
  arch::LmHead head{nullptr};
  at::Tensor tokens, targets;
  std::vector<at::Tensor> parameters;

  explicit LanguageModel(const std::string& kind)
      : backbone(build_small(kind)), head(arch::lm_head_for(*backbone)) {
    tokens = at::randint(kVocab, {kBatch, kContext}, at::kLong);
    targets = at::randint(kVocab, {kBatch, kContext}, at::kLong);
    parameters = backbone->parameters();
    for (const auto& p : head->parameters())
      parameters.push_back(p);
  }

  at::Tensor loss() {
    arch::ArchitectureInputs inputs{.token_ids = tokens};
    if (backbone->kind() == arch::ArchitectureKind::encoder_decoder) {
      inputs.decoder_token_ids = tokens;
    }
    const at::Tensor logits = head(backbone->forward(inputs).hidden_states);
    return at::cross_entropy_loss(logits.reshape({-1, kVocab}), targets.reshape({-1}));
  }

  double forward_flops_per_token() const {
    return backbone->forward_flops_per_token(kContext) +
           2.0 * double(backbone->options().d_model * kVocab);
  }
};

void BM_Forward(benchmark::State& state, const std::string& kind) {
  LanguageModel model(kind);
  at::NoGradGuard no_grad;
  for (int i = 0; i < 2; ++i) {  // check and warm up
    if (!finite(model.loss())) {
      state.SkipWithError("the loss is not finite");
      return;
    }
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(model.loss().item<float>());
  report(state, double(kBatch * kContext), model.forward_flops_per_token());
  state.counters["parameters"] = double(count(model.parameters));
}

void BM_ForwardBackward(benchmark::State& state, const std::string& kind) {
  LanguageModel model(kind);
  for (int i = 0; i < 2; ++i) {  // check and warm up
    clear_gradients(model.parameters);
    model.loss().backward();
    if (const auto problem = gradient_problem(model.parameters); !problem.empty()) {
      state.SkipWithError(problem.c_str());
      return;
    }
  }
  for (auto _ : state) {
    clear_gradients(model.parameters);
    model.loss().backward();
  }
  report(state, double(kBatch * kContext), 3.0 * model.forward_flops_per_token());
  state.counters["parameters"] = double(count(model.parameters));
}

// Forward, backward and an AdamW step (PyTorch's defaults, lr 1e-3).
void BM_TrainStep(benchmark::State& state, const std::string& kind) {
  LanguageModel model(kind);
  torch::optim::AdamW optimizer(model.parameters, torch::optim::AdamWOptions(1e-3));
  const auto step = [&] {
    optimizer.zero_grad();
    at::Tensor loss = model.loss();
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  };
  const float first = step();  // check (the loss falls on a fixed batch) and warm up
  step();
  const float third = step();
  if (!(third < first)) {
    state.SkipWithError("three AdamW steps on one batch did not lower the loss");
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(step());
  report(state, double(kBatch * kContext), 3.0 * model.forward_flops_per_token());
  state.counters["parameters"] = double(count(model.parameters));
}

// One block of the small decoder, or its self-attention: `layer` maps (B, T, E) inputs to
// (B, T, E); backward from sum(y * g) with a fixed random g.
void time_layer(benchmark::State& state, const std::function<at::Tensor(const at::Tensor&)>& layer,
                std::vector<at::Tensor> parameters, std::int64_t context, bool backward,
                double flops_per_token) {
  const std::int64_t E = 256;
  const at::Tensor x = at::randn({kBatch, context, E});
  const at::Tensor g = at::randn({kBatch, context, E});
  const auto run = [&] {
    if (backward) {
      clear_gradients(parameters);
      (layer(x) * g).sum().backward();
      return at::Tensor();
    }
    at::NoGradGuard no_grad;
    return layer(x);
  };
  for (int i = 0; i < 2; ++i) {  // check and warm up
    const at::Tensor y = run();
    const std::string problem =
        backward ? gradient_problem(parameters) : (finite(y) ? "" : "the output is not finite");
    if (!problem.empty()) {
      state.SkipWithError(problem.c_str());
      return;
    }
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(run());
  report(state, double(kBatch * context), (backward ? 3.0 : 1.0) * flops_per_token);
}

void BM_Block(benchmark::State& state, bool backward) {
  const auto options = build_small("decoder")->options();
  nn::TransformerBlock block(arch::block_options(options, /*cross_attention=*/false));
  const double flops =
      2.0 * double(count(block->parameters())) + 2.0 * double(kContext * options.d_model);
  time_layer(
      state,
      [&](const at::Tensor& x) {
        return block(x, nn::BlockContext{.self_mask = {.causal = true}});
      },
      block->parameters(), kContext, backward, flops);
}

void BM_Attention(benchmark::State& state, bool backward) {
  const std::int64_t E = 256, context = state.range(0);
  nn::MultiHeadAttention attention(nn::AttentionOptions{.d_model = E, .n_heads = 4});
  const double flops = 2.0 * double(count(attention->parameters())) + 2.0 * double(context * E);
  time_layer(
      state, [&](const at::Tensor& x) { return attention(x, nn::AttentionMask{.causal = true}); },
      attention->parameters(), context, backward, flops);
}

// Writes a Chrome trace (chrome://tracing) of two forward+backward passes of the decoder to
// `path`, after one unprofiled pass to warm up.
void profile_decoder(const std::string& path) {
  LanguageModel model("decoder");
  model.loss().backward();
  torch::autograd::profiler::RecordProfile profile(path);
  for (int i = 0; i < 2; ++i) {
    clear_gradients(model.parameters);
    model.loss().backward();
  }
}

// The value of --NAME=VALUE, or `fallback`; the flag is removed from argv before Google
// Benchmark parses the rest.
std::string take_flag(int& argc, char** argv, std::string_view name, std::string fallback) {
  const std::string prefix = "--" + std::string(name) + "=";
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]).starts_with(prefix)) {
      fallback = argv[i] + prefix.size();
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  // --threads=N: LibTorch's intra-op threads (default 2). --profile=FILE: only write a trace of
  // the decoder's forward+backward (profile_decoder) and exit.
  const int threads = std::atoi(take_flag(argc, argv, "threads", "2").c_str());
  const std::string profile = take_flag(argc, argv, "profile", "");
  if (threads < 1) {
    std::fprintf(stderr, "--threads must be a positive integer\n");
    return 2;
  }
  at::set_num_threads(threads);
  if (!profile.empty()) {
    profile_decoder(profile);
    return 0;
  }
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));

  const auto add = [](const std::string& name, auto function, auto argument) {
    return benchmark::RegisterBenchmark(name.c_str(), function, argument)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  };
  add("Block/forward", BM_Block, false);
  add("Block/forward_backward", BM_Block, true);
  for (const std::string kind : {"encoder", "decoder", "encoder_decoder"}) {
    add("Forward/" + kind, BM_Forward, kind);
    add("ForwardBackward/" + kind, BM_ForwardBackward, kind);
  }
  add("TrainStep/decoder", BM_TrainStep, std::string("decoder"));
  add("Attention/forward", BM_Attention, false)->Arg(128)->Arg(256)->Arg(512);
  add("Attention/forward_backward", BM_Attention, true)->Arg(128)->Arg(256)->Arg(512);

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
