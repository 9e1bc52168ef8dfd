#include "data/data_registry.h"

#include <fstream>

#include "data/byte_tokenizer.h"
#include "data/jsonl_reader.h"
#include "data/labelled_corpus.h"
#include "data/markov_source.h"
#include "data/sentencepiece_tokenizer.h"
#include "data/text_reader.h"
#include "util/console.h"
#include "util/error.h"
#include "util/hash.h"
#include "util/strings.h"

namespace sslx::data {
namespace {

using config::Field;
using config::Node;
using config::Schema;
using config::Type;

std::vector<std::string> strings_of(const Node& node, const std::string& key) {
  std::vector<std::string> values;
  for (const auto& element : node.at_path(key).as_array())
    values.push_back(element.as_string());
  return values;
}

// Keys every source has: the split and where the token cache lives.
Schema with_common_fields(Schema schema) {
  schema.add({.key = "val_fraction",
              .type = Type::kFloat,
              .default_value = 0.05,
              .doc = "fraction of documents in the validation split (by document hash)",
              .min = 0.0,
              .max = 0.5});
  schema.add({.key = "test_fraction",
              .type = Type::kFloat,
              .default_value = 0.05,
              .doc = "fraction of documents in the test split (by document hash)",
              .min = 0.0,
              .max = 0.5});
  schema.add({.key = "cache_dir",
              .type = Type::kString,
              .default_value = "${env:SSLX_CACHE_DIR,.cache/sslx}",
              .doc = "where token shards and trained tokenizers are cached"});
  return schema;
}

class TextSource : public CorpusSource {
 public:
  explicit TextSource(const Node& options)
      : patterns_(strings_of(options, "files")), separator_name_(options.get_string("separator")) {}
  std::vector<Document> read(SkipReport&) const override {
    const Separator separator = parse_separator(separator_name_);
    std::vector<Document> documents;
    for (const auto& file : expand_paths(patterns_)) {
      auto part = read_text_documents(file, separator);
      documents.insert(documents.end(), part.begin(), part.end());
    }
    return documents;
  }
  std::string settings() const override { return "text:" + separator_name_; }

 private:
  std::vector<std::string> patterns_;
  std::string separator_name_;
};

class JsonlSource : public CorpusSource {
 public:
  explicit JsonlSource(const Node& options) : patterns_(strings_of(options, "files")) {
    options_.fields.text = options.get_string("text_field");
    options_.skip_malformed = options.get_bool("skip_malformed");
  }
  std::vector<Document> read(SkipReport& skips) const override {
    std::vector<Document> documents;
    for (const auto& file : expand_paths(patterns_)) {
      auto part = read_jsonl_documents(file, false, options_, skips);
      documents.insert(documents.end(), part.begin(), part.end());
    }
    return documents;
  }
  std::string settings() const override { return "jsonl:" + options_.fields.text; }

 private:
  std::vector<std::string> patterns_;
  JsonlOptions options_;
};

class FortunesSource : public CorpusSource {
 public:
  explicit FortunesSource(const Node& options)
      : directory_(options.get_string("directory")), classes_(strings_of(options, "classes")) {}
  std::vector<Document> read(SkipReport&) const override {
    return read_labelled_directory(directory_, classes_, Separator::kPercentLine);
  }
  std::string settings() const override { return "fortunes"; }

 private:
  std::filesystem::path directory_;
  std::vector<std::string> classes_;
};

class MarkovCorpus : public TokenSource {
 public:
  explicit MarkovCorpus(const Node& options)
      : source_({.states = static_cast<std::int32_t>(options.get_int("states")),
                 .concentration = options.get_float("concentration"),
                 .seed = static_cast<std::uint64_t>(options.get_int("seed")),
                 .first_id = ByteTokenizer::kFirstByte}),
        documents_(options.get_int("documents")),
        length_(options.get_int("document_length")) {}
  InMemoryCorpus documents() const override {
    InMemoryCorpus corpus;
    for (std::int64_t d = 0; d < documents_; ++d) {
      corpus.add(source_.sample(length_, static_cast<std::uint64_t>(d)));
    }
    return corpus;
  }
  double entropy_rate() const override { return source_.entropy_rate(); }
  std::string settings() const override { return "markov"; }

