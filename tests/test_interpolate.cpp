#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/config_error.h"
#include "config/interpolate.h"
#include "config/toml_io.h"

using namespace sslx::config;

namespace {
Node interpolated(const std::string& text) {
  Node config = parse_toml(text, "i.toml");
  interpolate(config);
  return config;
}
}  // namespace

TEST_CASE("a whole-string reference keeps the target's type") {
  const Node config = interpolated(
      "[model]\nd_model = 256\n[head]\nwidth = \"${model.d_model}\"\n"
      "copy = \"${model}\"\n");
  CHECK(config.find_path("head.width")->kind() == Kind::kInt);
  CHECK(config.get_int("head.width") == 256);
  CHECK(config.get_int("head.copy.d_model") == 256);
}

TEST_CASE("references inside strings are formatted - chains resolve - escapes stay literal") {
  const Node config = interpolated(
      "a = \"${b}-x\"\nb = \"${c}\"\nc = 3\nlr = 0.5\nname = \"lr=${lr}\"\n"
      "literal = \"\\\\${a}\"\n");
  CHECK(config.get_string("a") == "3-x");
  CHECK(config.get_int("b") == 3);
  CHECK(config.get_string("name") == "lr=0.5");
  CHECK(config.get_string("literal") == "${a}");
}

TEST_CASE("environment variables, with and without defaults") {
  setenv("SSLX_TEST_VAR", "from-env", 1);
  unsetenv("SSLX_TEST_UNSET");
  const Node config =
      interpolated("a = \"${env:SSLX_TEST_VAR}\"\nb = \"${env:SSLX_TEST_UNSET,fallback}\"\n");
  CHECK(config.get_string("a") == "from-env");
  CHECK(config.get_string("b") == "fallback");
  CHECK_THROWS_WITH(interpolated("a = \"${env:SSLX_TEST_UNSET}\"\n"),
                    Catch::Contains("SSLX_TEST_UNSET is not set"));
}

TEST_CASE("cycles and missing targets are errors naming the key") {
  CHECK_THROWS_WITH(interpolated("a = \"${b}\"\nb = \"${a}\"\n"),
                    Catch::Contains("cycle") && Catch::Contains("a -> b -> a"));
  CHECK_THROWS_WITH(interpolated("[model]\nd_model = 1\n[x]\ny = \"${model.d_modl}\"\n"),
                    Catch::Contains("i.toml:4") && Catch::Contains("x.y") &&
                        Catch::Contains("did you mean 'd_model'"));
  CHECK_THROWS_WITH(interpolated("t = { a = 1 }\ns = \"x${t}\"\n"),
                    Catch::Contains("cannot be part of a longer string"));
}

TEST_CASE("every broken interpolation is reported at once") {
  try {
    interpolated("a = \"${nope1}\"\nb = \"${nope2}\"\n");
    FAIL("no error");
  } catch (const ConfigError& error) {
    CHECK(error.diagnostics().size() == 2);
  }
}
