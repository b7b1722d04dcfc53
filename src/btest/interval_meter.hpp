// btest/interval_meter.hpp — per-second samples from cumulative counters.
//
// Both roles tick once a second and, at the end, close a final partial interval;
// the meter turns the running totals they read into deltas, so the intervals of
// a TestRecord always add up exactly to its totals.
#pragma once

#include <chrono>
#include <cstdint>

#include "btest/report.hpp"
#include "btest/tcp_transfer.hpp"

namespace linerate::btest {

class IntervalMeter {
 public:
  using Time = std::chrono::steady_clock::time_point;
  explicit IntervalMeter(Time start) : last_(start) {}

  /// Close the interval ending at `now` given cumulative byte counters. `remote`
  /// is what the peer reported in status records since the previous take.
  IntervalSample take(Time now, uint64_t rx_total, uint64_t tx_total, int local_cpu, const RemoteStatus& remote = {}) {
    IntervalSample s;
    s.index = ++seq_;
    s.seconds = std::chrono::duration<double>(now - last_).count();
    s.rx_bytes = rx_total - rx_;
    s.tx_bytes = tx_total - tx_;
    s.local_cpu = local_cpu;
    s.peer_rx_bytes = remote.bytes;
    s.peer_last_bytes = remote.last_bytes;
    s.peer_reported = remote.records > 0;
    s.remote_cpu = remote.records > 0 ? remote.cpu_percent : -1;
    rx_ = rx_total;
    tx_ = tx_total;
    last_ = now;
    return s;
  }

  /// True when bytes moved since the last take (a final partial interval is due).
  [[nodiscard]] bool moved(uint64_t rx_total, uint64_t tx_total) const { return rx_total != rx_ || tx_total != tx_; }
  [[nodiscard]] uint32_t last_index() const { return seq_; }

 private:
  Time last_;
  uint64_t rx_ = 0;
  uint64_t tx_ = 0;
  uint32_t seq_ = 0;
};

}  // namespace linerate::btest
