#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "config/override.h"
#include "config/sweep.h"
#include "config/toml_io.h"

using namespace sslx::config;

TEST_CASE("sweep values: lists, range and choice - quoted and bracketed commas are not sweeps") {
  const Origin origin{"command line"};
  CHECK(*parse_sweep_values("a,b,c", origin) == std::vector<std::string>{"a", "b", "c"});
  CHECK(*parse_sweep_values("range(0,10,3)", origin) ==
        std::vector<std::string>{"0", "3", "6", "9"});
  CHECK(*parse_sweep_values("range(3)", origin) == std::vector<std::string>{"0", "1", "2"});
  CHECK(*parse_sweep_values("range(0.1, 0.4, 0.1)", origin) ==
        std::vector<std::string>{"0.1", "0.2", "0.3"});
  CHECK(*parse_sweep_values("choice(x, [1, 2])", origin) ==
        std::vector<std::string>{"x", "[1, 2]"});
  CHECK_FALSE(parse_sweep_values("[1,2]", origin).has_value());
  CHECK_FALSE(parse_sweep_values("\"a,b\"", origin).has_value());
  CHECK_FALSE(parse_sweep_values("{a = 1, b = 2}", origin).has_value());
  CHECK_THROWS_WITH(parse_sweep_values("range(5, 1)", origin), Catch::Contains("empty"));
  CHECK_THROWS_WITH(parse_sweep_values("range(a, 1)", origin), Catch::Contains("numbers"));
}

TEST_CASE("jobs are the cartesian product, first axis outermost") {
  const auto jobs = expand_jobs({}, {"x=1", "lr=0.1,0.2", "seed=range(0,3)"});
  REQUIRE(jobs.size() == 6);
  CHECK(jobs[0].overrides == std::vector<std::string>{"x=1", "lr=0.1", "seed=0"});
  CHECK(jobs[1].name == "lr=0.1,seed=1");
  CHECK(jobs[5].name == "lr=0.2,seed=2");
}

TEST_CASE("a [sweep] table gives axes - the command line replaces an axis on the same key") {
  const Node file = parse_toml(
      "[sweep]\nseed = [1, 2, 3]\n\"optim.lr\" = \"range(1, 3)\"\n[sweep.model]\nd = [8, 16]\n",
      "s.toml");
  const auto axes = axes_from_table(*file.find("sweep"));
  REQUIRE(axes.size() == 3);
  CHECK(axes[2].key == "model.d");
  CHECK(expand_jobs(axes, {}).size() == 3 * 2 * 2);
  const auto jobs = expand_jobs(axes, {"seed=7"});
  REQUIRE(jobs.size() == 4);
  CHECK(jobs[0].overrides.front() == "seed=7");
  CHECK(expand_jobs(axes, {"seed=7,8"}).size() == 8);
}

TEST_CASE("without axes there is one job") {
  const auto jobs = expand_jobs({}, {"a=1"});
  REQUIRE(jobs.size() == 1);
  CHECK(jobs[0].name == "base");
}
