// btest/udp_ports.hpp — the server's UDP data ports (spec §11.1).
//
// A UDP test gets the lowest free port of a configured range (default
// 2001-2100), and the port returns to the pool when the test ends, so a server
// that runs for months never walks out of the range a firewall was opened for
// (btest-rs used an ever-increasing counter). A port that the kernel refuses to
// bind (another program holds it) is skipped for this test and tried again for
// the next one. Thread-safe: the pool lock covers only the bitmap and bind(2).
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/socket.hpp"

namespace linerate::btest {

class UdpPortPool;

/// A port taken from the pool, with its bound socket; gives the port back on destruction.
class UdpPortLease {
 public:
  UdpPortLease() = default;
  UdpPortLease(UdpPortPool* pool, uint16_t port, core::Fd fd) : pool_(pool), port_(port), fd_(std::move(fd)) {}
  UdpPortLease(UdpPortLease&& o) noexcept : pool_(o.pool_), port_(o.port_), fd_(std::move(o.fd_)) { o.pool_ = nullptr; }
  UdpPortLease& operator=(UdpPortLease&& o) noexcept;
  UdpPortLease(const UdpPortLease&) = delete;
  UdpPortLease& operator=(const UdpPortLease&) = delete;
  ~UdpPortLease() { release(); }

  [[nodiscard]] uint16_t port() const { return port_; }
  /// The bound socket; the caller may move it out (the port stays leased).
  [[nodiscard]] core::Fd& fd() { return fd_; }
  void release();

 private:
  UdpPortPool* pool_ = nullptr;
  uint16_t port_ = 0;
  core::Fd fd_;
};

class UdpPortPool {
 public:
  /// Ports first..last inclusive; last + 256 must still be a port (the client's, §11.1).
  UdpPortPool(uint16_t first, uint16_t last) : first_(first), used_(static_cast<std::size_t>(last - first) + 1) {}

  /// Lowest free port whose bind succeeds. `bind` makes the socket for a port.
  /// Error when every port is busy, naming the range.
  core::Result<UdpPortLease> acquire(const std::function<core::Result<core::Fd>(uint16_t)>& bind) {
    std::lock_guard lock(mu_);
    std::string last_error;
    for (std::size_t i = 0; i < used_.size(); ++i) {
      if (used_[i]) {
        continue;
      }
      auto port = static_cast<uint16_t>(first_ + i);
      auto fd = bind(port);
      if (!fd) {
        last_error = fd.error().message();
        continue;
      }
      used_[i] = true;
      ++in_use_;
      return UdpPortLease(this, port, std::move(*fd));
    }
    return core::fail("no free UDP port in " + std::to_string(first_) + "-" +
                      std::to_string(first_ + used_.size() - 1) +
                      (last_error.empty() ? std::string(" (all in use by running tests)") : "; last: " + last_error));
  }

  [[nodiscard]] std::size_t in_use() const {
    std::lock_guard lock(mu_);
    return in_use_;
  }

 private:
  friend class UdpPortLease;
  void give_back(uint16_t port) {
    std::lock_guard lock(mu_);
    std::size_t i = static_cast<std::size_t>(port - first_);
    if (i < used_.size() && used_[i]) {
      used_[i] = false;
      --in_use_;
    }
  }

  mutable std::mutex mu_;
  uint16_t first_;
  std::vector<bool> used_;
  std::size_t in_use_ = 0;
};

inline void UdpPortLease::release() {
  fd_.reset();  // close before the port can be handed out again
  if (pool_ != nullptr) {
    pool_->give_back(port_);
    pool_ = nullptr;
  }
}

inline UdpPortLease& UdpPortLease::operator=(UdpPortLease&& o) noexcept {
  if (this != &o) {
    release();
    pool_ = o.pool_;
    port_ = o.port_;
    fd_ = std::move(o.fd_);
    o.pool_ = nullptr;
  }
  return *this;
}

}  // namespace linerate::btest
