// Tokenizer throughput on the fortune corpus (MB/s of text encoded): sslx's SentencePiece
// tokenizer (through the isolated bridge) side by side with SentencePiece's C++ API called
// directly in the same process, and the byte tokenizer. The ratio bridge/direct is the cost of
// isolation. Compare the bytes_per_second columns.
#include <benchmark/benchmark.h>
#include <sentencepiece_processor.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "data/byte_tokenizer.h"
#include "data/labelled_corpus.h"
#include "data/sentencepiece_tokenizer.h"

namespace {

struct Fixture {
  std::vector<std::string> texts;
  std::int64_t bytes = 0;
  std::filesystem::path model;

  Fixture() {
    for (const auto& document : sslx::data::read_labelled_directory(
             sslx::data::kFortunesDirectory, sslx::data::fortune_task_classes(),
             sslx::data::Separator::kPercentLine)) {
      texts.push_back(document.text);
      bytes += static_cast<std::int64_t>(document.text.size());
    }
    const auto dir =
        std::filesystem::temp_directory_path() / ("sslx-bench-sp-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    {
      std::ofstream out(dir / "corpus.txt");
      for (const auto& text : texts)
        out << text << '\n';
    }
    sslx::data::train_sentencepiece(
        {.input = dir / "corpus.txt", .model_prefix = dir / "sp", .vocab_size = 8000});
    model = dir / "sp.model";
  }
};

const Fixture& fixture() {
  static const Fixture instance;
  return instance;
}

void BM_SentencePieceBridge(benchmark::State& state) {
  const auto& f = fixture();
  const sslx::data::SentencePieceTokenizer tokenizer(f.model, 100);
  std::int64_t tokens = 0;
  for (auto _ : state) {
    for (const auto& text : f.texts)
      tokens += static_cast<std::int64_t>(tokenizer.encode(text).size());
  }
  if (tokens == 0) state.SkipWithError("no tokens");
  state.SetBytesProcessed(state.iterations() * f.bytes);
}

void BM_SentencePieceDirect(benchmark::State& state) {
  const auto& f = fixture();
  sentencepiece::SentencePieceProcessor processor;
  if (!processor.Load(f.model.string()).ok()) state.SkipWithError("cannot load model");
  // Result check: the direct API and the bridge give the same ids.
  const sslx::data::SentencePieceTokenizer bridge(f.model, 100);
  std::vector<int> ids;
  processor.Encode(f.texts.front(), &ids);
  const auto via_bridge = bridge.encode(f.texts.front());
  if (std::vector<int>(via_bridge.begin(), via_bridge.end()) != ids) {
    state.SkipWithError("bridge and direct encodings differ");
  }
  for (auto _ : state) {
    for (const auto& text : f.texts) {
      processor.Encode(text, &ids);
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(state.iterations() * f.bytes);
}

void BM_ByteTokenizer(benchmark::State& state) {
  const auto& f = fixture();
  const sslx::data::ByteTokenizer tokenizer;
  for (auto _ : state) {
    for (const auto& text : f.texts)
      benchmark::DoNotOptimize(tokenizer.encode(text).data());
  }
  state.SetBytesProcessed(state.iterations() * f.bytes);
}

}  // namespace

BENCHMARK(BM_SentencePieceBridge)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SentencePieceDirect)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ByteTokenizer)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
