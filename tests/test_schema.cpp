#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "config/schema.h"
#include "config/toml_io.h"

using namespace sslx::config;

namespace {

Schema model_schema() {
  Schema schema("a model");
  schema.add({.key = "d_model", .type = Type::kInt, .default_value = 64, .doc = "width", .min = 1});
  schema.add({.key = "dropout",
              .type = Type::kFloat,
              .default_value = 0.1,
              .doc = "dropout",
              .min = 0.0,
              .max = 1.0});
  schema.add({.key = "act",
              .type = Type::kString,
              .default_value = "gelu",
              .doc = "activation",
              .choices = {"gelu", "relu"}});
  schema.add({.key = "vocab", .type = Type::kInt, .doc = "vocabulary size"});
  schema.add({.key = "widths",
              .type = Type::kArray,
              .default_value = Node(Array{}),
              .doc = "widths",
              .element_type = Type::kInt});
  return schema;
}

// A provider with two components, as a registry would be.
class Provider : public SchemaProvider {
 public:
  Provider() {
    a_.add({.key = "alpha", .type = Type::kFloat, .default_value = 1.0, .doc = "alpha"});
    b_.add({.key = "beta", .type = Type::kInt, .doc = "beta"});
  }
  std::string kind() const override { return "thing"; }
  const Schema* schema_of(std::string_view name) const override {
    if (name == "a") return &a_;
    if (name == "b") return &b_;
    return nullptr;
  }
  std::vector<std::string> names() const override { return {"a", "b"}; }

 private:
  Schema a_, b_;
};

std::vector<Diagnostic> problems(Node& node, const Schema& schema) {
  DiagnosticList list;
  validate(node, schema, "model", list);
  try {
    list.throw_if_any();
  } catch (const ConfigError& error) {
    return error.diagnostics();
  }
  return {};
}

}  // namespace

TEST_CASE("defaults are filled, ints become floats where floats are declared") {
  Node node = parse_toml("vocab = 100\ndropout = 0\n", "m.toml");
  REQUIRE(problems(node, model_schema()).empty());
  CHECK(node.get_int("d_model") == 64);
  CHECK(node.find("d_model")->origin().source == "schema default");
  CHECK(node.find("dropout")->kind() == Kind::kFloat);
}

TEST_CASE("unknown keys name file:line and the closest valid keys") {
  Node node = parse_toml("vocab = 100\nd_modle = 3\n", "m.toml");
  const auto found = problems(node, model_schema());
  REQUIRE(found.size() == 1);
  CHECK(found[0].str() ==
        "m.toml:2: model.d_modle: unknown key 'd_modle' in [model]; did you mean 'd_model'?");
}

TEST_CASE("wrong types name the full key path, the expected and the given type") {
  Node node = parse_toml("vocab = \"big\"\nwidths = [1, 2.5]\n", "m.toml");
  const auto found = problems(node, model_schema());
  REQUIRE(found.size() == 2);
  CHECK(found[0].str() == "m.toml:1: model.vocab: expected int, got string \"big\"");
  CHECK(found[1].key == "model.widths[1]");
}

TEST_CASE("mandatory keys, ??? markers, bounds and choices - all errors at once") {
  Node node = parse_toml("d_model = 0\ndropout = 1.5\nact = \"gelo\"\n", "m.toml");
  auto found = problems(node, model_schema());
  REQUIRE(found.size() == 4);
  CHECK_THAT(found[0].str(), Catch::Contains("model.d_model") && Catch::Contains("must be >= 1"));
  CHECK_THAT(found[1].str(), Catch::Contains("<= 1.0"));
  CHECK_THAT(found[2].str(),
             Catch::Contains("one of: gelu, relu") && Catch::Contains("did you mean 'gelu'"));
  CHECK_THAT(found[3].str(), Catch::Contains("model.vocab: missing mandatory key"));

  Node marked = parse_toml("vocab = \"???\"\n", "m.toml");
  found = problems(marked, model_schema());
  REQUIRE(found.size() == 1);
  CHECK_THAT(found[0].str(), Catch::Contains("m.toml:1") && Catch::Contains("not set"));
}

TEST_CASE("component sections validate against the selected component's schema") {
  Provider provider;
  Schema root;
  root.add({.key = "thing", .default_value = Node("a"), .doc = "a thing", .component = &provider});

  Node absent = parse_toml("", "r.toml");
  DiagnosticList list;
  validate(absent, root, "", list);
  REQUIRE(list.empty());
  CHECK(absent.get_string("thing.name") == "a");
  CHECK(absent.get_float("thing.alpha") == 1.0);

  Node wrong_option = parse_toml("[thing]\nname = \"b\"\nalpha = 2.0\n", "r.toml");
  CHECK_THROWS_WITH((validate(wrong_option, root, "", list), list.throw_if_any()),
                    Catch::Contains("thing.alpha: unknown key 'alpha'") &&
                        Catch::Contains("thing.beta: missing mandatory key"));

  DiagnosticList list2;
  Node unknown = parse_toml("[thing]\nname = \"c\"\n", "r.toml");
  validate(unknown, root, "", list2);
  CHECK_THROWS_WITH(list2.throw_if_any(), Catch::Contains("unknown thing 'c'; registered: a, b"));
}

TEST_CASE("an optional component (default name \"\") selects none until named") {
  Provider provider;
  Schema root;
  root.add({.key = "extra", .default_value = Node(""), .doc = "optional", .component = &provider});

  Node absent = parse_toml("", "r.toml");
  DiagnosticList list;
  validate(absent, root, "", list);
  REQUIRE(list.empty());
  CHECK(absent.get_string("extra.name").empty());

  Node named = parse_toml("[extra]\nname = \"a\"\n", "r.toml");
  validate(named, root, "", list);
  REQUIRE(list.empty());
  CHECK(named.get_float("extra.alpha") == 1.0);  // the component's schema applied

  // Options without a component are not silently dropped.
  DiagnosticList list2;
  Node stray = parse_toml("[extra]\nalpha = 2.0\n", "r.toml");
  validate(stray, root, "", list2);
  CHECK_THROWS_WITH(list2.throw_if_any(),
                    Catch::Contains("extra.alpha") && Catch::Contains("no thing is selected"));
}

TEST_CASE("values with pending interpolation are skipped only when asked") {
  Node node = parse_toml("vocab = \"${x}\"\n", "m.toml");
  DiagnosticList lenient;
  validate(node, model_schema(), "", lenient, {.skip_unresolved = true});
  CHECK(lenient.empty());
  DiagnosticList strict;
  validate(node, model_schema(), "", strict, {.skip_unresolved = false});
  CHECK_FALSE(strict.empty());
}
