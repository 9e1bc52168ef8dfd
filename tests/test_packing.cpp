#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "data/batching.h"
#include "data/packing.h"
#include "data/sampler.h"

using namespace sslx::data;

TEST_CASE("packing: EOS after each document, segment and position ids restart per document") {
  constexpr TokenId kEos = 99;
  const InMemoryCorpus corpus({{1, 2, 3}, {4, 5}, {6, 7, 8, 9}});
  // Stream: 1 2 3 E 4 5 E 6 7 8 9 E  (12 tokens) -> three blocks of 4.
  const PackedBlocks blocks(corpus, kEos, 4);
  REQUIRE(blocks.size() == 3);
  const auto b0 = blocks.block(0);
  CHECK(b0.tokens == std::vector<TokenId>{1, 2, 3, kEos});
  CHECK(b0.segment_ids == std::vector<std::int32_t>{0, 0, 0, 0});
  CHECK(b0.position_ids == std::vector<std::int32_t>{0, 1, 2, 3});
  const auto b1 = blocks.block(1);
  CHECK(b1.tokens == std::vector<TokenId>{4, 5, kEos, 6});
  CHECK(b1.segment_ids == std::vector<std::int32_t>{0, 0, 0, 1});
  CHECK(b1.position_ids == std::vector<std::int32_t>{0, 1, 2, 0});
  const auto b2 = blocks.block(2);
  CHECK(b2.tokens == std::vector<TokenId>{7, 8, 9, kEos});
  // Continues document 3, positions restarting in the block (they stay below the block length).
  CHECK(b2.position_ids == std::vector<std::int32_t>{0, 1, 2, 3});

  // A block spanning several short documents; the partial tail block is dropped.
  const PackedBlocks wide(corpus, kEos, 5);
  REQUIRE(wide.size() == 2);
  CHECK(wide.block(1).tokens == std::vector<TokenId>{5, kEos, 6, 7, 8});
  CHECK(wide.block(1).segment_ids == std::vector<std::int32_t>{0, 0, 1, 1, 1});
  CHECK_THROWS(wide.block(2));
}

TEST_CASE("padding keeps lengths - masks come from lengths even when pad equals EOS") {
  const auto batch = pad_batch({{5, 6, 2}, {7}}, /*pad=*/2);
  CHECK(batch.length == 3);
  CHECK(batch.tokens == std::vector<TokenId>{5, 6, 2, 7, 2, 2});
  CHECK_FALSE(batch.is_padding(0, 2));  // a real EOS, equal to the pad id
  CHECK(batch.is_padding(1, 1));
  LengthReport report;
  auto kept = apply_length_policy({{1, 2, 3}, {1}}, {.max_length = 2, .truncate = true}, report);
  CHECK(kept[0] == std::vector<TokenId>{1, 2});
  CHECK(report.truncated == 1);
  kept = apply_length_policy({{1, 2, 3}, {1}}, {.max_length = 2, .truncate = false}, report);
  CHECK(kept.size() == 1);
  CHECK(report.dropped == 1);
}

TEST_CASE("sampler: each epoch a permutation fixed by (seed, epoch) - exact restore") {
  Sampler sampler(10, 7);
  std::vector<std::int64_t> epoch0, epoch1;
  for (int i = 0; i < 10; ++i)
    epoch0.push_back(sampler.next());
  for (int i = 0; i < 10; ++i)
    epoch1.push_back(sampler.next());
  auto sorted = epoch0;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  CHECK(epoch0 != epoch1);
  CHECK(sampler.state() == SamplerState{1, 10});

  Sampler again(10, 7);
  for (int i = 0; i < 3; ++i)
    again.next();
  const SamplerState saved = again.state();
  std::vector<std::int64_t> continued;
  for (int i = 0; i < 12; ++i)
    continued.push_back(again.next());
  Sampler restored(10, 7);
  restored.restore(saved);
  for (int i = 0; i < 12; ++i)
    CHECK(restored.next() == continued[i]);
  // Another seed gives another order.
  Sampler other(10, 8);
  std::vector<std::int64_t> other_epoch;
  for (int i = 0; i < 10; ++i)
    other_epoch.push_back(other.next());
  CHECK(other_epoch != epoch0);
}

TEST_CASE("sampler: ranks get disjoint, equal shares") {
  std::vector<std::int64_t> seen;
  for (int rank = 0; rank < 3; ++rank) {
    Sampler sampler(10, 1, rank, 3);
    CHECK(sampler.items_per_epoch() == 3);
    for (int i = 0; i < 3; ++i)
      seen.push_back(sampler.next());
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  CHECK_THROWS_WITH(Sampler(2, 1, 0, 3), Catch::Contains("cannot feed 3 rank"));
}

TEST_CASE("sampler: ranks together draw the positions one process draws, at the same items") {
  // One process: the k-th draw of an epoch is position k of the permutation.
  Sampler single(12, 4);
  std::map<std::int64_t, std::int64_t> item_at;  // position -> item
  for (int k = 0; k < 12; ++k) {
    const std::int64_t item = single.next();
    CHECK(single.last_position() == k);
    item_at[k] = item;
  }
  // Two ranks: rank r's k-th draw is position 2k + r, holding the same item.
  std::set<std::int64_t> positions;
  for (int rank = 0; rank < 2; ++rank) {
    Sampler sampler(12, 4, rank, 2);
    for (int k = 0; k < 6; ++k) {
      const std::int64_t item = sampler.next();
      CHECK(sampler.last_position() == 2 * k + rank);
      CHECK(item_at.at(sampler.last_position()) == item);
      positions.insert(sampler.last_position());
    }
  }
  CHECK(positions.size() == 12);
}
