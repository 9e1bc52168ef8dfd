#include "data/lm_data.h"

#include "data/data_registry.h"
#include "util/console.h"
#include "util/error.h"

namespace sslx::data {

using config::Node;

namespace {

// The configured source and what it read: documents for text sources, nothing for synthetic ones.
struct SourceRead {
  std::unique_ptr<CorpusSource> source;
  std::vector<Document> documents;
  SkipReport skips;
  SplitFractions fractions;
  std::filesystem::path cache_dir;
};

SourceRead read_source(const config::Node& config) {
  const Node& data = config.at_path("data");
  SourceRead read{.source = corpus_registry().create(data),
                  .fractions = {.validation = data.get_float("val_fraction"),
                                .test = data.get_float("test_fraction")},
                  .cache_dir = data.get_string("cache_dir")};
  if (dynamic_cast<const TokenSource*>(read.source.get()) == nullptr) {
    read.documents = read.source->read(read.skips);
    if (!read.skips.summary().empty()) console::warning(read.skips.summary());
  }
  return read;
}

std::unique_ptr<Tokenizer> make_tokenizer(const config::Node& config, const SourceRead& read) {
  const TokenizerContext context{
      .training_documents =
          [&read] {
            // The tokenizer learns from the train split only: validation text stays unseen.
            std::vector<Document> train;
            for (const auto& document : read.documents) {
              if (split_of(document.text, read.fractions) == Split::kTrain)
                train.push_back(document);
            }
            if (train.empty()) {
              throw Error("cannot train a tokenizer: the [data] corpus has no training text",
                          "synthetic sources produce token ids; use tokenizer=byte with them");
            }
            return train;
          },
      .cache_dir = read.cache_dir};
  return tokenizer_registry().create(config.at_path("tokenizer"), context);
}

}  // namespace

bool vocabulary_depends_on_corpus(const config::Node& tokenizer) {
  const config::Node* model = tokenizer.find("model");
  return tokenizer.get_string("name") == "sentencepiece" && model != nullptr &&
         model->is_string() && model->as_string().empty();
}

std::unique_ptr<Tokenizer> build_tokenizer(const config::Node& config) {
  // A tokenizer that does not learn from the corpus needs no [data]: the corpus is not read (a
  // model folder written by `sslx import` has no [data] at all).
  if (!vocabulary_depends_on_corpus(config.at_path("tokenizer"))) {
    const TokenizerContext context{.training_documents = []() -> std::vector<Document> {
      throw Error("this tokenizer does not learn from a corpus");
    }};
    return tokenizer_registry().create(config.at_path("tokenizer"), context);
  }
  return make_tokenizer(config, read_source(config));
}

LmData prepare_lm_data(const config::Node& config) {
  SourceRead read = read_source(config);
  LmData result;
  result.tokenizer = make_tokenizer(config, read);
  result.skips = read.skips;
  if (const auto* synthetic = dynamic_cast<const TokenSource*>(read.source.get())) {
    InMemoryCorpus parts[3];
    const InMemoryCorpus all = synthetic->documents();
    std::vector<TokenId> tokens;
    for (std::int64_t d = 0; d < all.document_count(); ++d) {
      tokens.resize(static_cast<std::size_t>(all.document_length(d)));
      all.copy_tokens(d, 0, all.document_length(d), tokens.data());
      if (!tokens.empty() && tokens.back() >= result.tokenizer->vocab_size()) {
        throw Error("the synthetic source emits ids beyond the vocabulary of " +
                        result.tokenizer->name() + " (" +
                        std::to_string(result.tokenizer->vocab_size()) + ")",
                    "use tokenizer=byte with synthetic sources");
      }
      const Split split = split_of("doc" + std::to_string(d), read.fractions);
      parts[static_cast<int>(split)].add(tokens);
    }
    result.corpus.train = std::make_unique<InMemoryCorpus>(std::move(parts[0]));
    result.corpus.validation = std::make_unique<InMemoryCorpus>(std::move(parts[1]));
    result.corpus.test = std::make_unique<InMemoryCorpus>(std::move(parts[2]));
    result.entropy_rate = synthetic->entropy_rate();
    return result;
  }
  for (const auto& document : read.documents) {
    if (document.label) ++result.label_counts[*document.label];
  }
  result.corpus = prepare_shards(read.documents, *result.tokenizer, read.cache_dir, read.fractions,
                                 read.source->settings());
  return result;
}

}  // namespace sslx::data
