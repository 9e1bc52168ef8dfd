#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "config/toml_io.h"

using namespace sslx::config;

TEST_CASE("TOML values keep file:line origins") {
  const Node root = parse_toml("a = 1\n\n[model]\nd_model = 256\nname = \"gpt\"\n", "m.toml");
  const Node* d_model = root.find_path("model.d_model");
  REQUIRE(d_model != nullptr);
  CHECK(d_model->as_int() == 256);
  CHECK(d_model->origin().str() == "m.toml:4");
}

TEST_CASE("syntax errors name file, line and column") {
  try {
    parse_toml("a = 1\nb = = 2\n", "broken.toml");
    FAIL("no error");
  } catch (const ConfigError& error) {
    CHECK_THAT(error.what(),
               Catch::StartsWith("broken.toml:2: ") && Catch::Contains("syntax error at column"));
  }
}

TEST_CASE("emitted TOML parses back to the same tree") {
  const std::string text =
      "seed = 3\nname = \"quote \\\" and \\\\ back\\nslash\"\nrate = 0.1\nbig = 1e+20\n"
      "whole = 3.0\nflags = [true, false]\nmixed = [{ a = 1 }, { a = 2 }]\n"
      "[model]\nd_model = 256\n[model.attention]\n\"odd key\" = -7\n[empty]\n";
  const Node original = parse_toml(text, "t.toml");
  const std::string emitted = to_toml(original);
  const Node reparsed = parse_toml(emitted, "emitted");
  CHECK(reparsed == original);
  CHECK(to_toml_inline(*original.find("whole")) == "3.0");  // floats stay floats
  CHECK(to_toml_inline(*original.find("rate")) == "0.1");   // shortest round-trip form
  CHECK(to_toml_inline(Node(1e-4)) == "0.0001");
  CHECK(to_toml_inline(Node(3e-5)) == "3e-05");
  CHECK(original.keys() == std::vector<std::string>{"seed", "name", "rate", "big", "whole", "flags",
                                                    "mixed", "model", "empty"});  // file order
}

TEST_CASE("single override values are parsed as TOML") {
  const Origin origin{"command line"};
  CHECK(parse_toml_value("3", origin)->as_int() == 3);
  CHECK(parse_toml_value("1e-3", origin)->as_float() == 1e-3);
  CHECK(parse_toml_value("[1, 2]", origin)->as_array().size() == 2);
  CHECK(parse_toml_value("{a = 1}", origin)->get_int("a") == 1);
  CHECK_FALSE(parse_toml_value("small", origin).has_value());
  CHECK_FALSE(parse_toml_value("1 2", origin).has_value());
}
