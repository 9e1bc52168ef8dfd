// SentencePiece model files: load (through sslx's bridge, as the tokenizer cache does), then
// encode and decode a sentence with whatever model loaded.
#include "data/sentencepiece_tokenizer.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto file = sslx::fuzz::write_input(sslx::fuzz::as_text(data, size), ".model");
  sslx::fuzz::expect_clean_errors([&] {
    const sslx::data::SentencePieceTokenizer tokenizer(file, 2);
    const auto ids = tokenizer.encode("A fortune: you will fuzz parsers.");
    (void)tokenizer.decode(ids);
    (void)tokenizer.vocab_size();
  });
  return 0;
}
