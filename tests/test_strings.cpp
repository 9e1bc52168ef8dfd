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

#include "util/hash.h"

TEST_CASE("hash: stable values, and the top bits of similar keys are spread") {
  CHECK(sslx::Hasher().add("abc").hex() == sslx::Hasher().add("abc").hex());
  CHECK(sslx::hash64("abc") != sslx::hash64("abd"));
  // "key 0" .. "key 999": the top bit must be set for about half of them.
  int top = 0;
  for (int i = 0; i < 1000; ++i)
    top += (sslx::hash64("key " + std::to_string(i)) >> 63) & 1;
  CHECK(top > 430);
  CHECK(top < 570);
}
