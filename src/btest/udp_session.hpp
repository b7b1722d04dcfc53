// btest/udp_session.hpp — the once-a-second bookkeeping of a UDP test, shared by
// client and server (spec §8, §11.5, §12, §13.2).
//
// In a UDP test the control connection carries only 12-byte status records
// (§12.4), both ways, every second. UdpSession owns that connection (a
// TcpTransfer that only reads records) and the UdpTransfer, and turns each tick
// into an IntervalSample: the peer's report steers an adaptive sender, our own
// received bytes (header overhead included, §11.4) go back in our status, and the
// change in lost datagrams is recorded. Control plane: owner thread only.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "btest/interval_meter.hpp"
#include "btest/protocol.hpp"
#include "btest/report.hpp"
#include "btest/tcp_transfer.hpp"
#include "btest/udp_transfer.hpp"
#include "core/cpu.hpp"
#include "core/socket.hpp"

namespace linerate::btest {

/// The UdpTransfer settings both roles derive the same way: who sends, the
/// offloads, random payload, and the payload of `tx_size`-byte on-wire datagrams
/// under `overhead` header bytes (§11.4) at `rate_bps` (0 = adaptive, §13.2).
inline UdpTransferConfig udp_transfer_config(bool send, bool receive, bool offload, bool random_payload,
                                             unsigned overhead, unsigned tx_size, uint64_t rate_bps) {
  UdpTransferConfig c;
  c.send = send;
  c.receive = receive;
  c.allow_gso = offload;
  c.allow_gro = offload;
  c.random_payload = random_payload;
  c.overhead_bytes = overhead;
  c.tx_payload_bytes = udp_payload_bytes(tx_size, overhead);
  c.tx_rate_bps = rate_bps;
  return c;
}

/// The UDP facts of a test's record: the server's port and our datagram size.
inline void record_udp_setup(TestRecord& rec, const UdpTransferConfig& c, uint16_t server_port) {
  rec.udp.port = server_port;
  rec.udp.overhead = c.overhead_bytes;
  rec.udp.tx_size = static_cast<unsigned>(c.tx_payload_bytes + c.overhead_bytes);
}

class UdpSession {
 public:
  using Time = std::chrono::steady_clock::time_point;

  UdpSession(core::Fd control_fd, core::Millis idle_timeout, const UdpTransferConfig& cfg,
             std::vector<core::Fd> sockets)
      : udp_(cfg, std::move(sockets)), control_(control_config(idle_timeout, udp_)) {
    control_.add(std::move(control_fd));
  }

  /// Start moving datagrams; the clock of the first interval starts now.
  void start(Time now) {
    meter_.emplace(now);
    udp_.start();
  }

  [[nodiscard]] TcpTransfer& control() { return control_; }
  [[nodiscard]] UdpTransfer& udp() { return udp_; }

  /// Close one interval: apply the peer's report (§13.2), sample our counters,
  /// and send our own status record (§8: every second, receiving or not).
  IntervalSample tick(Time now, TestRecord& rec) {
    IntervalSample s = sample(now, rec);
    control_.send_status(encode_status(s.index, static_cast<unsigned>(std::max(0, s.local_cpu)), s.rx_bytes));
    return s;
  }

  /// End: stop sending, close the control connection within `control_grace`,
  /// count datagrams still in flight (quiet period `drain_quiet`), then fill the
  /// record's totals and its final partial interval.
  void finish(TestRecord& rec, core::Millis control_grace, core::Millis drain_quiet, core::Millis drain_max) {
    udp_.stop_sending();
    control_.finish(control_grace);
    udp_.finish(drain_quiet, drain_max);
    const UdpTxTotals tx = udp_.tx();
    const UdpRxTotals rx = udp_.rx();
    rec.tx_bytes = tx.bytes;
    rec.rx_bytes = rx.bytes;
    rec.status_sent = control_.status_records_sent();
    rec.udp.tx_datagrams = tx.datagrams;
    rec.udp.rx_datagrams = rx.unique();
    rec.udp.lost = rx.lost;
    rec.udp.duplicates = rx.duplicates;
    rec.udp.reordered = rx.reordered;
    rec.udp.malformed = rx.malformed;
    rec.udp.foreign = rx.foreign;
    rec.udp.gso = tx.gso;
    rec.udp.gro = udp_.gro();
    if (meter_ && meter_->moved(rec.rx_bytes, rec.tx_bytes)) {
      rec.intervals.push_back(sample(std::chrono::steady_clock::now(), rec));
    }
  }

 private:
  static TransferConfig control_config(core::Millis idle_timeout, UdpTransfer& udp) {
    TransferConfig c;
    c.scan = StatusScanner::Mode::kAligned;  // §12.4: only status records on this connection
    c.peer_sends = true;                     // the peer reports every second: silence is idleness
    c.idle_timeout = idle_timeout;
    // §13.2 as soon as a report arrives, not at our next tick (up to 1 s later).
    c.on_status = [&udp](const Status& s) { udp.on_peer_status(s.bytes); };
    return c;
  }

  IntervalSample sample(Time now, TestRecord& rec) {
    RemoteStatus remote = control_.take_remote();
    const UdpRxTotals r = udp_.rx();
    IntervalSample s =
        meter_->take(now, r.bytes, udp_.tx().bytes, static_cast<int>(core::system_cpu_percent()), remote);
    s.lost = static_cast<int64_t>(r.lost) - static_cast<int64_t>(lost_before_);
    lost_before_ = r.lost;
    rec.peer_rx_bytes += remote.bytes;
    return s;
  }

  UdpTransfer udp_;      // constructed first: control_'s status hook points at it
  TcpTransfer control_;  // destroyed first: its reader thread stops before udp_ goes
  std::optional<IntervalMeter> meter_;
  uint64_t lost_before_ = 0;
};

}  // namespace linerate::btest
