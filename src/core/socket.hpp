// core/socket.hpp — RAII file descriptors and the few socket calls linerate needs.
//
// Every call returns Result; nothing throws. Blocking sockets with explicit
// deadlines (poll) are used on the control plane; data loops use plain blocking
// read/write with SO_RCVTIMEO/SO_SNDTIMEO as the idle bound and shutdown() from a
// controlling thread to wake them (see btest/session.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"

namespace linerate::core {

/// Owns one file descriptor; closes it on destruction. Move-only.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  void reset();

 private:
  int fd_ = -1;
};

using Millis = std::chrono::milliseconds;

/// Non-blocking listening TCP socket with SO_REUSEADDR; IPv6 sockets get IPV6_V6ONLY=v6only.
[[nodiscard]] Result<Fd> tcp_listen(const SockAddr& addr, int backlog, bool v6only);

/// Connect with a timeout; the returned socket is blocking with TCP_NODELAY set.
[[nodiscard]] Result<Fd> tcp_connect(const SockAddr& addr, Millis timeout);

/// Accept one connection (blocking socket returned). Peer address in *peer.
[[nodiscard]] Result<Fd> tcp_accept(int listen_fd, SockAddr& peer);

/// Read exactly buf.size() bytes, waiting at most `timeout` in total.
/// Errors: "timed out", "connection closed by peer", or errno.
[[nodiscard]] Result<void> read_exact(int fd, std::span<std::byte> buf, Millis timeout);

/// Write all of buf, waiting at most `timeout` in total.
[[nodiscard]] Result<void> write_all(int fd, std::span<const std::byte> buf, Millis timeout);

/// Read a message framed as [len: 1 byte][len bytes] into payload (resized to
/// len), the whole exchange within `timeout`.
[[nodiscard]] Result<void> read_u8_prefixed(int fd, std::vector<std::byte>& payload, Millis timeout);

/// One time budget for a multi-step exchange (a handshake): each step gets what
/// is left of it.
class Deadline {
 public:
  explicit Deadline(Millis budget) : at_(std::chrono::steady_clock::now() + budget) {}
  /// Time left, never negative.
  [[nodiscard]] Millis left() const {
    auto d = std::chrono::duration_cast<Millis>(at_ - std::chrono::steady_clock::now());
    return d.count() < 0 ? Millis(0) : d;
  }

 private:
  std::chrono::steady_clock::time_point at_;
};

/// Wait until fd is readable or the timeout passes; true when readable.
[[nodiscard]] Result<bool> wait_readable(int fd, Millis timeout);

[[nodiscard]] Result<void> set_nodelay(int fd);
/// SO_RCVTIMEO and SO_SNDTIMEO: a blocking read/write that makes no progress for
/// this long fails with EAGAIN. Zero means wait forever.
[[nodiscard]] Result<void> set_io_timeouts(int fd, Millis rcv, Millis snd);
/// TCP keepalive plus TCP_USER_TIMEOUT so a vanished peer is noticed.
[[nodiscard]] Result<void> set_dead_peer_timeout(int fd, Millis timeout);
/// A non-blocking UDP socket bound to `local` (IPv6 sockets V6ONLY), with send and
/// receive buffers of about `buffer_bytes` (forced above the sysctl limits when
/// running as root, silently capped otherwise). Errors name the address.
[[nodiscard]] Result<Fd> udp_bind(const SockAddr& local, int buffer_bytes);
/// connect(2) a UDP socket so it only exchanges datagrams with `peer`.
[[nodiscard]] Result<void> udp_connect(int fd, const SockAddr& peer);
[[nodiscard]] Result<SockAddr> local_address(int fd);
[[nodiscard]] Result<SockAddr> peer_address(int fd);

inline std::span<const std::byte> as_bytes(const void* p, std::size_t n) {
  return {static_cast<const std::byte*>(p), n};
}
inline std::span<std::byte> as_writable_bytes(void* p, std::size_t n) { return {static_cast<std::byte*>(p), n}; }

}  // namespace linerate::core
