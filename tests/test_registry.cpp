#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "registry/registry.h"
#include "registry/registry_index.h"

using namespace sslx;

namespace {

struct Shape {
  virtual ~Shape() = default;
  virtual double area() const = 0;
};
struct Square : Shape {
  explicit Square(double side) : side(side) {}
  double area() const override { return side * side; }
  double side;
};

registry::Registry<Shape>& shapes() {
  static registry::Registry<Shape> registry("test_shape", "shapes for tests", "", std::nullopt);
  return registry;
}

void register_square() {
  if (shapes().contains("square")) return;
  config::Schema schema;
  schema.add({.key = "side", .type = config::Type::kFloat, .default_value = 1.0, .doc = "side"});
  shapes().add("square", "a square", schema, [](const config::Node& options) {
    return std::make_unique<Square>(options.get_float("side"));
  });
}

}  // namespace

TEST_CASE("a registry creates components by name from their config") {
  register_square();
  config::Node options;
  options.set("name", config::Node("square"));
  options.set("side", config::Node(3.0));
  CHECK(shapes().create(options)->area() == 9.0);
  CHECK(shapes().entries().front().provided_by == "built-in");
}

TEST_CASE("unknown names list the registered ones - duplicates are refused") {
  register_square();
  config::Node options;
  options.set("name", config::Node("sqare"));
  CHECK_THROWS_WITH(shapes().create(options),
                    Catch::Contains("unknown test_shape 'sqare'; registered: square") &&
                        Catch::Contains("did you mean 'square'"));
  CHECK_THROWS_WITH(shapes().add("square", "again", {}, nullptr),
                    Catch::Contains("already registered by built-in"));
}

TEST_CASE("a component cannot declare its own selector key") {
  config::Schema schema;
  schema.add({.key = "name", .type = config::Type::kString, .default_value = "x", .doc = "no"});
  CHECK_THROWS_WITH(shapes().add("bad", "bad", schema, nullptr), Catch::Contains("selects"));
}

TEST_CASE("the index lists every registry and finds kinds with suggestions") {
  register_square();
  const auto& index = registry::RegistryIndex::instance();
  CHECK(&index.find("test_shape") == &shapes());
  CHECK_THROWS_WITH(index.find("test_shap"), Catch::Contains("did you mean 'test_shape'"));
}
