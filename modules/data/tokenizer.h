// The tokenizer interface: text <-> token ids, plus its special tokens and a fingerprint that
// identifies it in cache keys (same fingerprint => same ids for every text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/special_tokens.h"

namespace sslx::data {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  // Ids of `text`, without bos/eos: callers add the specials their format needs.
  virtual std::vector<TokenId> encode(std::string_view text) const = 0;
  // Text of `ids`; special tokens are written as their names (<pad>, <extra_id_3>, ...).
  virtual std::string decode(const std::vector<TokenId>& ids) const = 0;
  virtual std::int32_t vocab_size() const = 0;
  virtual const SpecialTokens& specials() const = 0;
  virtual std::string fingerprint() const = 0;
  virtual std::string name() const = 0;
};

}  // namespace sslx::data
