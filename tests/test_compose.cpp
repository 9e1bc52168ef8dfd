#include <catch2/catch.hpp>

#include "config/config_error.h"
#include "config/resolve.h"
#include "support.h"

using namespace sslx::config;
using sslx::test::TempDir;
using sslx::test::write_file;

namespace {

// A small config tree: two model presets (small inherits from base) and an experiment file.
void write_tree(const TempDir& dir) {
  write_file(dir / "configs/model/base.toml", "d_model = 64\nn_layers = 2\nact = \"gelu\"\n");
  write_file(dir / "configs/model/small.toml", "defaults = [\"base\"]\nd_model = 128\n");
  write_file(dir / "configs/model/tiny.toml", "d_model = 16\nn_layers = 1\n");
  write_file(dir / "configs/optim/adamw.toml", "lr = 1e-3\nbetas = [0.9, 0.95]\n");
  write_file(dir / "experiments/exp.toml",
             "defaults = [{ model = \"small\" }, { optim = \"adamw\" }]\n"
             "seed = 1\n[optim]\nlr = 3e-4\n");
}

Resolved compose_only(const TempDir& dir, std::vector<std::string> overrides = {}) {
  return compose_with_overrides(
      {.file = dir / "experiments/exp.toml", .overrides = std::move(overrides)});
}

}  // namespace

TEST_CASE("defaults compose in order and the file's own values win") {
  TempDir dir;
  write_tree(dir);
  const Node config = compose_only(dir).config;
  CHECK(config.get_int("model.d_model") == 128);      // small overrides base
  CHECK(config.get_int("model.n_layers") == 2);       // inherited from base
  CHECK(config.get_float("optim.lr") == 3e-4);        // the experiment file wins over the group
  CHECK(config.find_path("optim.betas") != nullptr);  // tables merge, they are not replaced
  CHECK(config.find("defaults") == nullptr);
  // Every value remembers its file.
  CHECK(config.find_path("model.n_layers")->origin().source ==
        (dir / "configs/model/base.toml").string());
}

TEST_CASE("_self_ first lets the defaults win") {
  TempDir dir;
  write_tree(dir);
  write_file(dir / "experiments/exp.toml",
             "defaults = [\"_self_\", { model = \"tiny\" }]\n[model]\nd_model = 999\n");
  CHECK(compose_only(dir).config.get_int("model.d_model") == 16);
}

TEST_CASE("group choice overrides: model=tiny, ~group, +group") {
  TempDir dir;
  write_tree(dir);
  CHECK(compose_only(dir, {"model=tiny"}).config.get_int("model.d_model") == 16);
  CHECK(compose_only(dir, {"~optim"}).config.find_path("optim.betas") == nullptr);

  write_file(dir / "experiments/exp.toml", "defaults = [{ model = \"small\" }]\n");
  CHECK(compose_only(dir, {"+optim=adamw"}).config.get_float("optim.lr") == 1e-3);
  CHECK_THROWS_WITH(compose_only(dir, {"optim=adamw"}),
                    Catch::Contains("not in the defaults list") && Catch::Contains("+optim=adamw"));
}

TEST_CASE("an unknown option lists the group's options with a suggestion") {
  TempDir dir;
  write_tree(dir);
  // The shipped configs/model presets (bert_base, gpt2_small, ...) are listed beside the tree's.
  CHECK_THROWS_WITH(compose_only(dir, {"model=smal"}),
                    Catch::Contains("no option 'smal' in config group 'model'") &&
                        Catch::Contains("available: base, ") && Catch::Contains(", small, ") &&
                        Catch::Contains(", tiny") && Catch::Contains("did you mean 'small'") &&
                        Catch::Contains("command line (model=smal)"));
}

TEST_CASE("a defaults cycle is an error naming the files") {
  TempDir dir;
  write_file(dir / "configs/model/a.toml", "defaults = [\"b\"]\n");
  write_file(dir / "configs/model/b.toml", "defaults = [\"a\"]\n");
  write_file(dir / "experiments/exp.toml", "defaults = [{ model = \"a\" }]\n");
  CHECK_THROWS_WITH(compose_only(dir), Catch::Contains("cycle") && Catch::Contains("a.toml"));
}

TEST_CASE("the defaults tree records which file provided which group") {
  TempDir dir;
  write_tree(dir);
  const std::string tree = render_defaults_tree(compose_only(dir).defaults_tree);
  CHECK_THAT(tree, Catch::Contains("model: small") && Catch::Contains("base.toml") &&
                       Catch::Contains("optim: adamw") && Catch::Contains("_self_"));
}
