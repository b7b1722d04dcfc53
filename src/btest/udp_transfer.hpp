// btest/udp_transfer.hpp — the UDP data plane shared by the btest client and server.
//
// One UdpTransfer moves one test's datagrams (spec §11): a sender thread when
// this side transmits, a receiver thread when it receives. The control
// connection and the 1-second status exchange stay with the owner.
//
// Sender: datagrams are [u32 BE sequence][payload] (§11.2), built in one buffer
// made before the loop; per batch only the sequence numbers are patched. A batch
// goes out in one sendmmsg(2), and where the kernel supports UDP GSO each message
// carries up to 64 equal segments (UDP_SEGMENT), so one syscall sends hundreds of
// datagrams. GSO is chosen at run time: the first send that the kernel refuses
// with GSO switches to plain sendmmsg for the rest of the test. Pacing is per
// batch (core::Pacer, whole datagrams per grant, §13.1); with no configured rate
// the rate adapts to the peer's status reports (§13.2, on_peer_status()).
//
// Receiver: non-blocking recvmmsg(2) until the sockets are empty, then one
// poll(2) — no timer is armed per datagram (the btest-rs audit found one armed
// on every recv). UDP_GRO hands coalesced segments up in one buffer. Every
// datagram goes through UdpRxAccount (loss, duplicates, reordering, §11.5).
//
// Sockets: the client passes its N sockets, each connect()ed to the server, and
// numbers each one's datagrams separately; the server passes one unconnected
// socket, sends to `dest` and accepts datagrams only from dest's address (any
// port: a multi-connection client sends from N ports, §11.6). A datagram from the
// peer's address but an unexpected port means a NAT rewrote it (§11.3): the
// server then sends to the port it came from.
//
// Counters are single-writer relaxed atomics, published per batch and read by
// the owner once a second. Ending: stop_sending() stops the sender at a batch
// boundary; finish() also lets the receiver drain until the sockets stay quiet.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "btest/udp_rx.hpp"
#include "core/address.hpp"
#include "core/interrupt.hpp"
#include "core/socket.hpp"
#include "core/thread_cache.hpp"

namespace linerate::btest {

class ByteBudget;  // btest/policy.hpp

/// Largest tx_size RouterOS accepts (udp-tx-size 28..64000, spec §3).
inline constexpr unsigned kUdpMaxTxSize = 64000;
inline constexpr unsigned kUdpMinPayload = 4;  // the sequence number (§11.4)
inline constexpr unsigned kUdpOverheadIpv4 = 28;
inline constexpr unsigned kUdpOverheadIpv6 = 48;  // spec §11.4 recommendation; [U] on RouterOS
/// Start rate of an adaptive (unlimited) sender, and its bounds (§13.2).
/// Socket buffer size asked for (root may exceed the sysctl caps): deep buffers
/// absorb scheduling hiccups at Gbit/s rates.
inline constexpr int kUdpSocketBufferBytes = 8 << 20;
inline constexpr uint64_t kUdpAdaptStartBps = 100'000'000;
inline constexpr uint64_t kUdpAdaptMinBps = 1'000'000;
inline constexpr uint64_t kUdpAdaptMaxBps = 100'000'000'000;

/// Payload bytes of a datagram for an on-wire size (§11.4): tx_size minus the
/// header overhead, never below the 4-byte sequence number.
[[nodiscard]] constexpr std::size_t udp_payload_bytes(unsigned tx_size, unsigned overhead) {
  return tx_size > overhead + kUdpMinPayload ? tx_size - overhead : kUdpMinPayload;
}

struct UdpTransferConfig {
  bool send = false;
  bool receive = false;
  bool random_payload = false;                 // random bytes after the sequence number instead of zeros
  std::size_t tx_payload_bytes = 1472;         // our datagram payload, >= 4
  unsigned overhead_bytes = kUdpOverheadIpv4;  // counted per datagram, both directions (§11.4)
  std::size_t rx_expected_payload = 0;         // the peer's payload size when known, 0 = accept any
  uint64_t tx_rate_bps = 0;                    // on-wire bit/s; 0 = adapt to the peer's reports (§13.2)
  // Server only: unconnected socket. Send to `dest`; accept only dest's address.
  std::optional<core::SockAddr> dest;
  unsigned peer_ports = 1;  // the client's ports are dest.port .. dest.port + peer_ports - 1
  // Server only: hold the first datagram until one arrives from the client (our
  // client sends an empty one the moment its port is bound, §11.3) or this long
  // has passed (clients that send none, e.g. RouterOS). Without it the first
  // datagrams can hit the client's port before it is bound and vanish uncounted.
  core::Millis wait_for_peer{0};
  bool allow_gso = true;  // false forces plain sendmmsg (benchmarks compare the two)
  bool allow_gro = true;
  // btest-pro quotas: charged before each send batch and after each receive
  // batch; when it runs out that direction stops. Not owned; outlives the transfer.
  ByteBudget* budget = nullptr;
};

/// What the sender did and how it did it.
struct UdpTxTotals {
  uint64_t datagrams = 0;
  uint64_t bytes = 0;  // on-wire: datagrams x (payload + overhead)
  uint64_t syscalls = 0;
  bool gso = false;  // GSO in use right now
};

class UdpTransfer {
 public:
  /// `sockets` are bound (and for the client connected); at least one.
  UdpTransfer(UdpTransferConfig cfg, std::vector<core::Fd> sockets);
  ~UdpTransfer();
  UdpTransfer(const UdpTransfer&) = delete;
  UdpTransfer& operator=(const UdpTransfer&) = delete;

