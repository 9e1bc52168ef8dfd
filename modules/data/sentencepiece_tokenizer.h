// SentencePiece (unigram or BPE) through the isolated bridge library. Sentinels are appended
// after the model's pieces as T5 does (<extra_id_0> = vocab_size - 1), so any .model file made by
// other tools works; the other special tokens are looked up by their usual pieces (<pad>, <s>,
// </s>, <unk>, <mask>, <cls>, <sep>) and are absent when the model lacks them.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "data/tokenizer.h"

namespace sslx::data {

struct SentencePieceTrainOptions {
  std::filesystem::path input;         // text, one sentence per line
  std::filesystem::path model_prefix;  // writes <prefix>.model and <prefix>.vocab
  std::int32_t vocab_size = 8000;
  std::string model_type = "unigram";  // or "bpe"
  std::int64_t max_sentences = 2000000;
  // false: SentencePiece's own defaults (unk 0, bos 1, eos 2, no pad/mask/cls/sep), as models
  // made by other tools usually have.
  bool sslx_specials = true;
};

// Trains a model whose specials match sslx's conventions: pad 0, unk 1, bos 2, eos 3, then the
// user-defined <mask>, <cls>, <sep>; byte fallback so that no text is lost to <unk>.
void train_sentencepiece(const SentencePieceTrainOptions& options);

class SentencePieceTokenizer : public Tokenizer {
 public:
  SentencePieceTokenizer(const std::filesystem::path& model, std::int32_t sentinel_count);
  ~SentencePieceTokenizer() override;

  std::vector<TokenId> encode(std::string_view text) const override;
  std::string decode(const std::vector<TokenId>& ids) const override;
  std::int32_t vocab_size() const override { return specials_.vocab_size; }
  const SpecialTokens& specials() const override { return specials_; }
  std::string fingerprint() const override { return fingerprint_; }
  std::string name() const override { return "sentencepiece"; }
  const std::filesystem::path& model_path() const { return model_; }

 private:
  std::filesystem::path model_;
  void* processor_ = nullptr;
  std::int32_t piece_count_ = 0;
  SpecialTokens specials_;
  std::string fingerprint_;
};

}  // namespace sslx::data
