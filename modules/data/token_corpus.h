// Documents as token ids: the interface packing and sampling work on, backed by memory (synthetic
// sources, tests) or by a memory-mapped shard file.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "data/special_tokens.h"

namespace sslx::data {

class TokenCorpus {
 public:
  virtual ~TokenCorpus() = default;
  virtual std::int64_t document_count() const = 0;
  virtual std::int64_t document_length(std::int64_t document) const = 0;
  // Copies the tokens [begin, begin + count) of a document into `out`.
  virtual void copy_tokens(std::int64_t document, std::int64_t begin, std::int64_t count,
                           TokenId* out) const = 0;
  std::int64_t token_count() const;
};

class InMemoryCorpus : public TokenCorpus {
 public:
  InMemoryCorpus() = default;
  explicit InMemoryCorpus(std::vector<std::vector<TokenId>> documents)
      : documents_(std::move(documents)) {}
  void add(std::vector<TokenId> document) { documents_.push_back(std::move(document)); }

  std::int64_t document_count() const override {
    return static_cast<std::int64_t>(documents_.size());
  }
  std::int64_t document_length(std::int64_t document) const override {
    return static_cast<std::int64_t>(documents_.at(document).size());
  }
  void copy_tokens(std::int64_t document, std::int64_t begin, std::int64_t count,
                   TokenId* out) const override;

 private:
  std::vector<std::vector<TokenId>> documents_;
};

}  // namespace sslx::data
