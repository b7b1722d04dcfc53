// btest/udp_transfer.cpp — see udp_transfer.hpp. Section numbers refer to the spec.
#include "btest/udp_transfer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <openssl/rand.h>
#include <poll.h>
#include <sys/socket.h>

#include "btest/policy.hpp"
#include "btest/udp_batch.hpp"
#include "core/pacer.hpp"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace linerate::btest {

namespace {

constexpr std::size_t kRxBufBytes = 65536;  // one coalesced GRO buffer, or any datagram
constexpr unsigned kRxMsgs = 32;

int64_t mono_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The address bytes of a sockaddr (4 or 16), for a cheap per-datagram source check.
std::span<const std::byte> addr_bytes(const sockaddr* sa) {
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    return {reinterpret_cast<const std::byte*>(&in->sin_addr), 4};
  }
  const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
  return {reinterpret_cast<const std::byte*>(&in6->sin6_addr), 16};
}

uint16_t port_of(const sockaddr* sa) {
  return sa->sa_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port)
                                  : ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
}

}  // namespace

UdpTransfer::UdpTransfer(UdpTransferConfig cfg, std::vector<core::Fd> sockets)
    : cfg_(std::move(cfg)), sockets_(std::move(sockets)) {
  cfg_.tx_payload_bytes = std::max<std::size_t>(cfg_.tx_payload_bytes, kUdpMinPayload);
  target_bps_.store(cfg_.tx_rate_bps != 0 ? cfg_.tx_rate_bps : kUdpAdaptStartBps);
  last_status_time_ = std::chrono::steady_clock::now();
  if (cfg_.dest) {
    dest_port_.store(cfg_.dest->port());
  }
}

UdpTransfer::~UdpTransfer() { finish(core::Millis(0), core::Millis(0)); }

void UdpTransfer::start() {
  if (started_ || sockets_.empty()) {
    return;
  }
  started_ = true;
  if (cfg_.receive) {
    receiver_ = core::ThreadCache::shared().run([this] {
      const core::DataPlaneScheduling batch;
      receiver_loop();
    });
  }
  if (cfg_.send) {
    sender_ = core::ThreadCache::shared().run([this] {
      const core::DataPlaneScheduling batch;
      sender_loop();
    });
  }
}

UdpTxTotals UdpTransfer::tx() const {
  return {tx_datagrams_.load(std::memory_order_relaxed), tx_bytes_.load(std::memory_order_relaxed),
          tx_syscalls_.load(std::memory_order_relaxed), gso_.load(std::memory_order_relaxed)};
}

UdpRxTotals UdpTransfer::rx() const {
  UdpRxTotals t;
  t.datagrams = rx_datagrams_.load(std::memory_order_relaxed);
  t.bytes = rx_bytes_.load(std::memory_order_relaxed);
  t.lost = rx_lost_.load(std::memory_order_relaxed);
  t.duplicates = rx_dup_.load(std::memory_order_relaxed);
  t.reordered = rx_reordered_.load(std::memory_order_relaxed);
  t.probes = rx_probes_.load(std::memory_order_relaxed);
  t.malformed = rx_malformed_.load(std::memory_order_relaxed);
  t.foreign = rx_foreign_.load(std::memory_order_relaxed);
  return t;
}

std::string UdpTransfer::error() const {
  std::lock_guard lock(error_mu_);
  return error_;
}

void UdpTransfer::fail(std::string why) noexcept {
  try {
    std::lock_guard lock(error_mu_);
    if (error_.empty()) {
      error_ = std::move(why);
    }
  } catch (...) {
    // Out of memory while recording an error: the counters still tell the story.
  }
}

