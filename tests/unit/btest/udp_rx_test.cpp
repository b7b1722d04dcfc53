// Unit tests for btest/udp_rx (spec §11.2, §11.4, §11.5): sequence numbers, loss,
// duplicates and reordering per source-port flow, probes and malformed datagrams,
// on-wire byte accounting. Pure arithmetic on built datagrams: no sockets.
#include "btest/udp_rx.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::btest {
namespace {

constexpr unsigned kIpv4Overhead = 28;

// A datagram payload of `size` bytes (>= 4) starting with `seq` big-endian (§11.2).
std::vector<std::byte> datagram(uint32_t seq, std::size_t size = 4) {
  std::vector<std::byte> d(size, std::byte{0});
  d[0] = static_cast<std::byte>(seq >> 24);
  d[1] = static_cast<std::byte>(seq >> 16);
  d[2] = static_cast<std::byte>(seq >> 8);
  d[3] = static_cast<std::byte>(seq);
  return d;
}

uint32_t rnd(std::mt19937& rng) { return static_cast<uint32_t>(rng()); }

void feed(UdpRxAccount& a, uint16_t flow, uint32_t seq, std::size_t size = 4) {
  auto d = datagram(seq, size);
  a.on_datagram(flow, d);
}

TEST(UdpRxAccount, InOrderStreamHasNoLossDuplicatesOrReordering) {
  UdpRxAccount a(kIpv4Overhead, 0);
  for (uint32_t s = 1; s <= 1000; ++s) {
    feed(a, 2257, s);
  }
  const UdpRxTotals& t = a.totals();
  EXPECT_EQ(t.datagrams, 1000U);
  EXPECT_EQ(t.unique(), 1000U);
  EXPECT_EQ(t.lost, 0U);
  EXPECT_EQ(t.duplicates, 0U);
  EXPECT_EQ(t.reordered, 0U);
  EXPECT_EQ(t.probes, 0U);
  EXPECT_EQ(t.malformed, 0U);
  EXPECT_EQ(t.foreign, 0U);
  EXPECT_EQ(t.bytes, 1000U * (4 + kIpv4Overhead));
}

TEST(UdpRxAccount, StartValueIsNotAssumed) {
  // §11.2: samm starts at 1, btest-rs at 0, RouterOS unknown: the first datagram
  // of a flow opens it without counting anything before it as lost.
  for (uint32_t first : {0U, 1U, 2042U, 0xFFFFFFF0U}) {
    UdpRxAccount a(kIpv4Overhead, 0);
    feed(a, 1, first);
    feed(a, 1, first + 1);
    EXPECT_EQ(a.totals().lost, 0U) << "first " << first;
    EXPECT_EQ(a.totals().unique(), 2U);
  }
}

TEST(UdpRxAccount, GapCountsMissingDatagramsAsLost) {
  UdpRxAccount a(kIpv4Overhead, 0);
  feed(a, 1, 1);
  feed(a, 1, 2);
  feed(a, 1, 6);  // 3, 4, 5 missing
  EXPECT_EQ(a.totals().lost, 3U);
  feed(a, 1, 7);
  feed(a, 1, 107);  // 8..106 missing: beyond the 64-datagram window too
  EXPECT_EQ(a.totals().lost, 3U + 99U);
  EXPECT_EQ(a.totals().unique(), 5U);
  EXPECT_EQ(a.totals().reordered, 0U);
}

TEST(UdpRxAccount, LateArrivalTakesBackALoss) {
  UdpRxAccount a(kIpv4Overhead, 0);
  feed(a, 1, 1);
  feed(a, 1, 4);  // 2 and 3 lost so far
  ASSERT_EQ(a.totals().lost, 2U);
  feed(a, 1, 3);
  EXPECT_EQ(a.totals().lost, 1U);
  EXPECT_EQ(a.totals().reordered, 1U);
  feed(a, 1, 2);
  EXPECT_EQ(a.totals().lost, 0U);
  EXPECT_EQ(a.totals().reordered, 2U);
  EXPECT_EQ(a.totals().duplicates, 0U);
  EXPECT_EQ(a.totals().unique(), 4U);
  // The late datagrams do not move the flow back: 5 continues it in order.
  feed(a, 1, 5);
  EXPECT_EQ(a.totals().lost, 0U);
  EXPECT_EQ(a.totals().reordered, 2U);
}

TEST(UdpRxAccount, DuplicatesAreCountedButNotUnique) {
  UdpRxAccount a(kIpv4Overhead, 0);
  feed(a, 1, 10);
  feed(a, 1, 10);  // duplicate of the newest
  feed(a, 1, 11);
  feed(a, 1, 12);
  feed(a, 1, 11);  // duplicate behind the newest
  feed(a, 1, 14);  // 13 lost
  feed(a, 1, 13);  // late: takes the loss back
  feed(a, 1, 13);  // now a duplicate, not a second late arrival
  const UdpRxTotals& t = a.totals();
  EXPECT_EQ(t.datagrams, 8U);
  EXPECT_EQ(t.duplicates, 3U);
  EXPECT_EQ(t.unique(), 5U);  // 10..14
  EXPECT_EQ(t.lost, 0U);
  EXPECT_EQ(t.reordered, 1U);
  // Duplicates are datagrams that arrived: their bytes count (what the link carried).
  EXPECT_EQ(t.bytes, 8U * (4 + kIpv4Overhead));
}

TEST(UdpRxAccount, SequenceWrapsAt2To32) {
  UdpRxAccount a(kIpv4Overhead, 0);
  feed(a, 1, 0xFFFFFFFEU);
  feed(a, 1, 0xFFFFFFFFU);
  feed(a, 1, 0U);  // in order across the wrap
  feed(a, 1, 1U);
  EXPECT_EQ(a.totals().lost, 0U);
  EXPECT_EQ(a.totals().reordered, 0U);
  feed(a, 1, 4U);  // 2, 3 lost
  EXPECT_EQ(a.totals().lost, 2U);

  // A gap that spans the wrap, filled late from before the wrap.
  UdpRxAccount b(kIpv4Overhead, 0);
  feed(b, 1, 0xFFFFFFFDU);
  feed(b, 1, 1U);  // 0xFFFFFFFE, 0xFFFFFFFF, 0 lost
  EXPECT_EQ(b.totals().lost, 3U);
  feed(b, 1, 0xFFFFFFFFU);  // late, from before the wrap: not a jump of 2^32-2
  EXPECT_EQ(b.totals().lost, 2U);
  EXPECT_EQ(b.totals().reordered, 1U);
  feed(b, 1, 0xFFFFFFFFU);
  EXPECT_EQ(b.totals().duplicates, 1U);
  feed(b, 1, 2U);
  EXPECT_EQ(b.totals().lost, 2U);
  EXPECT_EQ(b.totals().unique(), 4U);
}

TEST(UdpRxAccount, FlowsAreIndependentPerSourcePort) {
  // §11.2 / §11.6: each sender (source port) has its own sequence space.
  UdpRxAccount a(kIpv4Overhead, 0);
  for (uint32_t s = 1; s <= 50; ++s) {
    feed(a, 2257, s);
    feed(a, 2258, s);  // the same numbers on another port are not duplicates
  }
  EXPECT_EQ(a.totals().duplicates, 0U);
  EXPECT_EQ(a.totals().lost, 0U);
  EXPECT_EQ(a.totals().unique(), 100U);

  feed(a, 2258, 60);  // a gap on one flow only
  EXPECT_EQ(a.totals().lost, 9U);
  feed(a, 2257, 51);  // the other flow continues in order
  EXPECT_EQ(a.totals().lost, 9U);
  EXPECT_EQ(a.totals().reordered, 0U);
  feed(a, 2257, 1000);  // its own gap
  EXPECT_EQ(a.totals().lost, 9U + 948U);
}

TEST(UdpRxAccount, ManyFlowsKeepSeparateSequenceSpaces) {
  // 255 connections (the protocol maximum) from consecutive ports, interleaved.
  UdpRxAccount a(kIpv4Overhead, 0);
  for (uint32_t s = 1; s <= 20; ++s) {
    for (uint16_t port = 2257; port < 2257 + 255; ++port) {
      feed(a, port, s);
    }
  }
  EXPECT_EQ(a.totals().unique(), 20U * 255U);
  EXPECT_EQ(a.totals().lost, 0U);
  EXPECT_EQ(a.totals().duplicates, 0U);
  EXPECT_EQ(a.totals().reordered, 0U);
}

TEST(UdpRxAccount, ZeroLengthDatagramIsAProbeAndIgnored) {
  // §11.3: a NAT probe is one empty datagram; it must not open or disturb a flow.
  UdpRxAccount a(kIpv4Overhead, 1472);
  a.on_datagram(2257, {});
  feed(a, 2257, 5, 1472);
  a.on_datagram(2257, {});
  feed(a, 2257, 6, 1472);
  const UdpRxTotals& t = a.totals();
  EXPECT_EQ(t.probes, 2U);
  EXPECT_EQ(t.datagrams, 2U);
  EXPECT_EQ(t.lost, 0U);
  EXPECT_EQ(t.malformed, 0U);
  EXPECT_EQ(t.bytes, 2U * 1500U);  // probes carry no counted bytes
}

TEST(UdpRxAccount, OneToThreeBytesAreMalformedAndIgnored) {
  UdpRxAccount a(kIpv4Overhead, 0);
  feed(a, 1, 1);
  for (std::size_t n = 1; n <= 3; ++n) {
    std::vector<std::byte> shorty(n, std::byte{0xFF});  // would read as a huge jump if parsed
    a.on_datagram(1, shorty);
  }
  feed(a, 1, 2);
  const UdpRxTotals& t = a.totals();
  EXPECT_EQ(t.malformed, 3U);
  EXPECT_EQ(t.datagrams, 2U);
  EXPECT_EQ(t.lost, 0U);
  EXPECT_EQ(t.bytes, 2U * (4 + kIpv4Overhead));
}

TEST(UdpRxAccount, WrongSizeIsMalformedWhenTheSizeIsKnown) {
  // §11.2: all datagrams of a test have the same size.
  UdpRxAccount a(kIpv4Overhead, 1472);
  feed(a, 1, 1, 1472);
  feed(a, 1, 2, 1471);
  feed(a, 1, 3, 1473);
  feed(a, 1, 4, 4);
  feed(a, 1, 2, 1472);
  const UdpRxTotals& t = a.totals();
  EXPECT_EQ(t.malformed, 3U);
  EXPECT_EQ(t.datagrams, 2U);
  EXPECT_EQ(t.lost, 0U);  // 3 and 4 were malformed, not seen: 2 continues after 1

  UdpRxAccount any(kIpv4Overhead, 0);  // 0 = any size (the server does not know the client's)
  feed(any, 1, 1, 100);
  feed(any, 1, 2, 60000);
  EXPECT_EQ(any.totals().malformed, 0U);
  EXPECT_EQ(any.totals().bytes, 100U + 60000U + 2U * kIpv4Overhead);
}

TEST(UdpRxAccount, BytesArePayloadPlusHeaderOverhead) {
  // §11.4: a 1500-byte tx_size is 1472 payload bytes and counts 1500 per datagram;
  // samm's loopback check: 833 datagrams -> 1 249 500 bytes.
  UdpRxAccount a(kIpv4Overhead, 1472);
  for (uint32_t s = 1; s <= 833; ++s) {
    feed(a, 2257, s, 1472);
  }
  EXPECT_EQ(a.totals().bytes, 1'249'500U);
  EXPECT_EQ(a.overhead_bytes(), kIpv4Overhead);

  UdpRxAccount v6(48, 1452);  // IPv6: 1500 - 48
  feed(v6, 1, 1, 1452);
  EXPECT_EQ(v6.totals().bytes, 1500U);
}

TEST(UdpRxAccount, ForeignAndExternalMalformedOnlyCount) {
  UdpRxAccount a(kIpv4Overhead, 0);
  a.on_foreign();
  a.on_foreign();
  a.on_malformed();
  EXPECT_EQ(a.totals().foreign, 2U);
  EXPECT_EQ(a.totals().malformed, 1U);
  EXPECT_EQ(a.totals().datagrams, 0U);
  EXPECT_EQ(a.totals().bytes, 0U);
}

TEST(UdpRxAccount, ReorderedStartOfFlowKeepsUniquePlusLostEqualSent) {
  // The first datagram to arrive need not be the first sent. Sent 1..5, 4 lost,
  // arrival 3 5 1 2: 1 and 2 were never counted lost, so they must not take back
  // the loss of 4.
  UdpRxAccount a(kIpv4Overhead, 0);
  for (uint32_t s : {3U, 5U, 1U, 2U}) {
    feed(a, 1, s);
  }
  EXPECT_EQ(a.totals().unique(), 4U);
  EXPECT_EQ(a.totals().lost, 1U);
  EXPECT_EQ(a.totals().reordered, 2U);

  // Sent 1..6, arrival 4 1 6: 2, 3 and 5 are missing; 2 then arrives late.
  UdpRxAccount b(kIpv4Overhead, 0);
  for (uint32_t s : {4U, 1U, 6U, 2U}) {
    feed(b, 1, s);
  }
  EXPECT_EQ(b.totals().unique(), 4U);
  EXPECT_EQ(b.totals().lost, 2U);
  EXPECT_EQ(b.totals().duplicates, 0U);
}

// Arrival order for datagrams start..start+sent-1 on one flow: each one dropped
// with drop_pct %, delayed by up to `jitter` places, duplicated right after itself
// with dup_pct %. The first is always delivered (though maybe not first), the last
// always delivered last: a receiver cannot know of datagrams lost before the
// first or after the last one it saw.
std::vector<uint32_t> arrivals(std::mt19937& rng, uint32_t start, uint32_t sent, unsigned drop_pct, unsigned dup_pct,
                               unsigned jitter, std::size_t& unique_out) {
  std::vector<std::pair<uint64_t, uint32_t>> keyed;  // (send slot + delay, seq)
  for (uint32_t i = 0; i + 1 < sent; ++i) {
    if (i == 0 || rnd(rng) % 100 >= drop_pct) {
      keyed.emplace_back(i + rnd(rng) % (jitter + 1), start + i);
    }
  }
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  std::vector<uint32_t> out;
  for (const auto& [key, s] : keyed) {
    out.push_back(s);
    if (rnd(rng) % 100 < dup_pct) {
      out.push_back(s);
    }
  }
  out.push_back(start + sent - 1);
  unique_out = keyed.size() + 1;
  return out;
}

TEST(UdpRxAccount, RandomLossReorderAndDuplicationKeepUniquePlusLostEqualSent) {
  // Invariant (§11.5): when the last datagram arrives, every datagram sent is
  // either received (counted once) or lost. Delays stay inside the 64-datagram
  // window, so every duplicate is recognisable. Seeded RNG: reproducible.
  std::mt19937 rng(20240917);
  for (int round = 0; round < 300; ++round) {
    const uint32_t start = (round % 4 == 0) ? 0xFFFFFF00U + rnd(rng) % 200 : rnd(rng);  // a quarter wrap
    const uint32_t sent = 2 + rnd(rng) % 3000;
    const unsigned drop_pct = round % 5 == 0 ? 0 : rnd(rng) % 40;
    const unsigned dup_pct = rnd(rng) % 10;
    const unsigned jitter = rnd(rng) % 30;
    std::size_t unique = 0;
    std::vector<uint32_t> seqs = arrivals(rng, start, sent, drop_pct, dup_pct, jitter, unique);

    UdpRxAccount a(kIpv4Overhead, 0);
    for (uint32_t s : seqs) {
      feed(a, 2257, s);
    }
    const UdpRxTotals& t = a.totals();
    EXPECT_EQ(t.unique(), unique) << "round " << round;
    EXPECT_EQ(t.datagrams, seqs.size()) << "round " << round;
    EXPECT_EQ(t.duplicates, seqs.size() - unique) << "round " << round;
    EXPECT_EQ(t.unique() + t.lost, sent) << "round " << round << " start " << start << " jitter " << jitter << " drop "
                                         << drop_pct << "% first " << seqs.front();
  }
}

TEST(UdpRxAccount, RandomPatternsOnInterleavedFlowsSumUp) {
  std::mt19937 rng(99);
  UdpRxAccount a(kIpv4Overhead, 0);
  uint64_t sent_total = 0;
  std::vector<std::vector<uint32_t>> flows;
  for (int f = 0; f < 4; ++f) {
    const uint32_t sent = 500 + rnd(rng) % 500;
    std::size_t unique = 0;
    flows.push_back(arrivals(rng, rnd(rng), sent, 10, 3, 20, unique));
    sent_total += sent;
  }
  // Interleave the flows' arrivals (each flow keeps its own order).
  std::vector<std::size_t> pos(flows.size(), 0);
  for (bool any = true; any;) {
    any = false;
    for (std::size_t f = 0; f < flows.size(); ++f) {
      if (pos[f] < flows[f].size() && rnd(rng) % 2 == 0) {
        feed(a, static_cast<uint16_t>(2257 + f), flows[f][pos[f]++]);
      }
      any = any || pos[f] < flows[f].size();
    }
  }
  EXPECT_EQ(a.totals().unique() + a.totals().lost, sent_total);
}

}  // namespace
}  // namespace linerate::btest
