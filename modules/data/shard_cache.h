// Tokenized corpora cached on disk: documents are tokenized once, split by document hash and
// written as one shard per split under <cache>/shards/<key>/. The key hashes every document's
// text, the tokenizer's fingerprint and the settings, so changed input rebuilds and unchanged
// input is reused (whatever the file names or timestamps).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/document.h"
#include "data/shard.h"
#include "data/split.h"
#include "data/tokenizer.h"

namespace sslx::data {

struct SplitStatistics {
  std::int64_t documents = 0;
  std::int64_t tokens = 0;
};

// The token documents of each split: memory-mapped shards, or in memory for synthetic sources.
struct PreparedCorpus {
  std::filesystem::path directory;
  bool reused = false;  // true when the cache already held these shards
  std::unique_ptr<TokenCorpus> train, validation, test;
  SplitStatistics statistics(Split split) const;
  const TokenCorpus& split(Split split) const;
};

// `settings` describes every option that changes the result (it is part of the key).
PreparedCorpus prepare_shards(const std::vector<Document>& documents, const Tokenizer& tokenizer,
                              const std::filesystem::path& cache_root, SplitFractions fractions,
                              const std::string& settings);

}  // namespace sslx::data
