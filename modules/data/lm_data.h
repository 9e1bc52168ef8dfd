// The one function that turns a validated config's [data] and [tokenizer] into a tokenizer and
// tokenized, split, cached LM data, through the registries of data_registry.h.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "config/node.h"
#include "data/corpus_source.h"
#include "data/shard_cache.h"
#include "data/tokenizer.h"

namespace sslx::data {

struct LmData {
  std::unique_ptr<Tokenizer> tokenizer;
  PreparedCorpus corpus;
  SkipReport skips;
  std::optional<double> entropy_rate;                // known for synthetic sources
  std::map<std::string, std::int64_t> label_counts;  // documents per label, for labelled sources
};

// Builds the tokenizer and the per-split token corpora described by a validated config.
LmData prepare_lm_data(const config::Node& config);
// Whether the vocabulary of a validated [tokenizer] table is learned from the [data] corpus (a
// SentencePiece tokenizer without a model file): two runs then share token ids only when they
// share both tables.
bool vocabulary_depends_on_corpus(const config::Node& tokenizer);

// Builds only the tokenizer (training a SentencePiece model on the corpus when it needs one).
std::unique_ptr<Tokenizer> build_tokenizer(const config::Node& config);

}  // namespace sslx::data
