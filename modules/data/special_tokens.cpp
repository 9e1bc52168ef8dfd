#include "data/special_tokens.h"

#include "util/error.h"

namespace sslx::data {

TokenId SpecialTokens::require(const std::optional<TokenId>& id, const char* name) const {
  if (!id) {
    throw Error("tokenizer " + tokenizer_name + " has no " + name + " token",
                "use a tokenizer that defines it (sslx's byte and trained SentencePiece "
                "tokenizers define every special token)");
  }
  return *id;
}

TokenId SpecialTokens::sentinel(std::int32_t k) const {
  if (k < 0 || k >= sentinel_count) {
    throw Error("tokenizer " + tokenizer_name + " has " + std::to_string(sentinel_count) +
                    " sentinels; sentinel " + std::to_string(k) + " was asked for",
                "fewer noise spans per example, or a tokenizer with more sentinels");
  }
  return vocab_size - 1 - k;
}

bool SpecialTokens::is_special(TokenId id) const {
  for (const auto& special : {pad, bos, eos, unk, mask, cls, sep}) {
    if (special && *special == id) return true;
  }
  return id >= vocab_size - sentinel_count && id < vocab_size;
}

}  // namespace sslx::data
