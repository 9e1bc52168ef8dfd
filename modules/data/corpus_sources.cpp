// The built-in corpus sources: text files, JSONL files, the fortune collection, and the synthetic
// Markov chain.
#include <filesystem>

#include "data/byte_tokenizer.h"
#include "data/data_registry.h"
#include "data/jsonl_reader.h"
#include "data/labelled_corpus.h"
#include "data/markov_source.h"
#include "data/text_reader.h"
#include "util/error.h"

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

}  // namespace

void register_builtin_corpora() {
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

}  // namespace sslx::data
