// btest/tcp_transfer.cpp — see tcp_transfer.hpp for the design.
#include "btest/tcp_transfer.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <random>

#include <sys/socket.h>

#include "btest/policy.hpp"
#include "core/pacer.hpp"
#include "core/thread_cache.hpp"

namespace linerate::btest {

namespace {

// Shared all-zero payload. A stream that carries status records is always zeros
// (spec §9 guidance: records must stay findable); others may be random.
alignas(64) const std::byte kZeros[kTcpWriteBytes] = {};

uint64_t mono_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

struct TcpTransfer::Conn {
  core::Fd fd;
  bool primary = false;
  std::optional<StatusScanner> scanner;  // used by whichever thread reads (one at a time)
  alignas(64) std::atomic<uint64_t> rx{0};
  alignas(64) std::atomic<uint64_t> tx{0};
  core::ThreadCache::Task reader;
  core::ThreadCache::Task sender;
};

TcpTransfer::TcpTransfer(TransferConfig cfg) : cfg_(cfg), idle_armed_(cfg.idle_armed) {
  if (cfg_.expected_connections == 0) {
    cfg_.expected_connections = 1;
  }
  if (cfg_.write_bytes == 0 || cfg_.write_bytes > kTcpWriteBytes) {
    cfg_.write_bytes = kTcpWriteBytes;
  }
  if (cfg_.send && cfg_.random_payload) {
    // One 256 KiB block of xorshift output, seeded per test and re-sent: random to
    // any compressor on the path, and free on the data path.
    random_buf_.reset(new std::byte[kTcpWriteBytes]);
    std::random_device rd;
    uint64_t x = (static_cast<uint64_t>(rd()) << 32) | rd() | 1;
    for (std::size_t i = 0; i < kTcpWriteBytes; i += 8) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      std::memcpy(random_buf_.get() + i, &x, 8);
    }
  }
}

TcpTransfer::~TcpTransfer() { finish(core::Millis(0)); }

void TcpTransfer::arm_idle_timeout() {
  std::lock_guard lock(mu_);
  idle_armed_ = true;
  if (!cfg_.peer_sends) {
    return;
  }
  for (auto& c : conns_) {
    (void)core::set_io_timeouts(c->fd.get(), cfg_.idle_timeout, cfg_.idle_timeout);
  }
}

void TcpTransfer::add(core::Fd fd) {
  auto c = std::make_unique<Conn>();
  c->fd = std::move(fd);
  // Idle bounds: a blocked read/write that makes no progress this long fails with
  // EAGAIN. Reads are bounded only when the peer is supposed to send.
  (void)core::set_dead_peer_timeout(c->fd.get(), cfg_.idle_timeout);
  std::lock_guard lock(mu_);
  (void)core::set_io_timeouts(c->fd.get(), cfg_.peer_sends && idle_armed_ ? cfg_.idle_timeout : core::Millis(0),
                              cfg_.idle_timeout);
  if (finished_) {
    return;  // test already over: the fd closes here
  }
  c->primary = conns_.empty();
  if (cfg_.scan) {
    c->scanner.emplace(*cfg_.scan);
  }
  Conn& ref = *c;
  readers_alive_.fetch_add(1);
  if (cfg_.send && !cfg_.peer_sends) {
    // Send-only side: one thread sends and, between writes, drains the little the
    // peer sends (status records, EOF) without blocking; after the last write it
    // reads to EOF. A second thread parked in recv() on the same socket would be
    // woken by every ACK that frees send space (~2000 wakeups/s, measured).
    senders_alive_.fetch_add(1);
    ref.sender = core::ThreadCache::shared().run([this, &ref] {
      const core::DataPlaneScheduling batch;
      sender_loop(ref);
      reader_loop(ref);
    });
  } else {
    ref.reader = core::ThreadCache::shared().run([this, &ref] {
      const core::DataPlaneScheduling batch;
      reader_loop(ref);
    });
    if (cfg_.send) {
      senders_alive_.fetch_add(1);
      ref.sender = core::ThreadCache::shared().run([this, &ref] {
        const core::DataPlaneScheduling batch;
        sender_loop(ref);
      });
    }
  }
  conns_.push_back(std::move(c));
}

std::size_t TcpTransfer::connections() const {
  std::lock_guard lock(mu_);
  return conns_.size();
}

uint64_t TcpTransfer::rx_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t sum = 0;
  for (const auto& c : conns_) {
    sum += c->rx.load(std::memory_order_relaxed);
  }
  return sum;
}

uint64_t TcpTransfer::tx_bytes() const {
  std::lock_guard lock(mu_);
  uint64_t sum = 0;
  for (const auto& c : conns_) {
    sum += c->tx.load(std::memory_order_relaxed);
  }
  return sum;
}