 private:
  MarkovSource source_;
  std::int64_t documents_;
  std::int64_t length_;
};

// Every pattern of `files` matches a file.
void check_files(const config::CheckContext& context) {
  const Node& files = context.options().at_path("files");
  for (const auto& pattern : files.as_array()) {
    try {
      expand_paths({pattern.as_string()});
    } catch (const Error& error) {
      context.error("files", error.what());
    }
  }
}

void check_directory(const config::CheckContext& context) {
  const std::string& directory = context.options().get_string("directory");
  if (!std::filesystem::is_directory(directory)) {
    context.error("directory", "no directory " + directory);
    return;
  }
  for (const auto& name : context.options().at_path("classes").as_array()) {
    if (!std::filesystem::is_regular_file(std::filesystem::path(directory) / name.as_string()))
      context.error("classes", "no class file " + name.as_string() + " in " + directory);
  }
}

void register_corpora() {
  auto& registry = corpus_registry();
  Schema text;
  text.add({.key = "files",
            .type = Type::kArray,
            .doc = "text files or glob patterns",
            .element_type = Type::kString});
  text.add({.key = "separator",
            .type = Type::kString,
            .default_value = "blank_line",
            .doc = "what separates documents",
            .choices = {"line", "blank_line", "percent_line"}});
  registry.add(
      "text", "plain-text files split into documents", with_common_fields(text),
      [](const Node& o) { return std::make_unique<TextSource>(o); }, check_files);

  Schema jsonl;
  jsonl.add({.key = "files",
             .type = Type::kArray,
             .doc = "JSONL files or glob patterns",
             .element_type = Type::kString});
  jsonl.add({.key = "text_field",
             .type = Type::kString,
             .default_value = "text",
             .doc = "the field holding each document's text"});
  jsonl.add({.key = "skip_malformed",
             .type = Type::kBool,
             .default_value = false,
             .doc = "count and skip malformed lines instead of stopping"});
  registry.add(
      "jsonl", "JSONL files with one {\"text\": ...} document per line", with_common_fields(jsonl),
      [](const Node& o) { return std::make_unique<JsonlSource>(o); }, check_files);

  Schema fortunes;
  fortunes.add({.key = "directory",
                .type = Type::kString,
                .default_value = kFortunesDirectory.string(),
                .doc = "directory of fortune files (Debian package `fortunes`)"});
  fortunes.add({.key = "classes",
                .type = Type::kArray,
                .default_value = Node(config::Array{}),
                .doc = "categories to read (empty: all)",
                .element_type = Type::kString});
  registry.add(
      "fortunes", "the fortune collection: entries split on % lines (the default corpus)",
      with_common_fields(fortunes),
      [](const Node& o) { return std::make_unique<FortunesSource>(o); }, check_directory);

  Schema markov;
  markov.add({.key = "states",
              .type = Type::kInt,
              .default_value = 16,
              .doc = "tokens of the chain (ids in the byte range of the byte tokenizer)",
              .min = 2,
              .max = 256});
  markov.add({.key = "concentration",
              .type = Type::kFloat,
              .default_value = 0.3,
              .doc = "Dirichlet concentration of transition rows (small: low entropy)",
              .min = 1e-3});
  markov.add({.key = "seed",
              .type = Type::kInt,
              .default_value = 0,
              .doc = "seed of the chain",
              .min = 0});
  markov.add({.key = "documents",
              .type = Type::kInt,
              .default_value = 2000,
              .doc = "documents to generate",
              .min = 1});
  markov.add({.key = "document_length",
              .type = Type::kInt,
              .default_value = 256,
              .doc = "tokens per document",
              .min = 1});
  registry.add("markov", "synthetic Markov-chain tokens with an exactly known entropy rate",
               with_common_fields(markov),
               [](const Node& o) { return std::make_unique<MarkovCorpus>(o); });
}

void register_tokenizers() {
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

}  // namespace

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
  register_tokenizers();
  register_corpora();
}

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
