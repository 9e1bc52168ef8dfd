#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

#include "config/schema.h"
#include "config/toml_io.h"
#include "registry/registry_index.h"
#include "train/schedule_registry.h"

using namespace sslx;

namespace {
std::unique_ptr<train::LrSchedule> make(const std::string& toml) {
  train::register_builtin_schedules();
  config::Node root;
  root.set("schedule", config::parse_toml(toml, "s.toml"));
  config::Schema schema;
  schema.add({.key = "schedule", .doc = "", .component = &train::schedule_registry()});
  config::DiagnosticList problems;
  config::validate(root, schema, "", problems);
  problems.throw_if_any();
  return train::schedule_registry().create(*root.find("schedule"));
}
}  // namespace

TEST_CASE("warmup rises linearly to the peak over warmup_steps") {
  const auto schedule = make("name = \"constant\"\nlr = 1.0\nwarmup_steps = 4\n");
  CHECK(schedule->lr(0) == Approx(0.25));
  CHECK(schedule->lr(3) == Approx(1.0));
  CHECK(schedule->lr(100) == Approx(1.0));
}

TEST_CASE("cosine decays by half a cosine to the floor and stays there") {
  const auto schedule = make(
      "name = \"cosine\"\nlr = 2.0\nwarmup_steps = 10\ntotal_steps = 110\n"
      "final_lr_fraction = 0.1\n");
  CHECK(schedule->lr(10) == Approx(2.0));
  // Halfway through the decay the cosine factor is 0.5: 2 * (0.1 + 0.9 * 0.5).
  CHECK(schedule->lr(60) == Approx(1.1));
  // A quarter through: 0.5 * (1 + cos(pi / 4)).
  const double quarter = 0.5 * (1 + std::cos(std::numbers::pi / 4));
  CHECK(schedule->lr(35) == Approx(2.0 * (0.1 + 0.9 * quarter)));
  CHECK(schedule->lr(110) == Approx(0.2));
  CHECK(schedule->lr(1000) == Approx(0.2));
}

TEST_CASE("linear decays in a straight line to the floor") {
  const auto schedule =
      make("name = \"linear\"\nlr = 1.0\ntotal_steps = 100\nfinal_lr_fraction = 0.0\n");
  CHECK(schedule->lr(0) == Approx(1.0));
  CHECK(schedule->lr(25) == Approx(0.75));
  CHECK(schedule->lr(100) == Approx(0.0));
}

TEST_CASE("a decay that ends before warmup is refused with the numbers") {
  CHECK_THROWS_WITH(make("name = \"cosine\"\nwarmup_steps = 10\ntotal_steps = 10\n"),
                    Catch::Contains("total_steps (10) must exceed warmup_steps (10)"));
}

TEST_CASE("the root schema has a [schedule] section defaulting to constant") {
  train::register_builtin_schedules();
  const auto schema = registry::RegistryIndex::instance().root_schema();
  const auto* field = schema.find("schedule");
  REQUIRE(field != nullptr);
  CHECK(field->component == &train::schedule_registry());
  CHECK(field->default_value->as_string() == "constant");
}