RemoteStatus TcpTransfer::take_remote() {
  RemoteStatus r;
  r.bytes = remote_bytes_.exchange(0, std::memory_order_relaxed);
  r.records = remote_records_.exchange(0, std::memory_order_relaxed);
  r.cpu_percent = remote_cpu_.load(std::memory_order_relaxed);
  r.last_bytes = remote_last_.load(std::memory_order_relaxed);
  return r;
}

void TcpTransfer::send_status(const Bytes12& record) {
  if (cfg_.send) {
    std::lock_guard lock(status_mu_);
    status_ = record;
    status_pending_.store(true, std::memory_order_release);
    return;
  }
  int fd = -1;
  {
    std::lock_guard lock(mu_);
    if (conns_.empty() || finished_) {
      return;
    }
    fd = conns_.front()->fd.get();
  }
  // Only this (control) thread writes on a non-sending connection.
  if (core::write_all(fd, record, core::Millis(1000))) {
    status_sent_.fetch_add(1, std::memory_order_relaxed);
  }
}

std::string TcpTransfer::end_reason() const {
  std::lock_guard lock(mu_);
  return end_reason_;
}

void TcpTransfer::conn_ended(Conn& c, const char* reason, int err) noexcept {
  if (!c.primary) {
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (end_reason_.empty()) {
      end_reason_ = reason;
      if (err != 0) {
        end_reason_ += ": ";
        end_reason_ += std::strerror(err);
      }
    }
  }
  primary_ended_.request();
}

void TcpTransfer::on_peer_status(const Status& s) noexcept {
  remote_bytes_.fetch_add(s.bytes, std::memory_order_relaxed);
  remote_records_.fetch_add(1, std::memory_order_relaxed);
  remote_last_.store(s.bytes, std::memory_order_relaxed);
  if (s.cpu_percent) {
    remote_cpu_.store(*s.cpu_percent, std::memory_order_relaxed);
  }
  if (cfg_.on_status) {
    cfg_.on_status(s);
  }
}

// Non-blocking read of whatever the peer sent (send-only side). Returns false
// when the peer closed or reset the connection.
bool TcpTransfer::drain_nonblocking(Conn& c, const char*& reason, int& err) noexcept {
  std::byte buf[4096];
  auto on_status = [this](const Status& s) { on_peer_status(s); };
  for (;;) {
    ssize_t n = ::recv(c.fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      c.rx.store(c.rx.load(std::memory_order_relaxed) + static_cast<uint64_t>(n), std::memory_order_relaxed);
      if (c.scanner) {
        c.scanner->feed(std::span<const std::byte>(buf, static_cast<std::size_t>(n)), on_status);
      }
      continue;
    }
    if (n == 0) {
      reason = kPeerClosed;
      return false;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      return true;
    }
    if (errno == ECONNRESET) {
      reason = kPeerReset;
      return false;
    }
    reason = "read failed";
    err = errno;
    return false;
  }
}

// Reader: count every received byte (status bytes included, spec §9) and pass
// them to the status scanner when asked. One recv per 256 KiB; no per-byte work
// unless the memchr in the scanner finds a 07.
void TcpTransfer::reader_loop(Conn& c) noexcept {
  std::unique_ptr<std::byte[]> buf(new (std::nothrow) std::byte[kTcpWriteBytes]);
  auto on_status = [this](const Status& s) { on_peer_status(s); };
  const char* reason = kPeerClosed;
  int err = 0;
  if (!buf) {
    reason = "out of memory";
  } else {
    for (;;) {
      ssize_t n = ::recv(c.fd.get(), buf.get(), kTcpWriteBytes, 0);
      if (n > 0) {
        auto un = static_cast<uint64_t>(n);
        c.rx.store(c.rx.load(std::memory_order_relaxed) + un, std::memory_order_relaxed);
        if (c.scanner) {
          c.scanner->feed(std::span<const std::byte>(buf.get(), static_cast<std::size_t>(n)), on_status);
        }
        if (cfg_.budget != nullptr && !cfg_.budget->take_in(un)) {
          reason = kQuotaReached;  // stop reading: the peer's window closes
          break;
        }
        continue;
      }
      if (n == 0) {
        break;
      }
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        reason = "idle timeout (peer sent nothing)";
      } else if (errno == ECONNRESET) {
        reason = kPeerReset;  // clients often close with data unread: a normal end
      } else {
        reason = "read failed";
        err = errno;
      }
      break;
    }
  }
  conn_ended(c, reason, err);
  {
    std::lock_guard lock(mu_);
    readers_alive_.fetch_sub(1);
  }
  cv_.notify_all();
}

