// Catch's main, after the malloc setting `sslx run` uses (modules/util/process_tuning.h), so the
// tests train the way users' runs do.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "util/process_tuning.h"

int main(int argc, char** argv) {
  sslx::keep_freed_memory();
  return Catch::Session().run(argc, argv);
}
