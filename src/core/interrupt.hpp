// core/interrupt.hpp — one stop request, observable from any thread and pollable.
//
// Interrupt pairs an atomic flag with an eventfd so that poll()-based loops wake
// at once and data loops can test a relaxed atomic per buffer. install_signal_stop
// routes SIGINT/SIGTERM to an Interrupt (async-signal-safe: one atomic store and
// one write(2)); a second signal exits at once with 130, as users expect of Ctrl-C.
#pragma once

#include <atomic>

#include "core/socket.hpp"

namespace linerate::core {

class Interrupt {
 public:
  Interrupt();
  void request() noexcept;
  [[nodiscard]] bool requested() const noexcept { return flag_.load(std::memory_order_relaxed); }
  /// Readable once request() was called.
  [[nodiscard]] int fd() const { return efd_.get(); }

 private:
  std::atomic<bool> flag_{false};
  Fd efd_;
};

/// SIGINT/SIGTERM request `target`; SIGPIPE is ignored. Call once, early in main.
void install_signal_stop(Interrupt& target);

/// Which signal (if any) caused the last request; 0 when none.
[[nodiscard]] int last_signal() noexcept;

}  // namespace linerate::core
