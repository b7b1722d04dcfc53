// tests/integration/pro_in_process.hpp — pro::run_server on a thread of the test
// process, shared by the serve and web suites.
//
// The server binds port 0 (btest and, with web_listen "127.0.0.1:0", the web
// side) and reports both ports through ServeConfig::on_ready, so there is no
// race for a "free" port and readiness is exact: start() returns once both
// listeners are bound.
#pragma once

#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "btest/pro/pro_server.hpp"
#include "core/interrupt.hpp"
#include "core/result.hpp"

namespace linerate::testing {

/// A client that writes to a connection the server has closed (a quota reached
/// on "in") must get EPIPE, not die.
inline const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

/// Poll `pred` every `step` for at most `limit`; true as soon as it holds.
inline bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds limit,
                       std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (pred()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(step);
  }
}

class InProcessServer {
 public:
  ~InProcessServer() { (void)stop(); }

  /// "" once the listeners are bound (on_ready), or the error.
  std::string start(btest::pro::ServeConfig cfg) {
    (void)stop();
    cfg_ = std::move(cfg);
    btest_port_.store(0);
    web_port_.store(0);
    cfg_.on_ready = [this](uint16_t btest_port, uint16_t web_port) {
      web_port_.store(web_port);
      btest_port_.store(btest_port);
    };
    stop_ = std::make_unique<core::Interrupt>();
    finished_.store(false);
    result_ = {};
    thread_ = std::thread([this] {
      result_ = btest::pro::run_server(cfg_, *stop_);
      finished_.store(true, std::memory_order_release);
    });
    const bool up = poll_until([this] { return finished_.load(std::memory_order_acquire) || btest_port_.load() != 0; },
                               std::chrono::milliseconds(15'000), std::chrono::milliseconds(20));
    if (up && !finished_.load(std::memory_order_acquire)) {
      return {};
    }
    stop_->request();
    thread_.join();
    return "btest-pro did not start: " + (result_ ? std::string("not ready within 15 s") : result_.error().message());
  }

  /// Stop and join; the writer has flushed when this returns. The run_server result.
  core::Result<void> stop() {
    if (!thread_.joinable()) {
      return {};
    }
    stop_->request();
    thread_.join();
    return result_;
  }

  [[nodiscard]] uint16_t btest_port() const { return btest_port_.load(); }
  [[nodiscard]] uint16_t web_port() const { return web_port_.load(); }

 private:
  btest::pro::ServeConfig cfg_;
  std::unique_ptr<core::Interrupt> stop_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::atomic<uint16_t> btest_port_{0};
  std::atomic<uint16_t> web_port_{0};
  core::Result<void> result_;
};

}  // namespace linerate::testing
