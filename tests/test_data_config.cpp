// The [data] and [tokenizer] sections, end to end: config -> tokenizer -> cached split shards.
#include <catch2/catch.hpp>

#include "config/resolve.h"
#include "data/data_registry.h"
#include "data/lm_data.h"
#include "data/packing.h"
#include "registry/registry_index.h"
#include "support.h"

using namespace sslx;

namespace {
config::Node resolved(const test::TempDir& dir, const std::string& toml) {
  data::register_builtin_data();
  test::write_file(dir / "exp.toml", toml);
  return config::resolve(
             {.file = dir / "exp.toml"},
             [](const config::Node&) { return registry::RegistryIndex::instance().root_schema(); })
      .config;
}
}  // namespace

TEST_CASE("data config: a text corpus with the byte tokenizer, cached under cache_dir") {
  test::TempDir dir;
  std::string text;
  for (int i = 0; i < 60; ++i)
    text += "paragraph " + std::to_string(i) + "\nsecond line\n\n";
  test::write_file(dir / "corpus/a.txt", text);
  const auto config =
      resolved(dir, "[data]\nsource = \"text\"\nfiles = [\"" + (dir / "corpus/*.txt").string() +
                        "\"]\ncache_dir = \"" + (dir / "cache").string() +
                        "\"\n[tokenizer]\nname = \"byte\"\n");
  const auto prepared = data::prepare_lm_data(config);
  CHECK(prepared.tokenizer->name() == "byte");
  CHECK(prepared.corpus.directory.string().rfind((dir / "cache/shards").string(), 0) == 0);
  std::int64_t documents = 0;
  for (auto split : {data::Split::kTrain, data::Split::kValidation, data::Split::kTest}) {
    documents += prepared.corpus.statistics(split).documents;
  }
  CHECK(documents == 60);
  CHECK(data::prepare_lm_data(config).corpus.reused);
}

TEST_CASE("data config: the Markov source reports its entropy floor and packs") {
  test::TempDir dir;
  const auto config = resolved(dir,
                               "[data]\nsource = \"markov\"\ndocuments = 50\n"
                               "document_length = 64\nstates = 8\n");
  const auto prepared = data::prepare_lm_data(config);
  REQUIRE(prepared.entropy_rate.has_value());
  CHECK(*prepared.entropy_rate > 0.0);
  CHECK(*prepared.entropy_rate < std::log(8.0));
  const auto& train = prepared.corpus.split(data::Split::kTrain);
  CHECK(train.document_count() > 35);
  const data::PackedBlocks blocks(train, prepared.tokenizer->specials().require_eos(), 32);
  CHECK(blocks.size() == train.document_count() * 65 / 32);
}

TEST_CASE("data config: unknown sources and missing files are config errors") {
  test::TempDir dir;
  CHECK_THROWS_WITH(
      resolved(dir, "[data]\nsource = \"fortune\"\n"),
      Catch::Contains("unknown corpus 'fortune'") && Catch::Contains("did you mean 'fortunes'"));
  CHECK_THROWS_WITH(resolved(dir, "[data]\nsource = \"text\"\n"),
                    Catch::Contains("data.files: missing mandatory key"));
  const auto config = resolved(dir, "[data]\nsource = \"text\"\nfiles = [\"/nonexistent.txt\"]\n");
  CHECK_THROWS_WITH(data::prepare_lm_data(config),
                    Catch::Contains("/nonexistent.txt does not exist"));
}
