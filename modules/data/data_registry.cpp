#include "data/data_registry.h"

namespace sslx::data {

TokenizerRegistry& tokenizer_registry() {
  static TokenizerRegistry registry("tokenizer", "tokenizer", "tokenizer", "byte");
  return registry;
}

CorpusRegistry& corpus_registry() {
  static CorpusRegistry registry("corpus", "where LM documents come from", "data", "fortunes",
                                 "source");
  return registry;
}

void register_builtin_data() {
  if (tokenizer_registry().contains("byte")) return;
  register_builtin_tokenizers();
  register_builtin_corpora();
}

}  // namespace sslx::data
