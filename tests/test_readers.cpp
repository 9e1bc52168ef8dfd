#include <catch2/catch.hpp>

#include "data/chat_template.h"
#include "data/jsonl_reader.h"
#include "data/labelled_corpus.h"
#include "data/text_reader.h"
#include "data/utf8.h"
#include "support.h"
#include "util/error.h"

using namespace sslx;
using namespace sslx::data;

TEST_CASE("text separators: line, blank line, percent line - documents keep their first line") {
  test::TempDir dir;
  test::write_file(dir / "a.txt", "one\ntwo\n\nthree\n  \nfour\n");
  auto lines = read_text_documents(dir / "a.txt", Separator::kLine);
  REQUIRE(lines.size() == 4);
  CHECK(lines[2].text == "three");
  CHECK(lines[2].line == 4);
  auto blocks = read_text_documents(dir / "a.txt", Separator::kBlankLine);
  REQUIRE(blocks.size() == 3);
  CHECK(blocks[0].text == "one\ntwo");
  CHECK(blocks[2].line == 6);

  test::write_file(dir / "f", "A fortune\nover two lines\n%\nSecond.\n%\n%\n");
  auto fortunes = read_text_documents(dir / "f", Separator::kPercentLine, "cat");
  REQUIRE(fortunes.size() == 2);
  CHECK(fortunes[0].text == "A fortune\nover two lines");
  CHECK(fortunes[1].text == "Second.");
  CHECK(fortunes[1].line == 4);
  CHECK(fortunes[1].label == "cat");
}

TEST_CASE("invalid UTF-8 is found and reported with file and line") {
  CHECK_FALSE(find_invalid_utf8("plain ascii, é, 日本, 🙂").has_value());
  CHECK(find_invalid_utf8("ab\xff") == 2u);
  CHECK(find_invalid_utf8("\xc0\xaf") == 0u);       // overlong '/'
  CHECK(find_invalid_utf8("x\xed\xa0\x80") == 1u);  // surrogate
  CHECK(find_invalid_utf8("\xe6\x97") == 0u);       // truncated
  test::TempDir dir;
  test::write_file(dir / "bad.txt", "fine\nline two \xe9t\xe9\n");
  CHECK_THROWS_WITH(read_text_documents(dir / "bad.txt", Separator::kLine),
                    Catch::Contains("bad.txt:2: invalid UTF-8"));
}

TEST_CASE("globs expand sorted - missing files and empty patterns are errors") {
  test::TempDir dir;
  test::write_file(dir / "b.txt", "x");
  test::write_file(dir / "a.txt", "y");
  const auto paths = expand_paths({(dir / "*.txt").string()});
  REQUIRE(paths.size() == 2);
  CHECK(paths[0].filename() == "a.txt");
  CHECK_THROWS_WITH(expand_paths({(dir / "*.json").string()}), Catch::Contains("matches no file"));
  CHECK_THROWS_WITH(expand_paths({(dir / "c.txt").string()}), Catch::Contains("does not exist"));
}

TEST_CASE("JSONL formats with configurable fields") {
  test::TempDir dir;
  SkipReport skips;
  test::write_file(dir / "t.jsonl",
                   "{\"body\": \"hello\", \"y\": 3}\n\n{\"body\": \"bye\", \"y\": \"neg\"}\n");
  JsonlOptions options;
  options.fields.text = "body";
  options.fields.label = "y";
  auto documents = read_jsonl_documents(dir / "t.jsonl", true, options, skips);
  REQUIRE(documents.size() == 2);
  CHECK(documents[0].label == "3");
  CHECK(documents[1].line == 3);

  test::write_file(dir / "pc.jsonl", "{\"prompt\": \"2+2=\", \"completion\": \"4\"}\n");
  auto pc = read_jsonl_prompt_completion(dir / "pc.jsonl", {}, skips);
  REQUIRE(pc.size() == 1);
  CHECK(pc[0].completion == "4");

  test::write_file(dir / "m.jsonl",
                   "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, "
                   "{\"role\": \"assistant\", \"content\": \"hello\"}]}\n");
  auto conversations = read_jsonl_conversations(dir / "m.jsonl", {}, skips);
  REQUIRE(conversations.size() == 1);
  const auto segments = ChatTemplate{}.render(conversations[0]);
  REQUIRE(segments.size() == 3);
  CHECK_FALSE(segments[0].trainable);
  CHECK(segments[0].text == "<|user|>\nhi\n");
  CHECK_FALSE(segments[1].trainable);
  CHECK(segments[2].trainable);
  CHECK(segments[2].text == "hello\n");

  test::write_file(dir / "p.jsonl",
                   "{\"prompt\": \"q\", \"chosen\": \"good\", \"rejected\": \"bad\"}\n"
                   "{\"chosen\": \"c\", \"rejected\": \"r\"}\n");
  auto pairs = read_jsonl_preferences(dir / "p.jsonl", {}, skips);
  REQUIRE(pairs.size() == 2);
  CHECK(pairs[0].prompt == "q");
  CHECK(pairs[1].prompt.empty());
  CHECK(skips.skipped == 0);
}

TEST_CASE("malformed JSONL lines: an error with file:line, or counted skips") {
  test::TempDir dir;
  test::write_file(dir / "bad.jsonl",
                   "{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n{\"txt\": \"x\"}\n"
                   "{\"text\": 5}\n[1]\n{\"text\": \"also ok\"}\n");
  SkipReport skips;
  CHECK_THROWS_WITH(read_jsonl_documents(dir / "bad.jsonl", false, {}, skips),
                    Catch::Contains("bad.jsonl:2: malformed JSON"));
  const auto documents =
      read_jsonl_documents(dir / "bad.jsonl", false, {.skip_malformed = true}, skips);
  CHECK(documents.size() == 2);
  CHECK(skips.skipped == 4);
  CHECK_THAT(skips.summary(), Catch::Contains("bad.jsonl:3: missing field 'text'") &&
                                  Catch::Contains("bad.jsonl:4: field 'text' should be a string") &&
                                  Catch::Contains("bad.jsonl:5: expected a JSON object"));
}

TEST_CASE("labelled directory: one class per file - the fortune task's classes exist") {
  test::TempDir dir;
  test::write_file(dir / "pos", "good\n%\ngreat\n");
  test::write_file(dir / "neg", "bad\n");
  test::write_file(dir / "neg.dat", "binary index, ignored");
  auto documents = read_labelled_directory(dir.path(), {}, Separator::kPercentLine);
  REQUIRE(documents.size() == 3);
  CHECK(documents[0].label == "neg");
  CHECK_THROWS_WITH(
      read_labelled_directory(dir.path(), {"pos", "neutral"}, Separator::kPercentLine),
      Catch::Contains("class neutral has no file"));
  // The embedded default (Debian's fortunes package, installed by scripts/setup.sh).
  const auto fortunes =
      read_labelled_directory(kFortunesDirectory, fortune_task_classes(), Separator::kPercentLine);
  CHECK(fortunes.size() > 5000);
}