// Sender: paced or unpaced writes of the shared zero buffer. A status record is
// written only between two complete data writes, never inside one (spec §9).
void TcpTransfer::sender_loop(Conn& c) noexcept {
  const int fd = c.fd.get();
  const bool drain = !cfg_.peer_sends;  // this thread is also the connection's reader
  const std::byte* payload = random_buf_ ? random_buf_.get() : kZeros;
  core::Pacer pacer(cfg_.tx_rate_bps / cfg_.expected_connections, cfg_.write_bytes);
  if (cfg_.tx_rate_bps > 0 && cfg_.tx_rate_bps / cfg_.expected_connections == 0) {
    pacer = core::Pacer(1, cfg_.write_bytes);  // a tiny cap split N ways is still a cap
  }
  const char* reason = nullptr;
  int err = 0;

  // Write all of [p, p+len), counting progress as it happens; false on failure.
  auto write_fully = [&](const std::byte* p, std::size_t len) -> bool {
    while (len > 0) {
      ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
      if (n > 0) {
        auto un = static_cast<std::size_t>(n);
        c.tx.store(c.tx.load(std::memory_order_relaxed) + un, std::memory_order_relaxed);
        p += un;
        len -= un;
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        reason = "idle timeout (peer stopped reading)";
      } else if (n < 0 && (errno == ECONNRESET || errno == EPIPE)) {
        reason = kPeerReset;
      } else {
        reason = "write failed";
        err = errno;
      }
      return false;
    }
    return true;
  };

  while (!stop_send_.load(std::memory_order_relaxed)) {
    if (c.primary && status_pending_.load(std::memory_order_acquire)) {
      Bytes12 rec;
      {
        std::lock_guard lock(status_mu_);
        rec = status_;
        status_pending_.store(false, std::memory_order_relaxed);
      }
      // Status bytes are not data: write them without counting them as tx.
      std::size_t off = 0;
      bool ok = true;
      while (off < rec.size()) {
        ssize_t n = ::send(fd, rec.data() + off, rec.size() - off, MSG_NOSIGNAL);
        if (n > 0) {
          off += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
          continue;
        } else {
          ok = false;
          reason = "write failed";
          err = errno;
          break;
        }
      }
      if (!ok) {
        break;
      }
      status_sent_.fetch_add(1, std::memory_order_relaxed);
    }
    std::size_t len = pacer.chunk_bytes();
    if (!pacer.unlimited()) {
      // Sleep to the deadline in slices of at most 50 ms so a stop is seen quickly.
      uint64_t due = pacer.next_deadline(mono_ns());
      for (;;) {
        uint64_t now = mono_ns();
        if (now >= due || stop_send_.load(std::memory_order_relaxed)) {
          break;
        }
        uint64_t wait = std::min<uint64_t>(due - now, 50'000'000ULL);
        timespec ts{static_cast<time_t>(wait / 1'000'000'000ULL), static_cast<long>(wait % 1'000'000'000ULL)};
        nanosleep(&ts, nullptr);
        if (drain && !drain_nonblocking(c, reason, err)) {
          break;
        }
      }
      if (reason != nullptr || stop_send_.load(std::memory_order_relaxed)) {
        break;
      }
    }
    if (cfg_.budget != nullptr && !cfg_.budget->take_out(len)) {
      reason = kQuotaReached;
      break;
    }
    if (!write_fully(payload, len)) {
      break;
    }
    if (drain && !drain_nonblocking(c, reason, err)) {
      break;
    }
  }
  if (reason != nullptr && !stop_send_.load(std::memory_order_relaxed)) {
    conn_ended(c, reason, err);
  }
  {
    std::lock_guard lock(mu_);
    senders_alive_.fetch_sub(1);
  }
  cv_.notify_all();
}

bool TcpTransfer::wait_alive_zero(std::atomic<int>& alive, core::Millis timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return alive.load() == 0; });
}

void TcpTransfer::finish(core::Millis grace) {
  {
    std::lock_guard lock(mu_);
    if (finished_) {
      return;
    }
    finished_ = true;  // no more connections may join
  }
  stop_send_.store(true);
  // 1. Senders stop at the next write boundary; a sender stuck on a peer that does
  //    not read is forced out by shutdown after the grace period.
  if (!wait_alive_zero(senders_alive_, grace)) {
    for (auto& c : conns_) {
      ::shutdown(c->fd.get(), SHUT_RDWR);
    }
  }
  // (Threads are joined only at the end: a send-only connection's thread goes
  // on reading to EOF after its last write, and EOF needs our FIN first.)
  // 2. Half-close so the peer sees the end of our data, then let readers drain
  //    what is still in flight so both sides count the same bytes.
  for (auto& c : conns_) {
    ::shutdown(c->fd.get(), SHUT_WR);
  }
  (void)wait_alive_zero(readers_alive_, grace);
  for (auto& c : conns_) {
    ::shutdown(c->fd.get(), SHUT_RDWR);
  }
  for (auto& c : conns_) {
    if (c->sender.joinable()) {
      c->sender.join();
    }
    if (c->reader.joinable()) {
      c->reader.join();
    }
  }
}

}  // namespace linerate::btest
