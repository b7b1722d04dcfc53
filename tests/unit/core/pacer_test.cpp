// Unit tests for core/pacer (spec §13.1). Pure arithmetic on simulated times: no
// clock, no sleeping.
#include "core/pacer.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <gtest/gtest.h>

namespace linerate::core {
namespace {

constexpr uint64_t kSecondNs = 1'000'000'000ULL;

// Bytes a sender is granted in [0, duration_ns) when it sends each chunk exactly at
// its deadline (a caller that never falls behind).
uint64_t granted_bytes(Pacer& pacer, uint64_t duration_ns) {
  uint64_t bytes = 0;
  uint64_t now = 0;
  for (uint64_t i = 0; i < 100'000'000; ++i) {  // bound: far above any rate tested here
    uint64_t due = pacer.next_deadline(now);
    if (due >= duration_ns) {
      break;
    }
    bytes += pacer.chunk_bytes();
    now = due;
  }
  return bytes;
}

TEST(Pacer, ZeroRateIsUnlimited) {
  Pacer p(0, 65536);
  EXPECT_TRUE(p.unlimited());
  EXPECT_EQ(p.chunk_bytes(), 65536U);
  EXPECT_EQ(p.interval_ns(), 0U);
  EXPECT_EQ(p.next_deadline(123), 123U);
  EXPECT_EQ(p.next_deadline(124), 124U);
  EXPECT_EQ(p.next_deadline(5), 5U);
}

TEST(Pacer, ZeroMaxChunkBecomesOneByte) {
  Pacer p(0, 0);
  EXPECT_EQ(p.chunk_bytes(), 1U);
}

TEST(Pacer, EightMegabitIsTenKilobytesEveryTenMs) {
  Pacer p(8'000'000, 65536);
  EXPECT_FALSE(p.unlimited());
  EXPECT_EQ(p.chunk_bytes(), 10'000U);
  EXPECT_EQ(p.interval_ns(), 10'000'000U);
}

TEST(Pacer, ChunkIsCappedByMaxChunk) {
  Pacer p(10'000'000'000ULL, 32768);  // 10 Gbit/s would want 12.5 MB per 10 ms
  EXPECT_EQ(p.chunk_bytes(), 32768U);
  EXPECT_EQ(p.interval_ns(), 26'214U);  // 32768 * 8 / 1e10 s, truncated
}

TEST(Pacer, SlowRatesGrantUpToHalfASecondOfData) {
  // 300 bit/s: 10 ms of data would be 0.375 bytes; a grant is instead half a
  // second of data (18 bytes), so a slow stream is not woken 100 times a second.
  Pacer p(300, 1500);
  EXPECT_EQ(p.chunk_bytes(), 18U);
  EXPECT_EQ(p.interval_ns(), 480'000'000U);
}

TEST(Pacer, LowCapsSendWholeSegmentsNotHundredsOfWakeups) {
  // 250 kbit/s (1 Mbit/s split over 4 connections): one 1448-byte segment per
  // grant, ~21.6 grants/s instead of 100 grants of 31 bytes.
  Pacer p(250'000, 256 * 1024);
  EXPECT_EQ(p.chunk_bytes(), Pacer::kMinSegmentBytes);
  EXPECT_EQ(p.interval_ns(), 46'336'000U);
}

TEST(Pacer, ChunkIsAtLeastOneByte) {
  Pacer p(15, 1500);  // below 16 bit/s half a second is under one byte
  EXPECT_EQ(p.chunk_bytes(), 1U);
}

TEST(Pacer, SlowRateIntervalBecomesExactlyOneSecond) {
  // 10 bit/s with 1-byte chunks would be 0.8 s per chunk: > 0.5 s, so exactly 1 s (§13.1).
  Pacer p(10, 1500);
  EXPECT_EQ(p.chunk_bytes(), 1U);
  EXPECT_EQ(p.interval_ns(), kSecondNs);
  Pacer one(1, 32768);  // 8 s per byte
  EXPECT_EQ(one.interval_ns(), kSecondNs);
  EXPECT_EQ(one.next_deadline(7), 7U);
  EXPECT_EQ(one.next_deadline(7), 7U + kSecondNs);
  EXPECT_EQ(one.next_deadline(8), 7U + 2 * kSecondNs);
}

TEST(Pacer, IntervalAtHalfSecondIsKept) {
  Pacer p(16, 1500);  // 1 byte at 16 bit/s = exactly 0.5 s: not above, so unchanged
  EXPECT_EQ(p.interval_ns(), 500'000'000U);
}

TEST(Pacer, FirstDeadlineIsNow) {
  Pacer p(8'000'000, 65536);
  EXPECT_EQ(p.next_deadline(5'000), 5'000U);
}

TEST(Pacer, DeadlinesAdvanceExactlyByInterval) {
  Pacer p(8'000'000, 65536);
  const uint64_t t0 = 1'000'000'000'000ULL;
  EXPECT_EQ(p.next_deadline(t0), t0);
  // A caller that is early (asks before the deadline) still gets the schedule.
  for (uint64_t k = 1; k <= 1000; ++k) {
    EXPECT_EQ(p.next_deadline(t0 + (k - 1) * 10'000'000), t0 + k * 10'000'000) << "grant " << k;
  }
}

TEST(Pacer, FractionalIntervalDoesNotDrift) {
  // 3 Mbit/s in 1000-byte chunks: 2 666 666.67 ns per chunk. Deadline k must be
  // floor(k * 8e12 / 3e6), not k * 2 666 666.
  Pacer p(3'000'000, 1000);
  ASSERT_EQ(p.chunk_bytes(), 1000U);
  uint64_t now = 0;
  uint64_t due = 0;
  for (uint64_t k = 0; k <= 30'000; ++k) {
    due = p.next_deadline(now);
    EXPECT_EQ(due, k * 8'000'000'000'000ULL / 3'000'000ULL) << "grant " << k;
    now = due;
  }
  EXPECT_EQ(due, 80 * kSecondNs);
}

TEST(Pacer, SmallLagKeepsSchedule) {
  Pacer p(8'000'000, 65536);
  EXPECT_EQ(p.next_deadline(0), 0U);
  // Next due at 10 ms; arriving 2 intervals late (30 ms) is not yet a stall.
  EXPECT_EQ(p.next_deadline(30'000'000), 10'000'000U);
  EXPECT_EQ(p.next_deadline(30'000'000), 20'000'000U);
  EXPECT_EQ(p.next_deadline(30'000'000), 30'000'000U);
}

TEST(Pacer, ReanchorsAfterStallOfMoreThanTwoIntervals) {
  Pacer p(8'000'000, 65536);
  EXPECT_EQ(p.next_deadline(0), 0U);
  EXPECT_EQ(p.next_deadline(0), 10'000'000U);
  // Next due at 20 ms; now 50 ms > 20 + 2*10 ms: restart from now instead of bursting.
  EXPECT_EQ(p.next_deadline(50'000'000), 50'000'000U);
  EXPECT_EQ(p.next_deadline(50'000'000), 60'000'000U);
  EXPECT_EQ(p.next_deadline(60'000'000), 70'000'000U);
}

TEST(Pacer, ReanchorsAtSlowRate) {
  Pacer p(10, 1500);
  EXPECT_EQ(p.next_deadline(0), 0U);
  EXPECT_EQ(p.next_deadline(0), kSecondNs);
  EXPECT_EQ(p.next_deadline(10 * kSecondNs), 10 * kSecondNs);
  EXPECT_EQ(p.next_deadline(10 * kSecondNs), 11 * kSecondNs);
}

TEST(Pacer, TenSecondsGrantRateTimesTenOverEightWithinOneChunk) {
  struct Case {
    uint64_t rate_bps;
    std::size_t max_chunk;
  };
  for (Case c : {Case{8'000'000, 65536}, Case{3'000'000, 1000}, Case{1'000'000'000, 32768},
                 Case{10'000'000'000ULL, 65536}, Case{100'000'000'000ULL, 32768}, Case{12'345'678, 1500},
                 Case{300, 1500}, Case{800, 1500}, Case{999'999, 9000}}) {
    Pacer p(c.rate_bps, c.max_chunk);
    uint64_t got = granted_bytes(p, 10 * kSecondNs);
    uint64_t want = c.rate_bps * 10 / 8;
    uint64_t diff = got > want ? got - want : want - got;
    EXPECT_LE(diff, p.chunk_bytes()) << "rate " << c.rate_bps << " chunk " << p.chunk_bytes() << ": granted " << got
                                     << ", want " << want;
  }
}

TEST(Pacer, SlowRateQuirkGrantsOneChunkPerSecond) {
  Pacer p(10, 1500);
  EXPECT_EQ(granted_bytes(p, 10 * kSecondNs), 10U);  // 1 byte/s, not 10/8 bytes/s
}

TEST(Pacer, UnitBytesMakeEveryGrantWholeDatagrams) {
  // UDP (§13.1): a grant is a whole number of datagrams, at least one, and never
  // more than max_chunk rounded down to whole datagrams.
  struct Case {
    uint64_t rate_bps;
    std::size_t max_chunk;
    std::size_t unit;
  };
  for (Case c : {Case{20'000'000, 64 * 1500, 1500}, Case{50'000'000, 44 * 1500, 1500}, Case{1'000'000, 65536, 9000},
                 Case{10'000'000'000ULL, 352 * 1500, 1500}, Case{8'000, 65536, 32}, Case{300, 1000, 1000},
                 Case{64'000, 100, 64000}, Case{0, 70'000, 1500}, Case{0, 1000, 1500}, Case{12'345'678, 65536, 512}}) {
    Pacer p(c.rate_bps, c.max_chunk, c.unit);
    const std::size_t chunk = p.chunk_bytes();
    EXPECT_EQ(chunk % c.unit, 0U) << "rate " << c.rate_bps << " unit " << c.unit << " chunk " << chunk;
    EXPECT_GE(chunk, c.unit) << "rate " << c.rate_bps << " unit " << c.unit;
    EXPECT_LE(chunk, std::max(c.unit, c.max_chunk / c.unit * c.unit)) << "rate " << c.rate_bps << " unit " << c.unit;
  }
}

TEST(Pacer, UnitBytesReplaceTheTcpSegmentFloor) {
  // 250 kbit/s with 1500-byte datagrams: one datagram per grant (not 1448 bytes).
  Pacer p(250'000, 64 * 1500, 1500);
  EXPECT_EQ(p.chunk_bytes(), 1500U);
  EXPECT_EQ(p.interval_ns(), 48'000'000U);  // 1500 * 8 / 250e3 s
  // 20 Mbit/s: 10 ms would be 25 000 bytes -> 16 whole datagrams (24 000 bytes).
  Pacer q(20'000'000, 64 * 1500, 1500);
  EXPECT_EQ(q.chunk_bytes(), 24'000U);
  EXPECT_EQ(q.interval_ns(), 9'600'000U);
  // A 64000-byte datagram is one grant even when max_chunk is smaller.
  Pacer big(100'000'000, 1000, 64000);
  EXPECT_EQ(big.chunk_bytes(), 64000U);
}

TEST(Pacer, UnitBytesSlowRateIsOneDatagramPerSecond) {
  // §13.1 / Issue #9: 300 bit/s with 1000-byte datagrams computes 26.7 s per
  // datagram; the quirk makes it exactly one datagram per second.
  Pacer p(300, 64 * 1000, 1000);
  EXPECT_EQ(p.chunk_bytes(), 1000U);
  EXPECT_EQ(p.interval_ns(), kSecondNs);
  EXPECT_EQ(p.next_deadline(5), 5U);
  EXPECT_EQ(p.next_deadline(5), 5U + kSecondNs);
  EXPECT_EQ(p.next_deadline(6), 5U + 2 * kSecondNs);
  Pacer fresh(300, 64 * 1000, 1000);
  EXPECT_EQ(granted_bytes(fresh, 10 * kSecondNs), 10U * 1000U);  // 10 datagrams in 10 s
}

TEST(Pacer, UnitBytesKeepTheRateOverTenSeconds) {
  for (std::size_t unit : {32U, 512U, 1500U, 9000U}) {
    Pacer p(20'000'000, 64 * unit, unit);
    uint64_t got = granted_bytes(p, 10 * kSecondNs);
    uint64_t want = 20'000'000ULL * 10 / 8;
    uint64_t diff = got > want ? got - want : want - got;
    EXPECT_LE(diff, p.chunk_bytes()) << "unit " << unit;
    EXPECT_EQ(got % unit, 0U) << "unit " << unit;
  }
}

}  // namespace
}  // namespace linerate::core
