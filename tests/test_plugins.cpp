#include <catch2/catch.hpp>

#include "config/toml_io.h"
#include "registry/plugin.h"
#include "registry/plugin_loader.h"
#include "support.h"
#include "train/schedule_registry.h"
#include "util/error.h"

using namespace sslx;

TEST_CASE("a plugin built against another sslx version is refused before it registers") {
  const auto before = train::schedule_registry().names().size();
  CHECK_THROWS_WITH(plugin::load(SSLX_MISMATCHED_PLUGIN),
                    Catch::Contains("was built for sslx 0.0.0-mismatched") &&
                        Catch::Contains("this is sslx " SSLX_VERSION_STRING));
  CHECK(train::schedule_registry().names().size() == before);
}

TEST_CASE("the example plugin loads from config and its component works") {
  train::register_builtin_schedules();
  test::TempDir dir;
  // Relative plugin paths are resolved against the directory of the listing file.
  const std::filesystem::path plugin(SSLX_EXAMPLE_PLUGIN);
  std::filesystem::create_directories(dir / "sub");
  std::filesystem::copy_file(plugin, dir / "sub/libplugin.so");
  test::write_file(dir / "exp.toml", "plugins = [\"sub/libplugin.so\"]\n");
  const config::Node config = config::load_toml_file(dir / "exp.toml");
  plugin::load_from_config(config);
  plugin::load_from_config(config);  // loading twice is a no-op

  REQUIRE(train::schedule_registry().contains("step_decay"));
  const auto& entry = train::schedule_registry().entries().back();
  CHECK_THAT(entry.provided_by, Catch::EndsWith("sub/libplugin.so"));

  config::Node options = config::parse_toml(
      "name = \"step_decay\"\nlr = 1.0\nstep_size = 10\ngamma = 0.5\n", "o.toml");
  const auto schedule = train::schedule_registry().create(options);
  CHECK(schedule->lr(9) == 1.0);
  CHECK(schedule->lr(10) == 0.5);
  CHECK(schedule->lr(25) == 0.25);
}

TEST_CASE("missing or foreign libraries give plugin errors naming the path") {
  CHECK_THROWS_AS(plugin::load("/nonexistent/libx.so"), PluginError);
  CHECK_THROWS_WITH(plugin::load("/nonexistent/libx.so"), Catch::Contains("/nonexistent/libx.so"));
  // A real shared library that is not an sslx plugin.
  CHECK_THROWS_WITH(plugin::load("/lib/x86_64-linux-gnu/libm.so.6"),
                    Catch::Contains("is not an sslx plugin"));
}
