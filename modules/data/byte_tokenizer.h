// A byte-level tokenizer: no training, every text encodes losslessly.
// Ids: 0 <pad>, 1 <s> (bos), 2 </s> (eos), 3 <unk>, 4 <mask>, 5 <cls>, 6 <sep>, then the 256
// bytes (7 + byte), then the sentinels at the top (<extra_id_0> = vocab_size - 1).
#pragma once

#include "data/tokenizer.h"

namespace sslx::data {

class ByteTokenizer : public Tokenizer {
 public:
  static constexpr TokenId kFirstByte = 7;
  explicit ByteTokenizer(std::int32_t sentinel_count = 100);

  std::vector<TokenId> encode(std::string_view text) const override;
  std::string decode(const std::vector<TokenId>& ids) const override;
  std::int32_t vocab_size() const override { return specials_.vocab_size; }
  const SpecialTokens& specials() const override { return specials_; }
  std::string fingerprint() const override;
  std::string name() const override { return "byte"; }

 private:
  SpecialTokens specials_;
};

}  // namespace sslx::data
