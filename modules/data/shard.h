// Token shard files: the tokenized documents of one split, memory-mapped at training time.
//
// Layout (little-endian): a 64-byte header
//   magic "SSLXTOK1", u32 format version (1), u32 bytes per token (2 when the vocabulary fits in
//   uint16, else 4), u64 tokens, u64 documents, u64 byte offset of the document offsets, u64 vocab
//   size, 16 bytes reserved;
// then the tokens; then (8-byte aligned) documents + 1 u64 token offsets.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/token_corpus.h"

namespace sslx::data {

// Writes `corpus` to `path` atomically (temporary file, then rename).
void write_shard(const std::filesystem::path& path, const TokenCorpus& corpus,
                 std::int32_t vocab_size);

class TokenShard : public TokenCorpus {
 public:
  explicit TokenShard(const std::filesystem::path& path);
  ~TokenShard() override;
  TokenShard(const TokenShard&) = delete;
  TokenShard& operator=(const TokenShard&) = delete;

  std::int64_t document_count() const override { return documents_; }
  std::int64_t document_length(std::int64_t document) const override;
  void copy_tokens(std::int64_t document, std::int64_t begin, std::int64_t count,
                   TokenId* out) const override;
  std::int32_t vocab_size() const { return vocab_size_; }
  int bytes_per_token() const { return bytes_per_token_; }

 private:
  std::filesystem::path path_;
  void* mapping_ = nullptr;
  std::size_t mapped_size_ = 0;
  const unsigned char* tokens_ = nullptr;
  const std::uint64_t* offsets_ = nullptr;
  std::int64_t documents_ = 0;
  std::int32_t vocab_size_ = 0;
  int bytes_per_token_ = 0;
};

}  // namespace sslx::data
