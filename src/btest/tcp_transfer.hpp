// btest/tcp_transfer.hpp — the TCP data plane shared by the btest client and server.
//
// One TcpTransfer runs one test's data connections (spec §9, §10). A connection
// that only receives has a reader thread (counts bytes, finds status records,
// notices EOF); one that only sends has a single sender thread that also drains
// the peer's few bytes between writes; "both" has one of each. Data loops use
// blocking 256 KiB reads/writes: no allocation, no locks, no logging per buffer;
// counters are single-writer relaxed atomics read once a second by the owner.
//
// Status records go on the primary connection only, between two complete data
// writes (§9); the owner's ticker hands them over through a one-slot mailbox.
// Ending: the owner calls finish() — senders stop at a write boundary, FIN goes
// out, readers drain to EOF within a grace period, then everything is shut down
// and joined. shutdown(2) from the owner is what wakes a blocked data thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "btest/protocol.hpp"
#include "btest/status_scanner.hpp"
#include "core/interrupt.hpp"
#include "core/socket.hpp"

namespace linerate::btest {

class ByteBudget;  // btest/policy.hpp

inline constexpr std::size_t kTcpWriteBytes = 256 * 1024;
/// end_reason() when the peer closed or reset the connection: the normal end of
/// a test (spec §15), whether or not it had read everything we sent.
inline constexpr const char* kPeerClosed = "peer closed the connection";
inline constexpr const char* kPeerReset = "peer reset the connection";
/// end_reason() when the ByteBudget ran out.
inline constexpr const char* kQuotaReached = "quota reached";

struct TransferConfig {
  bool send = false;                         // this side transmits data
  bool random_payload = false;               // random bytes instead of zeros (only on streams that
                                             // carry no status records, see server.cpp/client.cpp)
  bool peer_sends = false;                   // the peer is expected to transmit (read idle timeout applies)
  bool idle_armed = true;                    // false: read idle timeout waits for arm_idle_timeout()
  std::optional<StatusScanner::Mode> scan;   // parse the peer's status records from received bytes
  uint64_t tx_rate_bps = 0;                  // aggregate cap over all connections; 0 = unlimited
  unsigned expected_connections = 1;         // the rate is split evenly over this many
  std::size_t write_bytes = kTcpWriteBytes;  // unpaced write size
  core::Millis idle_timeout{30'000};         // no progress for this long ends a connection
  // Called on the reading thread for every peer status record, as it arrives
  // (UDP rate adaptation reacts at once instead of at the owner's next tick).
  // Must be noexcept-safe and cheap; it never runs after finish() returns.
  std::function<void(const Status&)> on_status;
  // btest-pro quotas: charged before each write and after each read; when it runs
  // out the connection ends with kQuotaReached. Not owned; outlives the transfer.
  ByteBudget* budget = nullptr;
};

/// Peer status totals since the previous take_remote().
struct RemoteStatus {
  uint64_t bytes = 0;
  int cpu_percent = -1;  // last CPU the peer reported, -1 unknown
  uint64_t records = 0;
  uint64_t last_bytes = 0;  // bytes field of the newest record (what RouterOS displays)
};

class TcpTransfer {
 public:
  explicit TcpTransfer(TransferConfig cfg);
  ~TcpTransfer();
  TcpTransfer(const TcpTransfer&) = delete;
  TcpTransfer& operator=(const TcpTransfer&) = delete;

  /// Start moving data on fd. The first connection added is the primary.
  void add(core::Fd fd);
  /// Arm the read idle timeout (cfg.idle_timeout) on every connection, now and
  /// for later ones. Until then a silent peer is not an idle peer: the server
  /// arms it when the test starts, not while secondaries are still joining.
  void arm_idle_timeout();
  [[nodiscard]] std::size_t connections() const;

  [[nodiscard]] uint64_t rx_bytes() const;
  [[nodiscard]] uint64_t tx_bytes() const;
  RemoteStatus take_remote();
  /// Status records actually written to the peer (their bytes are not in tx_bytes()).
  [[nodiscard]] uint64_t status_records_sent() const { return status_sent_.load(std::memory_order_relaxed); }

  /// Queue a status record for the primary connection (between data writes when
  /// this side sends; written directly otherwise). Control plane, thread-safe.
  void send_status(const Bytes12& record);

  /// Readable (and requested()) once the primary connection has ended.
  [[nodiscard]] const core::Interrupt& primary_ended() const { return primary_ended_; }
  /// Why the primary ended ("peer closed the connection", "idle timeout", errno text).
  [[nodiscard]] std::string end_reason() const;

  /// Stop sending at a write boundary, half-close, let readers drain to EOF for at
  /// most `grace`, then shut everything down and join all threads. Idempotent.
  void finish(core::Millis grace);

 private:
  struct Conn;
  void reader_loop(Conn& c) noexcept;
  void sender_loop(Conn& c) noexcept;
  void conn_ended(Conn& c, const char* reason, int err) noexcept;
  void on_peer_status(const Status& s) noexcept;
  bool drain_nonblocking(Conn& c, const char*& reason, int& err) noexcept;
  bool wait_alive_zero(std::atomic<int>& alive, core::Millis timeout);

  TransferConfig cfg_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::atomic<bool> stop_send_{false};
  std::atomic<int> senders_alive_{0};
  std::atomic<int> readers_alive_{0};
  bool finished_ = false;
  bool idle_armed_ = false;

  // Status mailbox for the primary's sender.
  std::atomic<bool> status_pending_{false};
  std::atomic<uint64_t> status_sent_{0};
  std::mutex status_mu_;
  Bytes12 status_{};

  // Peer status accumulated by readers.
  std::atomic<uint64_t> remote_bytes_{0};
  std::atomic<int> remote_cpu_{-1};
  std::atomic<uint64_t> remote_records_{0};
  std::atomic<uint64_t> remote_last_{0};

  std::unique_ptr<std::byte[]> random_buf_;  // kTcpWriteBytes of random data, made once

  core::Interrupt primary_ended_;
  std::string end_reason_;
};

}  // namespace linerate::btest
