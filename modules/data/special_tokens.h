// Special tokens are properties of a tokenizer, never magic numbers in objectives: an objective
// asks for the ones it needs (require_mask(), sentinel(k), ...) and gets a clear error naming the
// tokenizer when it lacks one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace sslx::data {

using TokenId = std::int32_t;

struct SpecialTokens {
  std::optional<TokenId> pad, bos, eos, unk, mask, cls, sep;
  // Sentinels <extra_id_k>, as in T5: <extra_id_0> is the highest id (vocab_size - 1) and ids
  // decrease with k.
  std::int32_t sentinel_count = 0;
  std::int32_t vocab_size = 0;
  std::string tokenizer_name;  // for error messages

  TokenId require_pad() const { return require(pad, "pad"); }
  TokenId require_bos() const { return require(bos, "bos"); }
  TokenId require_eos() const { return require(eos, "eos"); }
  TokenId require_unk() const { return require(unk, "unk"); }
  TokenId require_mask() const { return require(mask, "mask"); }
  TokenId require_cls() const { return require(cls, "cls"); }
  TokenId require_sep() const { return require(sep, "sep"); }
  TokenId sentinel(std::int32_t k) const;
  bool is_special(TokenId id) const;

 private:
  TokenId require(const std::optional<TokenId>& id, const char* name) const;
};

}  // namespace sslx::data
