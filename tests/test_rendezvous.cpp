// Where a process stands in a data-parallel job, read from the environment as torchrun and srun
// describe it, with clear errors for what a launcher would never set.
#include <catch2/catch.hpp>

#include "dist/rendezvous.h"
#include "util/error.h"

using namespace sslx;
using dist::rendezvous_from;

TEST_CASE("rendezvous: torchrun's variables") {
  const auto r = rendezvous_from({{"RANK", "3"},
                                  {"WORLD_SIZE", "4"},
                                  {"LOCAL_RANK", "1"},
                                  {"MASTER_ADDR", "node7"},
                                  {"MASTER_PORT", "29501"}});
  REQUIRE(r);
  CHECK(r->rank == 3);
  CHECK(r->world_size == 4);
  CHECK(r->local_rank == 1);
  CHECK(r->master_addr == "node7");
  CHECK(r->master_port == 29501);
  CHECK(r->source == "torchrun");
}

TEST_CASE("rendezvous: Slurm's variables under srun, torchrun's first when both are set") {
  const std::map<std::string, std::string> slurm{{"SLURM_PROCID", "5"},
                                                 {"SLURM_NTASKS", "8"},
                                                 {"SLURM_LOCALID", "1"},
                                                 {"MASTER_ADDR", "10.0.0.2"},
                                                 {"MASTER_PORT", "12000"}};
  const auto r = rendezvous_from(slurm);
  REQUIRE(r);
  CHECK(r->rank == 5);
  CHECK(r->world_size == 8);
  CHECK(r->local_rank == 1);
  CHECK(r->source == "slurm");
  auto both = slurm;
  both["RANK"] = "0";
  both["WORLD_SIZE"] = "2";
  const auto t = rendezvous_from(both);
  REQUIRE(t);
  CHECK(t->source == "torchrun");
  CHECK(t->world_size == 2);
}

TEST_CASE("rendezvous: none without the variables, one process in a one-task batch job") {
  CHECK_FALSE(rendezvous_from({}));
  CHECK_FALSE(rendezvous_from({{"MASTER_PORT", "1234"}}));
  const auto one = rendezvous_from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}});
  REQUIRE(one);
  CHECK(one->world_size == 1);  // no MASTER_PORT needed for a world of one
}

TEST_CASE("rendezvous: malformed or inconsistent variables are errors naming them") {
  const auto error_of = [](const std::map<std::string, std::string>& environment) {
    try {
      rendezvous_from(environment);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  CHECK_THAT(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}),
             Catch::Contains("RANK=2 is not an integer in [0, 1]"));
  CHECK_THAT(error_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}),
             Catch::Contains("RANK=x"));
  CHECK_THAT(error_of({{"RANK", "0"}}), Catch::Contains("WORLD_SIZE is not set but RANK is"));
  CHECK_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}}),
             Catch::Contains("WORLD_SIZE=2 but MASTER_PORT is not set"));
  CHECK_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}),
             Catch::Contains("MASTER_PORT=70000"));
}

TEST_CASE("rendezvous: the variables a local launcher gives rank r") {
  const dist::Rendezvous r{.rank = 0,
                           .world_size = 3,
                           .local_rank = 0,
                           .master_addr = "127.0.0.1",
                           .master_port = 4242,
                           .source = "sslx run"};
  const auto environment = dist::rank_environment(r, 2);
  const auto back = rendezvous_from(environment);
  REQUIRE(back);
  CHECK(back->rank == 2);
  CHECK(back->world_size == 3);
  CHECK(back->master_port == 4242);
  CHECK(dist::free_local_port() > 0);
}
