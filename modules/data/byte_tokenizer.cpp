#include "data/byte_tokenizer.h"

#include "util/error.h"

namespace sslx::data {

ByteTokenizer::ByteTokenizer(std::int32_t sentinel_count) {
  if (sentinel_count < 0) throw Error("byte tokenizer: sentinel count must be >= 0");
  specials_ = SpecialTokens{.pad = 0,
                            .bos = 1,
                            .eos = 2,
                            .unk = 3,
                            .mask = 4,
                            .cls = 5,
                            .sep = 6,
                            .sentinel_count = sentinel_count,
                            .vocab_size = kFirstByte + 256 + sentinel_count,
                            .tokenizer_name = "byte"};
}

std::vector<TokenId> ByteTokenizer::encode(std::string_view text) const {
  std::vector<TokenId> ids;
  ids.reserve(text.size());
  for (unsigned char byte : text)
    ids.push_back(kFirstByte + byte);
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<TokenId>& ids) const {
  static const char* const kNames[] = {"<pad>", "<s>", "</s>", "<unk>", "<mask>", "<cls>", "<sep>"};
  std::string text;
  for (TokenId id : ids) {
    if (id >= 0 && id < kFirstByte) {
      text += kNames[id];
    } else if (id >= kFirstByte && id < kFirstByte + 256) {
      text += static_cast<char>(id - kFirstByte);
    } else if (id >= kFirstByte + 256 && id < vocab_size()) {
      text += "<extra_id_" + std::to_string(vocab_size() - 1 - id) + ">";
    } else {
      throw Error("byte tokenizer: id " + std::to_string(id) + " is outside the vocabulary of " +
                  std::to_string(vocab_size()));
    }
  }
  return text;
}

std::string ByteTokenizer::fingerprint() const {
  return "byte-v1-sentinels" + std::to_string(specials_.sentinel_count);
}

}  // namespace sslx::data
