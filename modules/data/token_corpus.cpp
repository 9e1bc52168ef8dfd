#include "data/token_corpus.h"

#include <algorithm>

namespace sslx::data {

std::int64_t TokenCorpus::token_count() const {
  std::int64_t total = 0;
  for (std::int64_t d = 0; d < document_count(); ++d)
    total += document_length(d);
  return total;
}

void InMemoryCorpus::copy_tokens(std::int64_t document, std::int64_t begin, std::int64_t count,
                                 TokenId* out) const {
  const auto& tokens = documents_.at(document);
  std::copy_n(tokens.begin() + begin, count, out);
}

}  // namespace sslx::data
