#include "data/packing.h"

#include <algorithm>

#include "util/error.h"

namespace sslx::data {

PackedBlocks::PackedBlocks(const TokenCorpus& corpus, TokenId eos, std::int64_t block_size)
    : corpus_(corpus), eos_(eos), block_size_(block_size) {
  if (block_size < 1) throw Error("block size must be at least 1");
  std::int64_t offset = 0;
  starts_.reserve(static_cast<std::size_t>(corpus.document_count()) + 1);
  for (std::int64_t d = 0; d < corpus.document_count(); ++d) {
    starts_.push_back(offset);
    offset += corpus.document_length(d) + 1;  // + EOS
  }
  starts_.push_back(offset);
  blocks_ = offset / block_size;
}

PackedBlock PackedBlocks::block(std::int64_t index) const {
  if (index < 0 || index >= blocks_) {
    throw Error("block " + std::to_string(index) + " out of range (" + std::to_string(blocks_) +
                " blocks)");
  }
  const std::int64_t begin = index * block_size_;
  const std::int64_t end = begin + block_size_;
  PackedBlock block;
  block.tokens.reserve(static_cast<std::size_t>(block_size_));
  // The document holding stream position `begin`.
  auto document = static_cast<std::int64_t>(
      std::upper_bound(starts_.begin(), starts_.end(), begin) - starts_.begin() - 1);
  std::int64_t position = begin;
  std::int32_t segment = 0;
  std::vector<TokenId> buffer;
  while (position < end) {
    const std::int64_t doc_start = starts_[document];
    const std::int64_t length = corpus_.document_length(document);
    const std::int64_t within = position - doc_start;  // 0..length (length = the EOS)
    const std::int64_t take = std::min(end - position, length + 1 - within);
    const std::int64_t from_text = std::min(take, length - within);
    if (from_text > 0) {
      buffer.resize(static_cast<std::size_t>(from_text));
      corpus_.copy_tokens(document, within, from_text, buffer.data());
      block.tokens.insert(block.tokens.end(), buffer.begin(), buffer.end());
    }
    if (take > from_text) block.tokens.push_back(eos_);
    for (std::int64_t i = 0; i < take; ++i) {
      block.segment_ids.push_back(segment);
      block.position_ids.push_back(static_cast<std::int32_t>(i));
    }
    position += take;
    ++document;
    ++segment;
  }
  return block;
}

}  // namespace sslx::data
