#include <catch2/catch.hpp>

#include "data/byte_tokenizer.h"
#include "data/shard.h"
#include "data/shard_cache.h"
#include "data/split.h"
#include "support.h"
#include "util/error.h"

using namespace sslx;
using namespace sslx::data;

namespace {
std::vector<Document> documents(int count, const std::string& prefix = "document ") {
  std::vector<Document> result;
  for (int i = 0; i < count; ++i)
    result.push_back({.text = prefix + std::to_string(i)});
  return result;
}

std::vector<TokenId> tokens_of(const TokenCorpus& corpus, std::int64_t document) {
  std::vector<TokenId> tokens(static_cast<std::size_t>(corpus.document_length(document)));
  corpus.copy_tokens(document, 0, corpus.document_length(document), tokens.data());
  return tokens;
}
}  // namespace

TEST_CASE("shards round-trip through memory mapping, uint16 and uint32 alike") {
  test::TempDir dir;
  InMemoryCorpus corpus({{1, 2, 3}, {}, {65535, 0}, {7}});
  write_shard(dir / "small.tokens", corpus, 65536);
  const TokenShard narrow(dir / "small.tokens");
  CHECK(narrow.bytes_per_token() == 2);
  REQUIRE(narrow.document_count() == 4);
  CHECK(tokens_of(narrow, 2) == std::vector<TokenId>{65535, 0});
  CHECK(narrow.document_length(1) == 0);

  InMemoryCorpus wide_corpus({{70000, 1}, {99999}});
  write_shard(dir / "wide.tokens", wide_corpus, 100000);
  const TokenShard wide(dir / "wide.tokens");
  CHECK(wide.bytes_per_token() == 4);
  CHECK(tokens_of(wide, 0) == std::vector<TokenId>{70000, 1});

  CHECK_THROWS_WITH(write_shard(dir / "x.tokens", wide_corpus, 100), Catch::Contains("outside"));
  test::write_file(dir / "junk.tokens", std::string(100, 'x'));
  CHECK_THROWS_WITH(TokenShard(dir / "junk.tokens"), Catch::Contains("not a valid"));
}

TEST_CASE("the split depends on the document alone and is stable when documents are added") {
  const SplitFractions fractions{.validation = 0.1, .test = 0.1};
  int counts[3] = {};
  for (const auto& document : documents(5000))
    ++counts[static_cast<int>(split_of(document.text, fractions))];
  // Binomial(5000, 0.1): standard deviation ~21; 5 sigma bounds.
  CHECK(counts[1] > 390);
  CHECK(counts[1] < 610);
  CHECK(counts[2] > 390);
  CHECK(counts[2] < 610);
  CHECK(split_of("document 42", fractions) == split_of("document 42", fractions));
}

TEST_CASE("the shard cache: a hit for unchanged content, a rebuild for changed content") {
  test::TempDir dir;
  const ByteTokenizer tokenizer;
  const SplitFractions fractions{.validation = 0.2, .test = 0.2};
  auto docs = documents(200);
  const auto first = prepare_shards(docs, tokenizer, dir.path(), fractions, "s");
  CHECK_FALSE(first.reused);
  const auto second = prepare_shards(docs, tokenizer, dir.path(), fractions, "s");
  CHECK(second.reused);
  CHECK(second.directory == first.directory);
  std::int64_t total = 0;
  for (auto split : {Split::kTrain, Split::kValidation, Split::kTest}) {
    total += second.statistics(split).documents;
  }
  CHECK(total == 200);
  // Every validation document of the cache is a validation document by hash.
  const auto& validation = second.split(Split::kValidation);
  for (std::int64_t d = 0; d < validation.document_count(); ++d) {
    const auto text = tokenizer.decode(tokens_of(validation, d));
    CHECK(split_of(text, fractions) == Split::kValidation);
  }

  docs[17].text += " (edited)";
  const auto changed = prepare_shards(docs, tokenizer, dir.path(), fractions, "s");
  CHECK_FALSE(changed.reused);
  CHECK(changed.directory != first.directory);
  CHECK_FALSE(prepare_shards(documents(200), tokenizer, dir.path(), fractions, "other").reused);
  CHECK_THROWS_WITH(prepare_shards({}, tokenizer, dir.path(), fractions, "s"),
                    Catch::Contains("the corpus is empty"));
}
