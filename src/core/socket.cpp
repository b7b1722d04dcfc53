// core/socket.cpp — see socket.hpp.
#include "core/socket.hpp"

#include <cerrno>

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace linerate::core {

void Fd::reset() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

Result<void> set_int_opt(int fd, int level, int name, int value, const char* what) {
  if (::setsockopt(fd, level, name, &value, sizeof(value)) != 0) {
    return errno_error(what);
  }
  return {};
}

}  // namespace

Result<Fd> tcp_listen(const SockAddr& addr, int backlog, bool v6only) {
  // Non-blocking so an acceptor can drain the backlog until EAGAIN; accepted
  // sockets are blocking (accept4 without SOCK_NONBLOCK).
  Fd fd(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
  if (!fd) {
    return errno_error("socket");
  }
  if (auto r = set_int_opt(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR"); !r) {
    return tl::unexpected(r.error());
  }
  if (addr.family() == AF_INET6) {
    if (auto r = set_int_opt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, v6only ? 1 : 0, "IPV6_V6ONLY"); !r) {
      return tl::unexpected(r.error());
    }
  }
  if (::bind(fd.get(), addr.get(), addr.len()) != 0) {
    return errno_error("cannot listen on " + addr.to_string());
  }
  if (::listen(fd.get(), backlog) != 0) {
    return errno_error("listen on " + addr.to_string());
  }
  return fd;
}

Result<Fd> tcp_connect(const SockAddr& addr, Millis timeout) {
  Fd fd(::socket(addr.family(), SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP));
  if (!fd) {
    return errno_error("socket");
  }
  if (::connect(fd.get(), addr.get(), addr.len()) != 0) {
    if (errno != EINPROGRESS) {
      return errno_error("cannot connect to " + addr.to_string());
    }
    pollfd p{fd.get(), POLLOUT, 0};
    int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc == 0) {
      return fail(std::errc::timed_out, "cannot connect to " + addr.to_string());
    }
    if (rc < 0) {
      return errno_error("poll");
    }
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return tl::unexpected(
          Error{std::error_code(err, std::system_category()), "cannot connect to " + addr.to_string()});
    }
  }
  int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  if (auto r = set_nodelay(fd.get()); !r) {
    return tl::unexpected(r.error());
  }
  return fd;
}

Result<Fd> tcp_accept(int listen_fd, SockAddr& peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_CLOEXEC);
  if (fd < 0) {
    return errno_error("accept");
  }
  peer = SockAddr(reinterpret_cast<sockaddr*>(&ss), len);
  return Fd(fd);
}

Result<bool> wait_readable(int fd, Millis timeout) {
  pollfd p{fd, POLLIN, 0};
  for (;;) {
    int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0) {
      return errno_error("poll");
    }
    return rc > 0;
  }
}

Result<void> read_exact(int fd, std::span<std::byte> buf, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  std::size_t got = 0;
  while (got < buf.size()) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0) {
      return errno_error("poll");
    }
    if (rc == 0) {
      return fail(std::errc::timed_out, "read");
    }
    ssize_t n = ::recv(fd, buf.data() + got, buf.size() - got, MSG_DONTWAIT);
    if (n == 0) {
      return fail("connection closed by peer");
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      return errno_error("read");
    }
    got += static_cast<std::size_t>(n);
  }
  return {};
}

Result<void> read_u8_prefixed(int fd, std::vector<std::byte>& payload, Millis timeout) {
  const Deadline deadline(timeout);
  std::byte len[1];
  if (auto r = read_exact(fd, len, deadline.left()); !r) {
    return r;
  }
  payload.resize(static_cast<std::size_t>(len[0]));
  return read_exact(fd, payload, deadline.left());
}

Result<void> write_all(int fd, std::span<const std::byte> buf, Millis timeout) {
  auto deadline = Clock::now() + timeout;
  std::size_t put = 0;
  while (put < buf.size()) {
    ssize_t n = ::send(fd, buf.data() + put, buf.size() - put, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      put += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      return errno_error("write");
    }
    pollfd p{fd, POLLOUT, 0};
    int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc == 0) {
      return fail(std::errc::timed_out, "write");
    }
    if (rc < 0 && errno != EINTR) {
      return errno_error("poll");
    }
  }
  return {};
}

Result<void> set_nodelay(int fd) { return set_int_opt(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY"); }

Result<void> set_io_timeouts(int fd, Millis rcv, Millis snd) {
  auto tv = [](Millis m) {
    timeval t{};
    t.tv_sec = static_cast<time_t>(m.count() / 1000);
    t.tv_usec = static_cast<suseconds_t>((m.count() % 1000) * 1000);
    return t;
  };
  timeval r = tv(rcv);
  timeval s = tv(snd);
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof(r)) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof(s)) != 0) {
    return errno_error("socket timeouts");
  }
  return {};
}

Result<void> set_dead_peer_timeout(int fd, Millis timeout) {
  int secs = static_cast<int>(timeout.count() / 1000);
  if (secs < 1) {
    secs = 1;
  }
  (void)set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
  (void)set_int_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE, secs, "TCP_KEEPIDLE");
  (void)set_int_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 1, "TCP_KEEPINTVL");
  (void)set_int_opt(fd, IPPROTO_TCP, TCP_KEEPCNT, 3, "TCP_KEEPCNT");
  return set_int_opt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, static_cast<int>(timeout.count()), "TCP_USER_TIMEOUT");
}

namespace {
Result<SockAddr> name_of(int fd, bool peer) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0) {
    return errno_error(peer ? "getpeername" : "getsockname");
  }
  return SockAddr(reinterpret_cast<sockaddr*>(&ss), len);
}
}  // namespace

Result<Fd> udp_bind(const SockAddr& local, int buffer_bytes) {
  Fd fd(::socket(local.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_UDP));
  if (!fd) {
    return errno_error("UDP socket");
  }
  if (local.family() == AF_INET6) {
    if (auto r = set_int_opt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY"); !r) {
      return tl::unexpected(r.error());
    }
  }
  if (buffer_bytes > 0) {
    // Root may exceed net.core.[rw]mem_max; others get what the kernel allows.
    // Deep buffers absorb scheduling hiccups at Gbit/s rates.
    for (auto [force, plain] : {std::pair{SO_RCVBUFFORCE, SO_RCVBUF}, std::pair{SO_SNDBUFFORCE, SO_SNDBUF}}) {
      if (::setsockopt(fd.get(), SOL_SOCKET, force, &buffer_bytes, sizeof(buffer_bytes)) != 0) {
        (void)::setsockopt(fd.get(), SOL_SOCKET, plain, &buffer_bytes, sizeof(buffer_bytes));
      }
    }
  }
  if (::bind(fd.get(), local.get(), local.len()) != 0) {
    return errno_error("cannot bind UDP " + local.to_string());
  }
  return fd;
}

Result<void> udp_connect(int fd, const SockAddr& peer) {
  if (::connect(fd, peer.get(), peer.len()) != 0) {
    return errno_error("UDP connect to " + peer.to_string());
  }
  return {};
}

Result<SockAddr> local_address(int fd) { return name_of(fd, false); }
Result<SockAddr> peer_address(int fd) { return name_of(fd, true); }

}  // namespace linerate::core
