// tests/integration/btest_harness.hpp — a real btest server on loopback for tests.
//
// ServerHarness runs btest::Server on 127.0.0.1 with a kernel-chosen port in a
// background thread, collects every finished TestRecord, and stops the server on
// destruction. Raw-socket helpers let tests play a (hostile) peer byte by byte.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <dirent.h>
#include <gtest/gtest.h>

#include "btest/client.hpp"
#include "btest/server.hpp"
#include "core/interrupt.hpp"
#include "core/socket.hpp"

namespace linerate::btest::testing {

class ServerHarness {
 public:
  explicit ServerHarness(ServerConfig cfg = {}) {
    cfg.port = 0;
    cfg.listen = {"127.0.0.1"};
    cfg.quiet = true;
    cfg.on_test_end = [this](const TestRecord& r) {
      std::lock_guard lock(mu_);
      records_.push_back(r);
      cv_.notify_all();
    };
    auto s = Server::create(cfg);
    if (!s) {
      ADD_FAILURE() << "server: " << s.error().message();
      return;
    }
    server_ = std::move(*s);
    thread_ = std::thread([this] { server_->run(stop_); });
  }
  ~ServerHarness() {
    stop_.request();
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  ServerHarness(const ServerHarness&) = delete;
  ServerHarness& operator=(const ServerHarness&) = delete;

  [[nodiscard]] uint16_t port() const { return server_ ? server_->port() : 0; }
  [[nodiscard]] Server& server() { return *server_; }

  /// Wait (bounded) until at least n tests have finished on the server.
  std::vector<TestRecord> wait_records(std::size_t n, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, limit, [&] { return records_.size() >= n; });
    return records_;
  }

  [[nodiscard]] ClientConfig client_config(Direction dir, std::chrono::milliseconds duration) const {
    ClientConfig c;
    c.host = "127.0.0.1";
    c.port = port();
    c.direction = dir;
    c.duration = duration;
    c.connect_timeout = std::chrono::milliseconds(2000);
    c.handshake_timeout = std::chrono::milliseconds(3000);
    return c;
  }

 private:
  core::Interrupt stop_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<TestRecord> records_;
};

/// Run a client to completion (no per-second callback).
inline ClientOutcome run(const ClientConfig& cfg) {
  core::Interrupt never;
  return run_client(cfg, never, nullptr);
}

/// A raw TCP connection to the server, for playing a peer byte by byte.
inline core::Fd raw_connect(uint16_t port) {
  auto addr = core::parse_ip("127.0.0.1", port);
  EXPECT_TRUE(addr.has_value());
  auto fd = core::tcp_connect(*addr, std::chrono::milliseconds(2000));
  EXPECT_TRUE(fd.has_value()) << (fd ? "" : fd.error().message());
  return fd ? std::move(*fd) : core::Fd();
}

/// True when the peer closes the connection within `limit` (reads and discards).
inline bool closed_within(int fd, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::byte buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    auto left = std::chrono::duration_cast<core::Millis>(deadline - std::chrono::steady_clock::now());
    auto r = core::wait_readable(fd, left);
    if (!r || !*r) {
      return false;
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) {
      return true;
    }
  }
  return false;
}

inline std::size_t open_fd_count() {
  std::size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) {
      ++n;
    }
    ::closedir(d);
  }
  return n;
}

inline uint64_t sum_rx(const TestRecord& r) {
  uint64_t s = 0;
  for (const auto& i : r.intervals) {
    s += i.rx_bytes;
  }
  return s;
}
inline uint64_t sum_tx(const TestRecord& r) {
  uint64_t s = 0;
  for (const auto& i : r.intervals) {
    s += i.tx_bytes;
  }
  return s;
}

}  // namespace linerate::btest::testing
