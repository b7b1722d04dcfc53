// bench/micro/udp_bench.cpp — micro-benchmarks for the btest UDP data plane.
//
// What is measured, and why:
//  * UdpBatch::build (btest/udp_batch.hpp): the generator of every UDP send. It
//    patches the sequence numbers of one batch and lays out the sendmmsg vector;
//    handed to a null sink here, so datagrams/s is the ceiling the generator
//    alone would allow on one core. With GSO (k segments per message) and without.
//  * UdpRxAccount::on_datagram (btest/udp_rx.hpp): runs once per received
//    datagram (GRO buffers are split into datagrams first). In-order datagrams,
//    64 per iteration from 64 different buffers, like one recvmmsg(2) batch.
//  * UdpBatch + sendmmsg(2) to a loopback socket that a second thread drains
//    with recvmmsg(2) (with UDP_GRO in the GSO case): the real syscall cost per
//    datagram. Wall time, and two threads on this 2-core VM: read it as a ratio
//    gso vs plain from the same run, not as an absolute.
// Every benchmark checks once, outside the timed loop, that the work it claims
// happened (sequence numbers written, datagrams counted, nothing lost).
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <benchmark/benchmark.h>

#include "btest/udp_batch.hpp"
#include "btest/udp_rx.hpp"

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace {

using linerate::btest::UdpBatch;
using linerate::btest::UdpRxAccount;

constexpr std::size_t kPayload = 1472;  // 1500-byte IPv4 packets (spec §11.4)
constexpr unsigned kOverhead = 28;

unsigned segments_for(int64_t gso) { return gso != 0 ? UdpBatch::gso_segments(kPayload) : 1U; }

uint32_t seq_at(const std::byte* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

// ---- UdpBatch::build -----------------------------------------------------------

void BM_UdpBatch_Build(benchmark::State& state) {
  const unsigned k = segments_for(state.range(0));
  sockaddr_in dest{};
  dest.sin_family = AF_INET;
  dest.sin_port = htons(9);
  dest.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  UdpBatch batch(kPayload, k, nullptr, 0, reinterpret_cast<const sockaddr*>(&dest), sizeof(dest));
  const std::size_t n = batch.capacity();
  uint32_t seq = 1;
  std::size_t msgs = 0;
  for (auto _ : state) {
    msgs = batch.build(n, seq);
    benchmark::DoNotOptimize(batch.msgs());  // the null sink: the vector is "handed over"
    benchmark::ClobberMemory();
    seq += static_cast<uint32_t>(n);
  }
  // The last batch: n datagrams in ceil(n/k) messages, numbered from seq - n.
  const mmsghdr* m = batch.msgs();
  const auto* first = static_cast<const std::byte*>(m[0].msg_hdr.msg_iov[0].iov_base);
  if (msgs != (n + k - 1) / k || seq_at(first) != seq - static_cast<uint32_t>(n) ||
      seq_at(first + (n - 1) * kPayload) != seq - 1 || m[0].msg_hdr.msg_iov[0].iov_len != k * kPayload) {
    state.SkipWithError("UdpBatch::build laid out the wrong messages or sequence numbers");
  }
  const auto datagrams = static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(n);
  state.SetItemsProcessed(datagrams);
  state.SetBytesProcessed(datagrams * static_cast<int64_t>(kPayload));
  state.counters["datagrams_per_call"] = static_cast<double>(n);
  state.counters["segments"] = k;
}
BENCHMARK(BM_UdpBatch_Build)->ArgName("gso")->Arg(1)->Arg(0);

// ---- UdpRxAccount::on_datagram -------------------------------------------------

void BM_UdpRx_Account(benchmark::State& state) {
  constexpr std::size_t kBatch = 64;  // one recvmmsg vector
  std::vector<std::byte> bufs(kBatch * kPayload, std::byte{0});
  auto acct = std::make_unique<UdpRxAccount>(kOverhead, kPayload);  // 512 flow slots: off the stack
  constexpr uint16_t kFlow = 3257;
  uint32_t seq = 1;
  for (auto _ : state) {
    // The kernel wrote these sequence numbers; patching them is part of the cost
    // model (4 bytes per datagram) and keeps every datagram in order.
    for (std::size_t i = 0; i < kBatch; ++i) {
      std::byte* p = bufs.data() + i * kPayload;
      const uint32_t s = seq + static_cast<uint32_t>(i);
      p[0] = static_cast<std::byte>(s >> 24);
      p[1] = static_cast<std::byte>(s >> 16);
      p[2] = static_cast<std::byte>(s >> 8);
      p[3] = static_cast<std::byte>(s);
    }
    benchmark::ClobberMemory();
    for (std::size_t i = 0; i < kBatch; ++i) {
      acct->on_datagram(kFlow, std::span<const std::byte>(bufs.data() + i * kPayload, kPayload));
    }
    seq += static_cast<uint32_t>(kBatch);
  }
  const auto& t = acct->totals();
  const auto datagrams = static_cast<uint64_t>(state.iterations()) * kBatch;
  if (t.datagrams != datagrams || t.lost != 0 || t.duplicates != 0 || t.reordered != 0 ||
      t.bytes != datagrams * (kPayload + kOverhead)) {
    state.SkipWithError("UdpRxAccount miscounted in-order datagrams");
  }
  state.SetItemsProcessed(static_cast<int64_t>(datagrams));
  state.SetBytesProcessed(static_cast<int64_t>(t.bytes));  // on-wire bytes, as btest counts them
}
BENCHMARK(BM_UdpRx_Account);

// ---- UdpBatch + sendmmsg to a drained loopback socket --------------------------

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

// Reads the socket until `stop`, counting payload bytes (GRO buffers hold whole
// segments of kPayload, so bytes / kPayload is the datagram count).
void drain(int fd, const std::atomic<bool>& stop, std::atomic<uint64_t>& rx_bytes) {
  constexpr unsigned kMsgs = 64;
  constexpr std::size_t kBuf = 64 * 1024;
  std::vector<std::byte> bufs(kMsgs * kBuf);
  std::array<mmsghdr, kMsgs> msgs{};
  std::array<iovec, kMsgs> iov{};
  std::array<std::array<std::byte, CMSG_SPACE(sizeof(int))>, kMsgs> cmsg{};
  uint64_t total = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    for (unsigned i = 0; i < kMsgs; ++i) {
      iov[i] = iovec{bufs.data() + i * kBuf, kBuf};
      msgs[i].msg_hdr = msghdr{};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = cmsg[i].data();
      msgs[i].msg_hdr.msg_controllen = cmsg[i].size();
    }
    const int rc = ::recvmmsg(fd, msgs.data(), kMsgs, MSG_WAITFORONE, nullptr);  // SO_RCVTIMEO bounds it
    for (int i = 0; i < rc; ++i) {
      total += msgs[static_cast<std::size_t>(i)].msg_len;
    }
    rx_bytes.store(total, std::memory_order_relaxed);
  }
}

void BM_UdpBatch_SendmmsgLoopback(benchmark::State& state) {
  const unsigned k = segments_for(state.range(0));
  Fd rx(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  Fd tx(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (rx.get() < 0 || tx.get() < 0) {
    state.SkipWithError("socket() failed");
    return;
  }
  int buf = 8 << 20;
  // As btest does: deep buffers (FORCE passes the sysctl cap when root).
  if (::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) != 0) {
    (void)::setsockopt(rx.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
  }
  if (::setsockopt(tx.get(), SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) != 0) {
    (void)::setsockopt(tx.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
  }
  int on = 1;
  const bool gro = k > 1 && ::setsockopt(rx.get(), SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
  timeval tv{0, 50'000};
  (void)::setsockopt(rx.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (::bind(rx.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::getsockname(rx.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::connect(tx.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    state.SkipWithError("cannot set up the loopback socket pair");
    return;
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> rx_bytes{0};
  std::thread reader([&] { drain(rx.get(), stop, rx_bytes); });

  UdpBatch batch(kPayload, k, nullptr, 0, nullptr, 0);  // connected socket: no destination per message
  const std::size_t n = batch.capacity();
  uint32_t seq = 1;
  uint64_t sent = 0;
  std::string error;
  for (auto _ : state) {
    const std::size_t m = batch.build(n, seq);
    const int rc = ::sendmmsg(tx.get(), batch.msgs(), static_cast<unsigned>(m), 0);
    if (rc < 0) {
      if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR) {
        continue;
      }
      error = std::string("sendmmsg: ") + std::strerror(errno);
      break;
    }
    const std::size_t d = batch.datagrams_in(static_cast<std::size_t>(rc), n);
    seq += static_cast<uint32_t>(d);
    sent += d;
  }
  // Let the reader empty the queue before the count is read (bounded: 200 ms).
  for (int i = 0; i < 20 && rx_bytes.load() / kPayload < sent; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop.store(true);
  reader.join();
  if (!error.empty()) {
    state.SkipWithError(error.c_str());
    return;
  }
  const uint64_t received = rx_bytes.load() / kPayload;
  state.SetItemsProcessed(static_cast<int64_t>(sent));
  state.SetBytesProcessed(static_cast<int64_t>(sent * kPayload));
  // Delivered share: below 1 the reader fell behind and the kernel dropped the rest
  // (what was sent is still what sendmmsg accepted, i.e. the sender's cost).
  state.counters["delivered"] = sent == 0 ? 0.0 : static_cast<double>(received) / static_cast<double>(sent);
  state.counters["rx_datagrams_per_s"] = benchmark::Counter(static_cast<double>(received), benchmark::Counter::kIsRate);
  state.counters["gro"] = gro ? 1 : 0;
  state.counters["segments"] = k;
}
BENCHMARK(BM_UdpBatch_SendmmsgLoopback)->ArgName("gso")->Arg(1)->Arg(0)->UseRealTime();

}  // namespace
