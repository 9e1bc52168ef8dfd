// Registries of the data module: tokenizers ([tokenizer], chosen by `name`) and corpus sources
// ([data], chosen by `source`). data/lm_data.h turns a config into tokenized, split, cached data.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>

#include "config/node.h"
#include "data/corpus_source.h"
#include "data/tokenizer.h"
#include "registry/registry.h"

namespace sslx::data {

// What a tokenizer factory may need beyond its options: SentencePiece trains itself on the
// corpus when no model file is given.
struct TokenizerContext {
  std::function<std::vector<Document>()> training_documents;
  std::filesystem::path cache_dir;
};

using TokenizerRegistry = registry::Registry<Tokenizer, const TokenizerContext&>;
using CorpusRegistry = registry::Registry<CorpusSource>;
TokenizerRegistry& tokenizer_registry();
CorpusRegistry& corpus_registry();

// Registers the built-in tokenizers and corpus sources once (builtin_tokenizers.cpp,
// corpus_sources.cpp).
void register_builtin_data();
void register_builtin_tokenizers();
void register_builtin_corpora();

}  // namespace sslx::data
