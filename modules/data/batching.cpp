#include "data/batching.h"

#include <algorithm>

#include "util/error.h"

namespace sslx::data {

PaddedBatch pad_batch(const std::vector<std::vector<TokenId>>& sequences, TokenId pad) {
  PaddedBatch batch;
  batch.batch = static_cast<std::int64_t>(sequences.size());
  for (const auto& sequence : sequences) {
    batch.length = std::max<std::int64_t>(batch.length, static_cast<std::int64_t>(sequence.size()));
  }
  batch.tokens.assign(static_cast<std::size_t>(batch.batch * batch.length), pad);
  for (std::size_t row = 0; row < sequences.size(); ++row) {
    std::copy(sequences[row].begin(), sequences[row].end(),
              batch.tokens.begin() + static_cast<std::ptrdiff_t>(row * batch.length));
    batch.lengths.push_back(static_cast<std::int64_t>(sequences[row].size()));
  }
  return batch;
}

std::vector<std::vector<TokenId>> apply_length_policy(std::vector<std::vector<TokenId>> sequences,
                                                      const LengthPolicy& policy,
                                                      LengthReport& report) {
  if (policy.max_length < 1) throw Error("max_length must be at least 1");
  std::vector<std::vector<TokenId>> kept;
  kept.reserve(sequences.size());
  for (auto& sequence : sequences) {
    if (static_cast<std::int64_t>(sequence.size()) <= policy.max_length) {
      kept.push_back(std::move(sequence));
    } else if (policy.truncate) {
      sequence.resize(static_cast<std::size_t>(policy.max_length));
      kept.push_back(std::move(sequence));
      ++report.truncated;
    } else {
      ++report.dropped;
    }
  }
  return kept;
}

}  // namespace sslx::data
