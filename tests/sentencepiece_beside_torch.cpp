// Trains and uses a SentencePiece model in a process that has LibTorch (and its protobuf)
// loaded: the case that segfaults when SentencePiece is linked directly.
#include <dlfcn.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "data/sentencepiece_tokenizer.h"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  // Proof that LibTorch is really in this process, not dropped by the linker.
  if (dlopen("libtorch_cpu.so", RTLD_NOW | RTLD_NOLOAD) == nullptr) {
    std::cerr << "libtorch_cpu.so is not loaded: the test would prove nothing\n";
    return 1;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  {
    std::ofstream out(dir / "corpus.txt");
    for (int i = 0; i < 300; ++i)
      out << "sentence number " << i << " about tensors and pieces\n";
  }
  sslx::data::train_sentencepiece(
      {.input = dir / "corpus.txt", .model_prefix = dir / "m", .vocab_size = 400});
  const sslx::data::SentencePieceTokenizer tokenizer(dir / "m.model", 4);
  const std::string text = "pieces about tensors";
  const bool ok = tokenizer.decode(tokenizer.encode(text)) == text;
  std::cout << (ok ? "round trip ok" : "round trip FAILED") << '\n';
  return ok ? 0 : 1;
}
