// A configured corpus: where LM documents come from ([data] section, chosen by `source`).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/document.h"
#include "data/token_corpus.h"

namespace sslx::data {

class CorpusSource {
 public:
  virtual ~CorpusSource() = default;
  // Text documents; problems that the configuration allows to skip are counted in `skips`.
  virtual std::vector<Document> read(SkipReport& skips) const = 0;
  // Every option that changes the documents, for cache keys.
  virtual std::string settings() const = 0;
};

// Sources that produce token ids directly (synthetic data), bypassing the tokenizer.
class TokenSource : public CorpusSource {
 public:
  std::vector<Document> read(SkipReport&) const override { return {}; }
  virtual InMemoryCorpus documents() const = 0;
  virtual double entropy_rate() const = 0;  // nats per token
};

}  // namespace sslx::data
