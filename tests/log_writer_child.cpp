// Test helper: writes a run log, then either closes it or waits to be killed.
//   log_writer_child PATH ROWS FLUSH_EVERY (wait|close)
// Logs ROWS rows of train/loss (step i, value i * 0.5; in "close" mode also val/loss every
// 10 steps, value 100 - i, and eval accuracy 0.75). In "wait" mode it prints "ready"
// and sleeps until the parent kills it with SIGKILL.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "log/run_log.h"

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: %s PATH ROWS FLUSH_EVERY wait|close\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[4];
  auto writer = sslx::log::RunLogWriter::create(
      argv[1], "seed = 1\n",
      {.flush_interval_seconds = 1e9, .flush_every_rows = std::stoul(argv[3])});
  const long rows = std::stol(argv[2]);
  for (long i = 0; i < rows; ++i) {
    writer.log("train", "loss", i, static_cast<double>(i) * 0.5);
    if (mode == "close" && i % 10 == 0)
      writer.log("val", "loss", i, 100.0 - static_cast<double>(i));
  }
  if (mode == "close") {
    writer.set_eval("accuracy", 0.75);
    writer.close(sslx::log::RunStatus::kCompleted);
    return 0;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  while (true)
    pause();
}
