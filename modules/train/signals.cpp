#include "train/signals.h"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace sslx::train {
namespace {

std::atomic<int> g_signals{0};
struct sigaction g_previous_int {
}, g_previous_term{}, g_previous_usr1{};

extern "C" void on_signal(int signal) {
  if (g_signals.fetch_add(1) >= 1 && signal == SIGINT) {
    // Only async-signal-safe calls here.
    const char message[] = "\nsslx: second interrupt, exiting without a checkpoint\n";
    [[maybe_unused]] auto written = write(STDERR_FILENO, message, sizeof message - 1);
    _exit(130);
  }
}

}  // namespace

StopRequest::StopRequest() {
  g_signals = 0;
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, &g_previous_int);
  sigaction(SIGTERM, &action, &g_previous_term);
  sigaction(SIGUSR1, &action, &g_previous_usr1);
}

StopRequest::~StopRequest() {
  sigaction(SIGINT, &g_previous_int, nullptr);
  sigaction(SIGTERM, &g_previous_term, nullptr);
  sigaction(SIGUSR1, &g_previous_usr1, nullptr);
}

bool StopRequest::requested() const {
  return g_signals.load() > 0;
}

}  // namespace sslx::train
