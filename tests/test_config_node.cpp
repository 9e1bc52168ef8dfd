#include <catch2/catch.hpp>

#include "config/node.h"

using namespace sslx::config;

TEST_CASE("paths create intermediate tables and refuse to go through values") {
  Node root;
  REQUIRE(root.set_path("model.attention.heads", Node(4)));
  CHECK(root.get_int("model.attention.heads") == 4);
  std::string conflict;
  CHECK_FALSE(root.set_path("model.attention.heads.x", Node(1), &conflict));
  CHECK(conflict == "model.attention.heads");
  CHECK(root.erase_path("model.attention.heads"));
  CHECK(root.find_path("model.attention.heads") == nullptr);
  CHECK_FALSE(root.erase_path("model.missing.key"));
}

TEST_CASE("merge: tables merge key by key, arrays and scalars are replaced") {
  Node base;
  base.set_path("a.x", Node(1));
  base.set_path("a.y", Node(2));
  base.set("list", Node(Array{Node(1), Node(2), Node(3)}));
  Node overlay;
  overlay.set_path("a.y", Node(20));
  overlay.set_path("a.z", Node(30));
  overlay.set("list", Node(Array{Node(9)}));
  merge_into(base, overlay);
  CHECK(base.get_int("a.x") == 1);
  CHECK(base.get_int("a.y") == 20);
  CHECK(base.get_int("a.z") == 30);
  REQUIRE(base.find("list")->as_array().size() == 1);
  CHECK(base.find("list")->as_array()[0].as_int() == 9);
}

TEST_CASE("typed getters name the key and the actual type") {
  Node root;
  root.set_path("trainer.steps", Node("many", Origin{"x.toml", 3}));
  CHECK_THROWS_WITH(root.get_int("trainer.steps"), Catch::Contains("trainer.steps") &&
                                                       Catch::Contains("should be int") &&
                                                       Catch::Contains("x.toml:3"));
  CHECK_THROWS_WITH(root.get_int("trainer.nope"), Catch::Contains("'trainer.nope' is not set"));
  root.set("f", Node(3));
  CHECK(root.get_float("f") == 3.0);  // ints are accepted where floats are asked for
}
