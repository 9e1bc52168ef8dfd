// `sslx run` configures its own process for training (modules/util/process_tuning.h): libgomp
// must start with OMP_WAIT_POLICY=PASSIVE (checked with libgomp's own report of its spin count,
// OMP_DISPLAY_ENV=VERBOSE), a user's own policy is kept, SSLX_PROCESS_TUNING=0 leaves the process
// alone; and malloc keeps a freed large block for reuse instead of unmapping it.
#include <malloc.h>
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>

#include "support.h"
#include "util/process_tuning.h"

using namespace sslx;

namespace {

// libgomp prints its settings each time it is loaded; the last report is the one that trains.
std::string last_spin_count(const std::string& err) {
  const std::string key = "GOMP_SPINCOUNT = '";
  const auto at = err.rfind(key);
  if (at == std::string::npos) return "(no report)";
  const auto begin = at + key.size();
  return err.substr(begin, err.find('\'', begin) - begin);
}

// Bytes that malloc holds free in its heap after allocating, touching and freeing `bytes`.
std::size_t free_in_heap_after_freeing(std::size_t bytes) {
  auto* block = static_cast<char*>(std::malloc(bytes));
  std::memset(block, 1, bytes);
  asm volatile("" : : "r"(block) : "memory");  // the compiler may not elide the allocation
  std::free(block);
  return mallinfo2().fordblks;
}

}  // namespace

TEST_CASE("sslx run starts libgomp with the passive wait policy, unless the user chose one") {
  test::TempDir dir;
  test::write_file(dir / "exp.toml",
                   "defaults = [{ model = \"tiny\" }]\nseed = 5\n"
                   "[data]\nsource = \"markov\"\ndocuments = 50\ndocument_length = 60\n"
                   "states = 12\n[trainer]\nmax_steps = 2\nbatch_size = 4\nsequence_length = 32\n"
                   "eval_every = 0\ncheckpoint_every = 100\n");
  const auto run = [&](const std::string& name, std::vector<std::string> environment) {
    std::vector<std::string> argv{"/usr/bin/env", "-u", "OMP_WAIT_POLICY",
                                  "OMP_DISPLAY_ENV=VERBOSE"};
    argv.insert(argv.end(), environment.begin(), environment.end());
    for (const std::string& argument :
         {std::string(SSLX_BINARY), std::string("run"), (dir / "exp.toml").string(),
          std::string("--out"), (dir / name).string(), std::string("--config-dir"),
          std::string(SSLX_SOURCE_DIR "/configs")}) {
      argv.push_back(argument);
    }
    const auto result = test::run_command(argv);
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return result.err + result.out;
  };

  const std::string tuned = run("tuned", {});
  CHECK(last_spin_count(tuned) == "0");  // passive: no spinning
  CHECK_THAT(tuned, Catch::Contains("(OMP_WAIT_POLICY=PASSIVE, freed memory kept for reuse)"));

  const std::string chosen = run("chosen", {"OMP_WAIT_POLICY=ACTIVE"});
  CHECK(last_spin_count(chosen) != "0");
  CHECK_THAT(chosen, Catch::Contains("(OMP_WAIT_POLICY=ACTIVE, freed memory kept for reuse)"));

  // The control: without the tuning libgomp spins (its default) and malloc is left alone.
  const std::string untuned = run("untuned", {"SSLX_PROCESS_TUNING=0"});
  CHECK(last_spin_count(untuned) == "300000");
  CHECK_THAT(untuned, Catch::Contains("(OMP_WAIT_POLICY=(unset), malloc defaults)"));
}

TEST_CASE("keep_freed_memory keeps a freed 64 MiB block in the heap instead of unmapping it") {
  constexpr std::size_t kBlock = 64U << 20;
  // The control first: glibc's defaults serve the block with mmap and unmap it on free.
  mallopt(M_MMAP_MAX, 65536);
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  CHECK(free_in_heap_after_freeing(kBlock) < kBlock);

  keep_freed_memory();
  CHECK(free_in_heap_after_freeing(kBlock) >= kBlock);
}