void UdpTransfer::on_peer_status(uint64_t bytes) {
  const auto now = std::chrono::steady_clock::now();
  const uint64_t sent_total = tx_bytes_.load(std::memory_order_relaxed);
  const uint64_t sent = sent_total - tx_at_last_status_;
  const double secs = std::max(1e-3, std::chrono::duration<double>(now - last_status_time_).count());
  tx_at_last_status_ = sent_total;
  last_status_time_ = now;
  if (!cfg_.send || cfg_.tx_rate_bps != 0) {
    return;  // §13.2: a configured rate is exact and never adapts
  }
  // Compare rates, not byte counts: the peer's record covers its last ~1 s
  // interval, ours the time since the previous record was processed, which the
  // once-a-second ticker can stretch to 2 s. The peer's interval straddles ours,
  // so right after a rate change it saw partly the old rate: judge it against the
  // lower of our last two windows (a loss then shows one report later).
  const double sent_bps = static_cast<double>(sent) * 8.0 / secs;
  const double ref_bps = prev_sent_bps_ > 0 ? std::min(sent_bps, prev_sent_bps_) : sent_bps;
  prev_sent_bps_ = sent_bps;
  const double got_bps = static_cast<double>(bytes) * 8.0;
  const uint64_t cur = target_bps_.load(std::memory_order_relaxed);
  uint64_t next = cur;
  if (bytes == 0) {
    next = cur * 2;  // nothing arrived yet (or the peer lags): probe upwards, never "blast"
  } else if (got_bps >= 0.97 * ref_bps) {
    // Everything arrived: ramp fast, but never far above what this machine
    // actually sent, so a CPU-bound sender does not inflate the target forever.
    next = std::min(cur * 4, std::max(static_cast<uint64_t>(sent_bps * 4), kUdpAdaptStartBps));
  } else {
    next = static_cast<uint64_t>(got_bps * 1.1);  // loss: 110 % of what arrived (MikroTik's documented policy)
  }
  target_bps_.store(std::clamp(next, kUdpAdaptMinBps, kUdpAdaptMaxBps), std::memory_order_relaxed);
}

void UdpTransfer::stop_sending() {
  stop_send_.store(true);
  stop_send_wake_.request();
}

void UdpTransfer::finish(core::Millis quiet, core::Millis max_wait) {
  if (finished_) {
    return;
  }
  finished_ = true;
  stop_sending();
  if (sender_.joinable()) {
    sender_.join();
  }
  quiet_ns_.store(static_cast<int64_t>(quiet.count()) * 1'000'000);
  drain_deadline_ns_.store(mono_ns() + static_cast<int64_t>(max_wait.count()) * 1'000'000);
  draining_.store(true);
  drain_wake_.request();
  if (receiver_.joinable()) {
    receiver_.join();
  }
  sockets_.clear();  // the port is free again the moment finish() returns
}

