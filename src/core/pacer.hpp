// core/pacer.hpp — rate control by absolute deadlines (btest spec §13.1).
//
// The pacer hands out "send this many bytes at time T". Deadline k is computed as
// anchor + k*bytes*8/rate (not by adding a truncated interval k times), so
// rounding never accumulates; a sender that falls more than two intervals (or a
// caller-chosen lag) behind is re-anchored to now instead of bursting further. An interval above 0.5 s is rounded
// to exactly 1 s (MikroTik's slow-rate quirk).
// Pure arithmetic on caller-supplied times: the sleeping is the caller's, so tests
// need no clock. Not thread-safe: one pacer per sender.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace linerate::core {

namespace detail {
__extension__ typedef unsigned __int128 PacerU128;
}

class Pacer {
 public:
  static constexpr uint64_t kMinSegmentBytes = 1448;  // one TCP segment at MTU 1500

  /// rate_bps 0 means unlimited. max_chunk_bytes bounds one grant. unit_bytes > 0
  /// makes every grant a whole number of units (UDP datagrams, at least one),
  /// in place of the TCP segment floor.
  /// max_lag_ns > 0: re-anchor only when more than this (and two intervals)
  /// behind, i.e. catch up bursts of at most that much time. UDP senders grant
  /// sub-millisecond batches, and a 2-interval rule threw away every scheduler
  /// hiccup (94% of 1 Gbit/s held on a busy 2-core VM).
  Pacer(uint64_t rate_bps, std::size_t max_chunk_bytes, std::size_t unit_bytes = 0, uint64_t max_lag_ns = 0)
      : rate_bps_(rate_bps), max_chunk_(max_chunk_bytes) {
    if (unit_bytes > 0) {
      max_chunk_ = std::max(unit_bytes, max_chunk_ / unit_bytes * unit_bytes);
    }
    if (max_chunk_ == 0) {
      max_chunk_ = 1;
    }
    if (rate_bps_ == 0) {
      chunk_ = max_chunk_;
      return;
    }
    // About 100 grants per second keeps a fast stream smooth. Slow streams get at
    // least one 1448-byte segment per grant (as long as that is at most half a
    // second of data) so a low cap does not cost 100 wake-ups a second per
    // connection: the load test saw 4 x 1 Mbit/s connections per test starve the
    // server's accept thread that way.
    uint64_t per_10ms = rate_bps_ / 8 / 100;
    uint64_t floor_bytes = std::min<uint64_t>(kMinSegmentBytes, rate_bps_ / 8 / 2);
    if (unit_bytes > 0) {
      floor_bytes = unit_bytes;  // a datagram is indivisible (and §13.1: one per second at worst)
    }
    chunk_ = static_cast<std::size_t>(std::clamp<uint64_t>(std::max(per_10ms, floor_bytes), 1, max_chunk_));
    if (unit_bytes > 0) {
      chunk_ = std::max(unit_bytes, chunk_ / unit_bytes * unit_bytes);
    }
    interval_ns_ = static_cast<uint64_t>(static_cast<detail::PacerU128>(chunk_) * 8 * 1'000'000'000ULL / rate_bps_);
    if (interval_ns_ > 500'000'000ULL) {
      interval_ns_ = 1'000'000'000ULL;  // §13.1 slow-rate quirk
      slow_ = true;
    }
    max_lag_ns_ = std::max<uint64_t>(2 * interval_ns_, max_lag_ns);
  }

  [[nodiscard]] bool unlimited() const { return rate_bps_ == 0; }
  /// Bytes per grant.
  [[nodiscard]] std::size_t chunk_bytes() const { return chunk_; }
  [[nodiscard]] uint64_t interval_ns() const { return interval_ns_; }

  /// The time (same clock as now_ns) at which the next chunk may be sent.
  /// Call once per chunk actually sent.
  uint64_t next_deadline(uint64_t now_ns) {
    if (rate_bps_ == 0) {
      return now_ns;
    }
    uint64_t due = due_ns();
    if (!started_ || now_ns > due + max_lag_ns_) {
      anchor_ns_ = now_ns;  // first grant, or re-anchor after a stall
      grants_ = 0;
      started_ = true;
      due = now_ns;
    }
    ++grants_;
    return due;
  }

 private:
  // Deadline of grant number grants_ since the anchor. interval_ns_ is truncated to
  // whole nanoseconds, so adding it up would drift (0.8 ns per 64 KiB grant at
  // 10 Gbit/s, about 3 extra grants in 10 s): compute from the anchor instead.
  [[nodiscard]] uint64_t due_ns() const {
    if (slow_) {
      return anchor_ns_ + grants_ * interval_ns_;
    }
    return anchor_ns_ +
           static_cast<uint64_t>(static_cast<detail::PacerU128>(grants_) * chunk_ * 8 * 1'000'000'000ULL / rate_bps_);
  }

  uint64_t rate_bps_;
  std::size_t max_chunk_;
  std::size_t chunk_ = 0;
  uint64_t interval_ns_ = 0;
  uint64_t max_lag_ns_ = 0;
  uint64_t anchor_ns_ = 0;
  uint64_t grants_ = 0;  // grants handed out since anchor_ns_
  bool slow_ = false;
  bool started_ = false;
};

}  // namespace linerate::core
