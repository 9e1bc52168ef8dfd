#include <catch2/catch.hpp>

#include "util/strings.h"

using namespace sslx;

TEST_CASE("edit distance counts insertions, deletions and substitutions") {
  CHECK(edit_distance("", "") == 0);
  CHECK(edit_distance("kitten", "sitting") == 3);
  CHECK(edit_distance("d_model", "d_modle") == 2);
  CHECK(edit_distance("abc", "") == 3);
}

TEST_CASE("did-you-mean suggests close keys and nothing for unrelated words") {
  const std::vector<std::string> keys{"warmup_steps", "total_steps", "lr", "final_lr_fraction"};
  CHECK(did_you_mean("warmup_step", keys) == "did you mean 'warmup_steps'?");
  CHECK(did_you_mean("totl_steps", keys) == "did you mean 'total_steps'?");
  CHECK(did_you_mean("banana", keys).empty());
  // Nearest first.
  CHECK(closest_matches("steps", {"total_steps", "step"}).front() == "step");
}

TEST_CASE("split, join and trim") {
  CHECK(split("a.b..c", '.') == std::vector<std::string>{"a", "b", "", "c"});
  CHECK(join({"x", "y"}, ", ") == "x, y");
  CHECK(trim("  x y \n") == "x y");
}