// ---------------------------------------------------------------------------
// Sender. Walkthrough of one pass of the loop:
//   1. pick up a changed target rate (adaptation) by rebuilding the pacer;
//   2. take a grant of n datagrams and sleep until it is due;
//   3. patch n sequence numbers into the prepared buffer;
//   4. describe the n datagrams as ceil(n/k) messages (k GSO segments each) and
//      hand them to the kernel in one sendmmsg;
//   5. count what the kernel took; on a full buffer wait for POLLOUT.
// ---------------------------------------------------------------------------
void UdpTransfer::sender_loop() noexcept {
  const std::size_t payload = cfg_.tx_payload_bytes;
  const std::size_t wire = payload + cfg_.overhead_bytes;
  const std::size_t nsock = sockets_.size();
  std::vector<uint32_t> seq(nsock, 1);  // §11.2: start value is [U]; we start at 1 like samm and jof
  std::unique_ptr<UdpBatch> batch;
  try {
    std::vector<std::byte> fill;
    if (cfg_.random_payload) {
      fill.resize(64 * 1024);
      (void)RAND_bytes(reinterpret_cast<unsigned char*>(fill.data()), static_cast<int>(fill.size()));
    }
    batch = std::make_unique<UdpBatch>(payload, cfg_.allow_gso ? UdpBatch::gso_segments(payload) : 1U,
                                       fill.empty() ? nullptr : fill.data(), fill.size(),
                                       cfg_.dest ? cfg_.dest->get() : nullptr, cfg_.dest ? cfg_.dest->len() : 0);
  } catch (...) {
    fail("out of memory for the UDP send buffer");
    return;
  }
  uint16_t dest_port = cfg_.dest ? cfg_.dest->port() : 0;
  gso_.store(batch->segments() > 1, std::memory_order_relaxed);

  // 0. Server: wait (bounded) for a sign that the client's port is bound.
  if (cfg_.dest && cfg_.wait_for_peer.count() > 0) {
    const int64_t until = mono_ns() + static_cast<int64_t>(cfg_.wait_for_peer.count()) * 1'000'000;
    while (!stop_send_.load(std::memory_order_relaxed) && !peer_heard_.load(std::memory_order_relaxed) &&
           mono_ns() < until) {
      pollfd p[2] = {{sockets_[0].get(), POLLIN, 0}, {stop_send_wake_.fd(), POLLIN, 0}};
      if (::poll(p, 2, 5) > 0 && (p[0].revents & POLLIN) != 0 && !cfg_.receive) {
        // No receiver thread here: take the probe ourselves (it carries no data).
        std::byte b[64];
        sockaddr_storage from{};
        socklen_t len = sizeof(from);
        if (::recvfrom(sockets_[0].get(), b, sizeof(b), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len) >= 0 &&
            core::SockAddr(reinterpret_cast<sockaddr*>(&from), len).same_host(*cfg_.dest)) {
          break;
        }
      }
    }
  }
  bool gso_confirmed = false;  // a GSO send has succeeded: later errors are real errors

  uint64_t rate = target_bps_.load(std::memory_order_relaxed);
  // Catch up after a stall of up to 10 ms (a bounded burst: 1.25 MB at 1 Gbit/s)
  // so the average holds; beyond that, re-anchor (§13.1).
  auto make_pacer = [&](uint64_t r) { return core::Pacer(r, batch->capacity() * wire, wire, 10'000'000); };
  core::Pacer pacer = make_pacer(rate);
  std::size_t sock = 0;
  uint64_t sent_total = 0;
  uint64_t calls = 0;

  while (!stop_send_.load(std::memory_order_relaxed)) {
    // 1. Adaptation and NAT redirection are picked up once per batch.
    if (uint64_t r = target_bps_.load(std::memory_order_relaxed); r != rate) {
      rate = r;
      pacer = make_pacer(rate);
    }
    if (uint16_t p = dest_port_.load(std::memory_order_relaxed); cfg_.dest && p != dest_port) {
      dest_port = p;
      batch->set_dest_port(p);
    }

    // 2. The grant: a whole number of datagrams, at most one full batch.
    std::size_t n = std::clamp<std::size_t>(pacer.chunk_bytes() / wire, 1, batch->capacity());
    if (!pacer.unlimited()) {
      const auto due = static_cast<int64_t>(pacer.next_deadline(static_cast<uint64_t>(mono_ns())));
      // Sleep in slices of at most 50 ms so a stop is noticed quickly even at one
      // datagram per second (§13.1).
      for (int64_t now = mono_ns(); now < due && !stop_send_.load(std::memory_order_relaxed); now = mono_ns()) {
        if (due - now > 2'000'000) {
          pollfd p{stop_send_wake_.fd(), POLLIN, 0};
          (void)::poll(&p, 1, static_cast<int>(std::min<int64_t>((due - now) / 1'000'000, 50)));
        } else {
          timespec ts{static_cast<time_t>(due / 1'000'000'000), static_cast<long>(due % 1'000'000'000)};
          (void)::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
        }
      }
      if (stop_send_.load(std::memory_order_relaxed)) {
        break;
      }
    }

    // 3-4. Patch the sequence numbers (each socket is its own flow) and send the
    // batch in one call.
    if (cfg_.budget != nullptr && !cfg_.budget->take_out(uint64_t{n} * wire)) {
      break;  // the quota is used up: the owner ends the test (TestGrant::exhausted)
    }
    const std::size_t m = batch->build(n, seq[sock]);
    const int fd = sockets_[sock].get();
    const int rc = ::sendmmsg(fd, batch->msgs(), static_cast<unsigned>(m), 0);
    ++calls;

    // 5. Account for what the kernel accepted.
    if (rc < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
        pollfd p[2] = {{fd, POLLOUT, 0}, {stop_send_wake_.fd(), POLLIN, 0}};
        (void)::poll(p, 2, 20);
        continue;  // the same sequence numbers go out next time
      }
      if (err == EINTR) {
        continue;
      }
      if (batch->segments() > 1 && !gso_confirmed &&
          (err == EINVAL || err == EIO || err == EOPNOTSUPP || err == EMSGSIZE)) {
        // The kernel or the route refuses GSO (e.g. a datagram above the link MTU
        // needs IP fragmentation): one datagram per message from now on.
        batch->disable_gso();
        gso_.store(false, std::memory_order_relaxed);
        pacer = make_pacer(rate);
        continue;
      }
      if (err == ECONNREFUSED) {
        continue;  // ICMP port unreachable from a peer that is not listening yet: keep going
      }
      fail(std::string("UDP send: ") + std::strerror(err));
      break;
    }
    const std::size_t sent = batch->datagrams_in(static_cast<std::size_t>(rc), n);
    if (batch->segments() > 1 && sent > 0) {
      gso_confirmed = true;
    }
    seq[sock] += static_cast<uint32_t>(sent);
    sent_total += sent;
    tx_datagrams_.store(sent_total, std::memory_order_relaxed);
    tx_bytes_.store(sent_total * wire, std::memory_order_relaxed);
    tx_syscalls_.store(calls, std::memory_order_relaxed);
    sock = nsock > 1 ? (sock + 1) % nsock : 0;
  }
  tx_syscalls_.store(calls, std::memory_order_relaxed);
}

