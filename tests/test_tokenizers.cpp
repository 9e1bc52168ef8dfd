#include <catch2/catch.hpp>

#include "data/byte_tokenizer.h"
#include "data/sentencepiece_tokenizer.h"
#include "support.h"
#include "util/error.h"

using namespace sslx;
using namespace sslx::data;

TEST_CASE("byte tokenizer: lossless round trip, specials and T5-style sentinels") {
  const ByteTokenizer tokenizer(100);
  const std::string text = "naïve café — 日本語\n%";
  const auto ids = tokenizer.encode(text);
  CHECK(ids.size() == text.size());
  CHECK(tokenizer.decode(ids) == text);
  const auto& specials = tokenizer.specials();
  CHECK(tokenizer.vocab_size() == 7 + 256 + 100);
  CHECK(specials.sentinel(0) == tokenizer.vocab_size() - 1);
  CHECK(specials.sentinel(99) == tokenizer.vocab_size() - 100);
  CHECK(tokenizer.decode({specials.sentinel(0), specials.sentinel(3), specials.require_mask()}) ==
        "<extra_id_0><extra_id_3><mask>");
  CHECK(specials.is_special(specials.require_pad()));
  CHECK_FALSE(specials.is_special(ByteTokenizer::kFirstByte + 'a'));
  CHECK_THROWS_WITH(specials.sentinel(100), Catch::Contains("has 100 sentinels"));
}

TEST_CASE("a tokenizer without a required special token says which") {
  SpecialTokens specials{.tokenizer_name = "custom.model"};
  CHECK_THROWS_WITH(specials.require_mask(),
                    Catch::Contains("tokenizer custom.model has no mask token"));
}

TEST_CASE("SentencePiece: trains through the isolated bridge, encodes and decodes") {
  test::TempDir dir;
  std::string corpus;
  for (int i = 0; i < 400; ++i) {
    corpus += "the quick brown fox " + std::to_string(i % 37) + " jumps over the lazy dog\n";
    corpus += "a stitch in time saves nine, said the tailor number " + std::to_string(i) + "\n";
  }
  test::write_file(dir / "corpus.txt", corpus);
  for (const char* type : {"unigram", "bpe"}) {
    const auto prefix = dir / type;
    train_sentencepiece({.input = dir / "corpus.txt",
                         .model_prefix = prefix,
                         .vocab_size = 400,
                         .model_type = type});
    const SentencePieceTokenizer tokenizer(prefix.string() + ".model", 10);
    const auto& specials = tokenizer.specials();
    CHECK(specials.require_pad() == 0);
    CHECK(specials.require_unk() == 1);
    CHECK(specials.require_bos() == 2);
    CHECK(specials.require_eos() == 3);
    CHECK(specials.require_mask() == 4);
    CHECK(specials.require_sep() == 6);
    CHECK(specials.sentinel(0) == tokenizer.vocab_size() - 1);
    const std::string text = "the lazy tailor jumps";
    const auto ids = tokenizer.encode(text);
    CHECK(ids.size() < text.size());  // pieces, not characters
    CHECK(tokenizer.decode(ids) == text);
    // Byte fallback: characters never seen in training survive the round trip.
    CHECK(tokenizer.decode(tokenizer.encode("Zürich ☃")) == "Zürich ☃");
    auto with_specials = ids;
    with_specials.push_back(specials.sentinel(2));
    with_specials.push_back(specials.require_eos());
    CHECK(tokenizer.decode(with_specials) == text + "<extra_id_2></s>");
  }
}

TEST_CASE("SentencePiece: a missing or broken model file is a clear error") {
  test::TempDir dir;
  CHECK_THROWS_WITH(SentencePieceTokenizer(dir / "none.model", 0),
                    Catch::Contains("does not exist"));
  test::write_file(dir / "bad.model", "not a model");
  CHECK_THROWS_WITH(SentencePieceTokenizer(dir / "bad.model", 0),
                    Catch::Contains("cannot load SentencePiece model"));
}

TEST_CASE("SentencePiece: a model made with other conventions maps what it has, and only that") {
  test::TempDir dir;
  std::string corpus;
  for (int i = 0; i < 300; ++i)
    corpus += "plain sentence " + std::to_string(i) + " here\n";
  test::write_file(dir / "corpus.txt", corpus);
  train_sentencepiece({.input = dir / "corpus.txt",
                       .model_prefix = dir / "other",
                       .vocab_size = 350,
                       .sslx_specials = false});
  const SentencePieceTokenizer tokenizer(dir / "other.model", 0);
  const auto& specials = tokenizer.specials();
  CHECK(specials.require_unk() == 0);  // SentencePiece's defaults
  CHECK(specials.require_bos() == 1);
  CHECK(specials.require_eos() == 2);
  CHECK_FALSE(specials.pad.has_value());
  CHECK_THROWS_WITH(specials.require_mask(), Catch::Contains("has no mask token"));
  CHECK(tokenizer.decode(tokenizer.encode("plain sentence 7")) == "plain sentence 7");
}
