// Packing: documents concatenated with EOS after each one, cut into fixed-length blocks (the last
// partial block is dropped). Each block carries segment ids (which document of the block a token
// belongs to; its EOS belongs to it) and position ids restarting at every document start, so a
// model can keep attention inside documents and positions per document (docs/data.md). A document
// continued from the previous block restarts at position 0 too: the block cannot attend to its
// earlier part, and positions then stay below the block length (a document longer than the
// model's max_positions would otherwise index past the position table).
#pragma once

#include <cstdint>
#include <vector>

#include "data/token_corpus.h"

namespace sslx::data {

struct PackedBlock {
  std::vector<TokenId> tokens;             // (L)
  std::vector<std::int32_t> segment_ids;   // (L) 0, 0, ..., 1, 1, ... within the block
  std::vector<std::int32_t> position_ids;  // (L) offset within the document's piece in the block
};

class PackedBlocks {
 public:
  PackedBlocks(const TokenCorpus& corpus, TokenId eos, std::int64_t block_size);

  std::int64_t size() const { return blocks_; }
  std::int64_t block_size() const { return block_size_; }
  PackedBlock block(std::int64_t index) const;

 private:
  const TokenCorpus& corpus_;
  TokenId eos_;
  std::int64_t block_size_;
  std::int64_t blocks_ = 0;
  std::vector<std::int64_t> starts_;  // stream offset of each document (document + its EOS)
};

}  // namespace sslx::data
