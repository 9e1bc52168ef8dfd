#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "config/override.h"
#include "config/resolve.h"
#include "config/toml_io.h"

using namespace sslx::config;

namespace {
Node sample() {
  return parse_toml("[model]\nd_model = 64\ntags = [1, 2]\n", "base.toml");
}

Node with(std::vector<std::string> texts) {
  Node config = sample();
  std::vector<Override> overrides;
  for (const auto& text : texts)
    overrides.push_back(parse_override(text));
  apply_overrides(config, overrides);
  return config;
}
}  // namespace

TEST_CASE("override syntax") {
  CHECK(parse_override("a.b=3").op == Override::Op::kSet);
  CHECK(parse_override("+a.b=3").op == Override::Op::kAdd);
  CHECK(parse_override("++a.b=3").op == Override::Op::kForceSet);
  CHECK(parse_override("~a.b").op == Override::Op::kDelete);
  CHECK(parse_override("a.b=x=y").value_text == "x=y");
  CHECK_THROWS_WITH(parse_override("a.b"), Catch::Contains("key=value"));
  CHECK_THROWS_WITH(parse_override("a..b=1"), Catch::Contains("invalid key"));
}

TEST_CASE("typed values: int, float, bool, string, array, inline table") {
  const Node config =
      with({"model.d_model=128", "model.dropout=0.1", "model.bias=false", "model.name=gpt",
            "model.tags=[3]", "model.attn={heads = 4}", "model.quoted=\"1\""});
  CHECK(config.get_int("model.d_model") == 128);
  CHECK(config.get_float("model.dropout") == 0.1);
  CHECK(config.get_bool("model.bias") == false);
  CHECK(config.get_string("model.name") == "gpt");
  CHECK(config.find_path("model.tags")->as_array().size() == 1);  // lists replace
  CHECK(config.get_int("model.attn.heads") == 4);
  CHECK(config.get_string("model.quoted") == "1");
  CHECK(config.find_path("model.d_model")->origin().source == "command line (model.d_model=128)");
}

TEST_CASE("inline tables merge into existing tables") {
  const Node config = with({"model={n_layers = 2}"});
  CHECK(config.get_int("model.d_model") == 64);
  CHECK(config.get_int("model.n_layers") == 2);
}

TEST_CASE("+ adds only new keys, ~ deletes only existing ones, ++ does both") {
  CHECK(with({"+model.extra=1"}).get_int("model.extra") == 1);
  CHECK_THROWS_WITH(with({"+model.d_model=1"}), Catch::Contains("already set at base.toml:2") &&
                                                    Catch::Contains("use model.d_model=1"));
  CHECK(with({"~model.d_model"}).find_path("model.d_model") == nullptr);
  CHECK_THROWS_WITH(with({"~model.nope"}), Catch::Contains("it is not set"));
  CHECK(with({"++model.d_model=5"}).get_int("model.d_model") == 5);
}

TEST_CASE("all override errors are reported together") {
  try {
    with({"~model.a", "~model.b", "model.d_model.x=1"});
    FAIL("no error");
  } catch (const ConfigError& error) {
    CHECK(error.diagnostics().size() == 3);
    CHECK_THAT(error.what(), Catch::Contains("'model.d_model' is int, not a table"));
  }
}

TEST_CASE("a sweep in a single-config override is rejected with a pointer to run") {
  CHECK_THROWS_WITH(with({"model.d_model=1,2"}), Catch::Contains("sweep"));
}