  /// Start the threads. Call once.
  void start();

  [[nodiscard]] UdpTxTotals tx() const;
  [[nodiscard]] UdpRxTotals rx() const;
  [[nodiscard]] bool gro() const { return gro_.load(std::memory_order_relaxed); }
  /// Current target rate in bit/s (0 = as fast as possible).
  [[nodiscard]] uint64_t target_rate_bps() const { return target_bps_.load(std::memory_order_relaxed); }
  /// Destination port in use (changes when a NAT rewrote the client's port).
  [[nodiscard]] uint16_t dest_port() const { return dest_port_.load(std::memory_order_relaxed); }

  /// The peer reported `bytes` received in its last status interval (§12). With
  /// no configured rate, this steers ours (§13.2): no loss → ramp up to 4×, loss →
  /// 110 % of what arrived (MikroTik's documented policy). Control plane; call
  /// from one thread only (the control connection's reader).
  void on_peer_status(uint64_t bytes);

  /// A failure that stopped the sender (empty when none).
  [[nodiscard]] std::string error() const;

  /// Stop transmitting at the next batch boundary. Idempotent.
  void stop_sending();
  /// Stop sending, let the receiver read until the sockets stay quiet for `quiet`
  /// (at most `max_wait`), then join everything and close the sockets. Idempotent.
  void finish(core::Millis quiet, core::Millis max_wait);

 private:
  void sender_loop() noexcept;
  void receiver_loop() noexcept;
  void fail(std::string why) noexcept;

  UdpTransferConfig cfg_;
  std::vector<core::Fd> sockets_;
  core::ThreadCache::Task sender_;
  core::ThreadCache::Task receiver_;
  bool started_ = false;
  bool finished_ = false;

  std::atomic<bool> stop_send_{false};
  core::Interrupt stop_send_wake_;  // wakes a sender sleeping between slow grants
  std::atomic<bool> draining_{false};
  core::Interrupt drain_wake_;
  std::atomic<int64_t> quiet_ns_{0};
  std::atomic<int64_t> drain_deadline_ns_{0};

  std::atomic<uint64_t> target_bps_{0};
  std::atomic<uint16_t> dest_port_{0};

  // Sender counters.
  std::atomic<uint64_t> tx_datagrams_{0};
  std::atomic<uint64_t> tx_bytes_{0};
  std::atomic<uint64_t> tx_syscalls_{0};
  std::atomic<bool> gso_{false};
  // Receiver counters (copies of UdpRxTotals, published per batch).
  std::atomic<uint64_t> rx_datagrams_{0}, rx_bytes_{0}, rx_lost_{0}, rx_dup_{0}, rx_reordered_{0}, rx_probes_{0},
      rx_malformed_{0}, rx_foreign_{0};
  std::atomic<bool> gro_{false};
  std::atomic<bool> peer_heard_{false};  // the receiver saw a datagram from the peer

  // Adaptation state (on_peer_status()'s thread only).
  uint64_t tx_at_last_status_ = 0;
  double prev_sent_bps_ = 0;
  std::chrono::steady_clock::time_point last_status_time_;

  mutable std::mutex error_mu_;
  std::string error_;
};

}  // namespace linerate::btest
