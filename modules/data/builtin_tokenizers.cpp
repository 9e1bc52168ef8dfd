// The built-in tokenizers: bytes, and SentencePiece (loaded, or trained on the corpus and cached
// by a hash of its training text and settings).
#include <fstream>

#include "data/byte_tokenizer.h"
#include "data/data_registry.h"
#include "data/sentencepiece_tokenizer.h"
#include "util/console.h"
#include "util/hash.h"

namespace sslx::data {

using config::Node;
using config::Schema;
using config::Type;

void register_builtin_tokenizers() {
  auto& registry = tokenizer_registry();
  Schema byte;
  byte.add({.key = "sentinels",
            .type = Type::kInt,
            .default_value = 100,
            .doc = "sentinel tokens <extra_id_k> at the top of the vocabulary",
            .min = 0});
  registry.add(
      "byte", "UTF-8 bytes, no training; every special token defined", byte,
      [](const Node& o, const TokenizerContext&) {
        return std::make_unique<ByteTokenizer>(static_cast<std::int32_t>(o.get_int("sentinels")));
      });

  Schema sp;
  sp.add({.key = "model",
          .type = Type::kString,
          .default_value = "",
          .doc = "a .model file; empty: train one on the corpus's train split (cached)"});
  sp.add({.key = "vocab_size",
          .type = Type::kInt,
          .default_value = 8000,
          .doc = "pieces to learn when training",
          .min = 16});
  sp.add({.key = "model_type",
          .type = Type::kString,
          .default_value = "unigram",
          .doc = "SentencePiece algorithm when training",
          .choices = {"unigram", "bpe"}});
  sp.add({.key = "sentinels",
          .type = Type::kInt,
          .default_value = 100,
          .doc = "sentinel tokens appended after the pieces (T5 style)",
          .min = 0});
  registry.add(
      "sentencepiece", "SentencePiece unigram or BPE, trained by sslx or loaded", sp,
      [](const Node& o, const TokenizerContext& context) -> std::unique_ptr<Tokenizer> {
        const auto sentinels = static_cast<std::int32_t>(o.get_int("sentinels"));
        if (!o.get_string("model").empty()) {
          return std::make_unique<SentencePieceTokenizer>(o.get_string("model"), sentinels);
        }
        const auto documents = context.training_documents();
        Hasher key;
        key.add(o.get_string("model_type"))
            .add(static_cast<std::uint64_t>(o.get_int("vocab_size")));
        for (const auto& document : documents)
          key.add(document.text);
        const auto directory = context.cache_dir / "tokenizers" / key.hex();
        const auto model = directory / "sp.model";
        if (!std::filesystem::is_regular_file(model)) {
          std::filesystem::create_directories(directory);
          const auto input = directory / "train.txt";
          {
            std::ofstream out(input);
            for (const auto& document : documents)
              out << document.text << '\n';
          }
          console::info("training a SentencePiece " + o.get_string("model_type") + " tokenizer (" +
                        std::to_string(o.get_int("vocab_size")) + " pieces) on " +
                        std::to_string(documents.size()) + " documents");
          train_sentencepiece({.input = input,
                               .model_prefix = directory / "sp",
                               .vocab_size = static_cast<std::int32_t>(o.get_int("vocab_size")),
                               .model_type = o.get_string("model_type")});
        }
        return std::make_unique<SentencePieceTokenizer>(model, sentinels);
      },
      [](const config::CheckContext& context) {
        const std::string& model = context.options().get_string("model");
        if (!model.empty() && !std::filesystem::is_regular_file(model))
          context.error("model", "no SentencePiece model file " + model);
      });
}

}  // namespace sslx::data