// ---------------------------------------------------------------------------
// Receiver. Read every socket with non-blocking recvmmsg until all are empty,
// account each datagram (GRO buffers are split at the segment size), publish the
// totals, then block in poll(2) until data or a stop arrives. While draining at
// the end, a quiet period without datagrams ends the loop.
// ---------------------------------------------------------------------------
void UdpTransfer::receiver_loop() noexcept {
  const std::size_t nsock = sockets_.size();
  UdpRxAccount acct(cfg_.overhead_bytes, cfg_.rx_expected_payload);
  std::unique_ptr<std::byte[]> bufs;
  std::vector<mmsghdr> msgs(kRxMsgs);
  std::vector<iovec> iov(kRxMsgs);
  std::vector<sockaddr_storage> names(kRxMsgs);
  constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(int));
  std::vector<std::byte> cmsg_buf(kCmsgSpace * kRxMsgs);
  std::vector<pollfd> pfds;
  try {
    bufs = std::make_unique<std::byte[]>(kRxBufBytes * kRxMsgs);
    for (const auto& s : sockets_) {
      pfds.push_back(pollfd{s.get(), POLLIN, 0});
    }
    pfds.push_back(pollfd{drain_wake_.fd(), POLLIN, 0});
  } catch (...) {
    fail("out of memory for the UDP receive buffers");
    return;
  }
  bool gro = false;
  if (cfg_.allow_gro) {
    gro = true;
    for (const auto& s : sockets_) {
      int on = 1;
      if (::setsockopt(s.get(), SOL_UDP, UDP_GRO, &on, sizeof(on)) != 0) {
        gro = false;
      }
    }
  }
  gro_.store(gro, std::memory_order_relaxed);

  // Source filter (server): the peer's address bytes and its expected ports.
  std::array<std::byte, 16> peer_addr{};
  std::size_t peer_addr_len = 0;
  uint16_t port_lo = 0;
  uint16_t port_hi = 0;
  if (cfg_.dest) {
    auto a = addr_bytes(cfg_.dest->get());
    std::copy(a.begin(), a.end(), peer_addr.begin());
    peer_addr_len = a.size();
    port_lo = cfg_.dest->port();
    port_hi = static_cast<uint16_t>(port_lo + std::max(1U, cfg_.peer_ports) - 1);
  }
  uint16_t nat_port = 0;
  uint64_t charged = 0;  // bytes already taken from cfg_.budget

  auto publish = [&] {
    const UdpRxTotals& t = acct.totals();
    rx_datagrams_.store(t.datagrams, std::memory_order_relaxed);
    rx_bytes_.store(t.bytes, std::memory_order_relaxed);
    rx_lost_.store(t.lost, std::memory_order_relaxed);
    rx_dup_.store(t.duplicates, std::memory_order_relaxed);
    rx_reordered_.store(t.reordered, std::memory_order_relaxed);
    rx_probes_.store(t.probes, std::memory_order_relaxed);
    rx_malformed_.store(t.malformed, std::memory_order_relaxed);
    rx_foreign_.store(t.foreign, std::memory_order_relaxed);
  };

  for (;;) {
    std::size_t got = 0;
    for (std::size_t s = 0; s < nsock; ++s) {
      for (unsigned i = 0; i < kRxMsgs; ++i) {
        iov[i] = iovec{bufs.get() + i * kRxBufBytes, kRxBufBytes};
        msghdr& h = msgs[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &names[i];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        h.msg_control = cmsg_buf.data() + i * kCmsgSpace;
        h.msg_controllen = kCmsgSpace;
      }
      const int rc = ::recvmmsg(sockets_[s].get(), msgs.data(), kRxMsgs, MSG_DONTWAIT, nullptr);
      if (rc <= 0) {
        continue;  // EAGAIN (empty), or an ICMP error queued on a connected socket
      }
      got += static_cast<std::size_t>(rc);
      for (std::size_t i = 0; i < static_cast<std::size_t>(rc); ++i) {
        const msghdr& h = msgs[i].msg_hdr;
        const auto* src = reinterpret_cast<const sockaddr*>(&names[i]);
        const std::size_t len = msgs[i].msg_len;
        // GRO: the buffer holds ceil(len / seg) datagrams of seg bytes (the last
        // may be shorter); without a segment size it is one datagram.
        int seg = 0;
        for (cmsghdr* cm = CMSG_FIRSTHDR(const_cast<msghdr*>(&h)); cm != nullptr;
             cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), cm)) {
          if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO) {
            std::memcpy(&seg, CMSG_DATA(cm), sizeof(seg));
          }
        }
        const bool coalesced = seg > 0 && static_cast<std::size_t>(seg) < len;
        uint16_t flow = 0;
        if (h.msg_namelen > 0) {
          flow = port_of(src);
          if (peer_addr_len != 0) {
            auto a = addr_bytes(src);
            if (a.size() != peer_addr_len || std::memcmp(a.data(), peer_addr.data(), peer_addr_len) != 0) {
              acct.on_foreign(coalesced ? (len + static_cast<std::size_t>(seg) - 1) / static_cast<std::size_t>(seg)
                                        : 1);
              continue;
            }
            peer_heard_.store(true, std::memory_order_relaxed);
            const bool well_formed = len == 0 || len >= kUdpMinPayload;  // a probe, or has a sequence number
            if (well_formed && (flow < port_lo || flow > port_hi) && flow != nat_port) {
              // §11.3: the client's datagrams arrive from another port than it
              // bound, so a NAT is in the way: answer to where they come from.
              nat_port = flow;
              dest_port_.store(flow, std::memory_order_relaxed);
            }
          }
        }
        if ((h.msg_flags & MSG_TRUNC) != 0) {
          acct.on_malformed();  // larger than any datagram we accept
          continue;
        }
        const std::byte* p = bufs.get() + i * kRxBufBytes;
        if (!coalesced) {
          acct.on_datagram(flow, std::span<const std::byte>(p, len));
          continue;
        }
        for (std::size_t off = 0; off < len; off += static_cast<std::size_t>(seg)) {
          acct.on_datagram(flow, std::span<const std::byte>(
                                     p + off, std::min<std::size_t>(static_cast<std::size_t>(seg), len - off)));
        }
      }
    }
    publish();
    if (cfg_.budget != nullptr) {
      const uint64_t now_bytes = acct.totals().bytes;
      const uint64_t fresh = now_bytes - charged;
      charged = now_bytes;
      if (fresh > 0 && !cfg_.budget->take_in(fresh)) {
        break;  // the quota is used up: stop counting, the owner ends the test
      }
    }
    if (got > 0) {
      continue;  // keep reading while there is data: no poll per batch
    }
    if (draining_.load(std::memory_order_relaxed)) {
      const int64_t left = drain_deadline_ns_.load() - mono_ns();
      const int64_t quiet = std::min(quiet_ns_.load(), left);
      if (quiet <= 0) {
        break;
      }
      // Only the data sockets now: the drain eventfd stays readable.
      const int rc = ::poll(pfds.data(), nsock, static_cast<int>((quiet + 999'999) / 1'000'000));
      if (rc <= 0) {
        break;  // quiet for the whole period: everything in flight has arrived
      }
      continue;
    }
    (void)::poll(pfds.data(), pfds.size(), 1000);
  }
  publish();
}

}  // namespace linerate::btest
