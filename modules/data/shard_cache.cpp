#include "data/shard_cache.h"

#include <unistd.h>

#include "util/console.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/hash.h"

namespace sslx::data {
namespace stdfs = std::filesystem;
namespace {

constexpr const char* kFormat = "sslx-shards-v1";

const char* file_name(Split split) {
  switch (split) {
    case Split::kTrain:
      return "train.tokens";
    case Split::kValidation:
      return "val.tokens";
    case Split::kTest:
      return "test.tokens";
  }
  return "";
}

void open_shards(PreparedCorpus& corpus) {
  corpus.train = std::make_unique<TokenShard>(corpus.directory / file_name(Split::kTrain));
  corpus.validation =
      std::make_unique<TokenShard>(corpus.directory / file_name(Split::kValidation));
  corpus.test = std::make_unique<TokenShard>(corpus.directory / file_name(Split::kTest));
}

}  // namespace

SplitStatistics PreparedCorpus::statistics(Split split) const {
  const TokenCorpus& corpus = this->split(split);
  return {corpus.document_count(), corpus.token_count()};
}

const TokenCorpus& PreparedCorpus::split(Split split) const {
  switch (split) {
    case Split::kTrain:
      return *train;
    case Split::kValidation:
      return *validation;
    case Split::kTest:
      return *test;
  }
  throw Error("unknown split");
}

PreparedCorpus prepare_shards(const std::vector<Document>& documents, const Tokenizer& tokenizer,
                              const stdfs::path& cache_root, SplitFractions fractions,
                              const std::string& settings) {
  if (documents.empty()) throw IoError("the corpus is empty: no document to tokenize");
  Hasher key;
  key.add(kFormat).add(tokenizer.fingerprint()).add(settings);
  key.add(static_cast<std::uint64_t>(fractions.validation * 1e12));
  key.add(static_cast<std::uint64_t>(fractions.test * 1e12));
  for (const auto& document : documents)
    key.add(document.text).add(std::uint64_t{0xff});

  PreparedCorpus corpus;
  corpus.directory = cache_root / "shards" / key.hex();
  if (stdfs::is_regular_file(corpus.directory / "meta.toml")) {
    corpus.reused = true;
    open_shards(corpus);
    return corpus;
  }

  InMemoryCorpus parts[3];
  console::Progress progress("tokenizing " + std::to_string(documents.size()) + " documents",
                             static_cast<std::int64_t>(documents.size()));
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const Split split = split_of(documents[i].text, fractions);
    parts[static_cast<int>(split)].add(tokenizer.encode(documents[i].text));
    if (i % 512 == 0) progress.update(static_cast<std::int64_t>(i));
  }
  progress.update(static_cast<std::int64_t>(documents.size()));

  // Built in a temporary directory and renamed: a crash never leaves a half cache behind.
  const stdfs::path temporary = corpus.directory.string() + ".tmp." + std::to_string(getpid());
  stdfs::remove_all(temporary);
  stdfs::create_directories(temporary);
  std::string meta = "format = \"" + std::string(kFormat) + "\"\ntokenizer = \"" +
                     tokenizer.fingerprint() +
                     "\"\nvocab_size = " + std::to_string(tokenizer.vocab_size()) + "\n";
  for (Split split : {Split::kTrain, Split::kValidation, Split::kTest}) {
    const InMemoryCorpus& part = parts[static_cast<int>(split)];
    write_shard(temporary / file_name(split), part, tokenizer.vocab_size());
    meta += "\n[" + to_string(split) + "]\ndocuments = " + std::to_string(part.document_count()) +
            "\ntokens = " + std::to_string(part.token_count()) + "\n";
  }
  fs::write_text_atomic(temporary / "meta.toml", meta);
  std::error_code ec;
  stdfs::rename(temporary, corpus.directory, ec);
  if (ec) {
    // Another process finished the same cache first: use its result.
    stdfs::remove_all(temporary);
    if (!stdfs::is_regular_file(corpus.directory / "meta.toml")) {
      throw IoError("cannot create shard cache " + corpus.directory.string() + ": " + ec.message());
    }
  }
  open_shards(corpus);
  progress.finish(std::to_string(corpus.train->token_count()) + " train tokens in " +
                  corpus.directory.string());
  return corpus;
}

}  // namespace sslx::data
