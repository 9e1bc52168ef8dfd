#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "config/experiment_plan.h"
#include "config/toml_io.h"

using namespace sslx::config;

namespace {

std::vector<Variant> variants_of(const std::string& toml) {
  const Node file = parse_toml(toml, "experiment.toml");
  return variants_from_table(*file.find("variants"));
}

}  // namespace

TEST_CASE("variants become override bundles: group choices first, then values, then the name") {
  const auto variants = variants_of(R"(
[variants.bert]
groups = { objective = "mlm" }
model.arch = "encoder"
objective.rate = 0.3
[variants.gpt]
model = { arch = "decoder" }
)");
  REQUIRE(variants.size() == 2);
  CHECK(variants[0].name == "bert");
  CHECK(variants[0].overrides == std::vector<std::string>{"objective=mlm", "model.arch=\"encoder\"",
                                                          "objective.rate=0.3",
                                                          "experiment.variant=\"bert\""});
  CHECK(variants[1].overrides ==
        std::vector<std::string>{"model.arch=\"decoder\"", "experiment.variant=\"gpt\""});
}

TEST_CASE("jobs are variants x sweep points - the group is the name without the seed") {
  const auto variants = variants_of("[variants.a]\nx = 1\n[variants.b]\nx = 2\n");
  const std::vector<SweepAxis> axes{{.key = "lr", .values = {"0.1", "0.2"}, .origin = {}},
                                    {.key = "seed", .values = {"1", "2", "3"}, .origin = {}}};
  const auto jobs = plan_jobs(variants, axes, {"trainer.max_steps=5"}, "out");
  REQUIRE(jobs.size() == 12);
  CHECK(jobs[0].name == "a,lr=0.1,seed=1");
  CHECK(jobs[0].group == "a,lr=0.1");
  CHECK(jobs[0].seed == 1);
  CHECK(jobs[5].name == "a,lr=0.2,seed=3");
  CHECK(jobs[6].name == "b,lr=0.1,seed=1");
  CHECK(jobs[6].variant == "b");
  // The variant's values, the command line's, then the axes: later overrides win.
  CHECK(jobs[6].overrides == std::vector<std::string>{"x=2", "experiment.variant=\"b\"",
                                                      "trainer.max_steps=5", "lr=0.1", "seed=1"});
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    CHECK(jobs[i].index == i);
    CHECK(jobs[i].after.empty());
  }
}

TEST_CASE("without variants the jobs are the sweep points, named as before") {
  const std::vector<SweepAxis> axes{{.key = "seed", .values = {"1", "2"}, .origin = {}}};
  const auto jobs = plan_jobs({}, axes, {}, "out");
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].name == "seed=1");
  CHECK(jobs[0].group == "base");
  CHECK(plan_jobs({}, {}, {}, "out").front().name == "base");
}

TEST_CASE(
    "a stage waits for the same seed of its upstream variant and starts from its checkpoints") {
  const auto variants = variants_of(R"(
[variants.pretrain]
objective.name = "clm"
[variants.sft]
init_from = "pretrain"
objective.name = "sft"
[variants.reward]
init_from = "sft"
objective.name = "reward_model"
)");
  const std::vector<SweepAxis> axes{{.key = "seed", .values = {"1", "2"}, .origin = {}}};
  const auto jobs = plan_jobs(variants, axes, {"objective.init_from=elsewhere"}, "runs/x");
  REQUIRE(jobs.size() == 6);
  CHECK(jobs[0].after.empty());
  CHECK(jobs[2].after == std::vector<std::size_t>{0});  // sft seed 1 after pretrain seed 1
  CHECK(jobs[3].after == std::vector<std::size_t>{1});  // sft seed 2 after pretrain seed 2
  CHECK(jobs[5].after == std::vector<std::size_t>{3});  // reward seed 2 after sft seed 2
  const auto& overrides = jobs[3].overrides;
  const auto init = std::find(overrides.begin(), overrides.end(),
                              "objective.init_from=\"runs/x/pretrain,seed=2/checkpoints\"");
  REQUIRE(init != overrides.end());
  // The command line's own init_from comes later, so a user can still point elsewhere.
  const auto user = std::find(overrides.begin(), overrides.end(), "objective.init_from=elsewhere");
  CHECK(user > init);
}

TEST_CASE(
    "job_paths point a key at another variant's job folder of the same seed and wait for it") {
  const auto variants = variants_of(R"(
[variants.sft]
objective.name = "sft"
[variants.reward]
init_from = "sft"
objective.name = "reward_model"
[variants.ppo]
init_from = "sft"
objective.name = "ppo"
job_paths = { "objective.reward.checkpoint" = "reward" }
)");
  const std::vector<SweepAxis> axes{{.key = "seed", .values = {"1", "2"}, .origin = {}}};
  const auto jobs = plan_jobs(variants, axes, {"objective.reward.checkpoint=mine"}, "runs/x");
  REQUIRE(jobs.size() == 6);
  // ppo seed 2 waits for sft seed 2 (its init_from) and reward seed 2 (its reward checkpoint).
  CHECK(jobs[5].after == std::vector<std::size_t>{1, 3});
  const auto& overrides = jobs[5].overrides;
  const auto path = std::find(overrides.begin(), overrides.end(),
                              "objective.reward.checkpoint=\"runs/x/reward,seed=2\"");
  REQUIRE(path != overrides.end());
  CHECK(std::find(overrides.begin(), overrides.end(),
                  "objective.init_from=\"runs/x/sft,seed=2/checkpoints\"") != overrides.end());
  // The command line still wins: its value comes later.
  CHECK(std::find(overrides.begin(), overrides.end(), "objective.reward.checkpoint=mine") > path);

  CHECK_THROWS_WITH(
      variants_of("[variants.a]\njob_paths = { \"x.y\" = \"rewrd\" }\n"
                  "[variants.reward]\n"),
      Catch::Contains("variants.a.job_paths.x.y") && Catch::Contains("did you mean 'reward'"));
  CHECK_THROWS_WITH(variants_of("[variants.a]\njob_paths = { \"x\" = \"b\" }\n"
                                "[variants.b]\ninit_from = \"a\"\n"),
                    Catch::Contains("cycle"));
  CHECK_THROWS_WITH(variants_of("[variants.a]\njob_paths = \"b\"\n[variants.b]\n"),
                    Catch::Contains("variants.a.job_paths") && Catch::Contains("table"));
}

TEST_CASE("unknown stages, cycles and malformed variants are config errors naming the key") {
  CHECK_THROWS_WITH(
      variants_of("[variants.sft]\ninit_from = \"pretrian\"\n[variants.pretrain]\n"),
      Catch::Contains("variants.sft.init_from") && Catch::Contains("did you mean 'pretrain'"));
  CHECK_THROWS_WITH(
      variants_of("[variants.a]\ninit_from = \"b\"\n[variants.b]\ninit_from = \"a\"\n"),
      Catch::Contains("cycle"));
  CHECK_THROWS_WITH(variants_of("[variants]\na = 3\n"),
                    Catch::Contains("variants.a") && Catch::Contains("must be a table"));
  CHECK_THROWS_WITH(variants_of("[variants.a]\ngroups = { model = 3 }\n"),
                    Catch::Contains("variants.a.groups.model"));
  CHECK_THROWS_AS(variants_of("[variants.\"a,b\"]\nx = 1\n"), ConfigError);
}
