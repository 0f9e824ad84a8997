#include "core/stop_signal.h"

#include <signal.h>

namespace ferry {

namespace {

std::atomic<bool> stop_requested{false};

void on_signal(int signo) {
  if (stop_requested.exchange(true)) {
    signal(signo, SIG_DFL);
    raise(signo);
  }
}

}  // namespace

const std::atomic<bool>& install_stop_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return stop_requested;
}

}  // namespace ferry
