// core/interrupt.cpp — see interrupt.hpp.
#include "core/interrupt.hpp"

#include <csignal>
#include <cstdint>

#include <sys/eventfd.h>
#include <unistd.h>

#include "core/check.hpp"

namespace linerate::core {

namespace {
std::atomic<Interrupt*> g_target{nullptr};
std::atomic<int> g_signal{0};

void on_signal(int sig) {
  if (g_signal.exchange(sig) != 0) {
    ::_exit(128 + sig);  // second Ctrl-C: the user really wants out
  }
  if (Interrupt* t = g_target.load()) {
    t->request();
  }
}
}  // namespace

Interrupt::Interrupt() : efd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) { LR_CHECK(efd_.valid()); }

void Interrupt::request() noexcept {
  flag_.store(true, std::memory_order_relaxed);
  uint64_t one = 1;
  ssize_t rc = ::write(efd_.get(), &one, sizeof(one));
  (void)rc;
}

void install_signal_stop(Interrupt& target) {
  g_target.store(&target);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

int last_signal() noexcept { return g_signal.load(); }

}  // namespace linerate::core
