// tests/unit/scan/udp_probe_test.cpp — UDP probe templates, the UDP/ICMP-error
// parser and the ICMP verdict table.
//
// Built probes are checked against the independent from-scratch RFC 1071 routines
// of packet_test_util.hpp (a full one's-complement sum over header or
// pseudo-header + datagram), never against the library's own incremental
// arithmetic. ICMP errors are assembled by hand from the RFC 792 / RFC 4443
// layouts around real probes built by the templates.
#include "scan/udp_probe.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <span>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "packet_test_util.hpp"
#include "scan/result.hpp"
#include "scan/syn_probe.hpp"

namespace {

using linerate::scan::Ip6Bytes;
using linerate::scan::kIpProtoTcp;
using linerate::scan::kIpProtoUdp;
using linerate::scan::kMaxUdpPayload;
using linerate::scan::parse_scan_event;
using linerate::scan::PortState;
using linerate::scan::PortVerdict;
using linerate::scan::Protocol;
using linerate::scan::Reason;
using linerate::scan::ScanEvent;
using linerate::scan::SynTemplate4;
using linerate::scan::SynTemplate6;
using linerate::scan::Tuple4;
using linerate::scan::Tuple6;
using linerate::scan::UdpPayload;
using linerate::scan::UdpTemplate4;
using linerate::scan::UdpTemplate6;
using linerate::scan::unreach_verdict;
using linerate::scan::verdict_for;

using namespace linerate::testing;  // packet_test_util.hpp

using Kind = ScanEvent::Kind;

// ---- helpers -------------------------------------------------------------------------

Bytes text(std::string_view s) {
  Bytes out;
  for (char c : s) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

UdpPayload payload_of(const Bytes& b) {
  auto p = UdpPayload::make(b);
  EXPECT_TRUE(p.has_value());
  return p.value_or(UdpPayload{});
}

Ip6Bytes v4_in_v6(uint32_t a) {
  Ip6Bytes out{};
  out[0] = static_cast<uint8_t>(a >> 24);
  out[1] = static_cast<uint8_t>(a >> 16);
  out[2] = static_cast<uint8_t>(a >> 8);
  out[3] = static_cast<uint8_t>(a);
  return out;
}

Ip6Bytes ip6(std::initializer_list<int> tail) {
  Ip6Bytes a{0x20, 0x01, 0x0d, 0xb8};  // 2001:db8::/32 documentation prefix
  std::size_t i = 16 - tail.size();
  for (int x : tail) {
    a[i++] = static_cast<uint8_t>(x);
  }
  return a;
}

Bytes udp_datagram(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes u;
  push16(u, sport);
  push16(u, dport);
  push16(u, static_cast<uint16_t>(8 + payload.size()));
  push16(u, 0);  // checksum: not verified by the parser
  append(u, payload);
  return u;
}

// An ICMP error message (RFC 792 / RFC 4443 layout): type, code, checksum (left
// 0: not verified), 4 unused bytes, then the quote.
Bytes icmp_error(uint8_t type, uint8_t code, const Bytes& quote) {
  Bytes m = bytes_of({type, code, 0, 0, 0, 0, 0, 0});
  append(m, quote);
  return m;
}

Bytes first(const Bytes& b, std::size_t n) { return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)); }

// A probe tuple as one value, so a test compares (and prints) all four fields at once.
std::tuple<uint32_t, uint32_t, uint16_t, uint16_t> fields(const Tuple4& t) {
  return {t.src_ip, t.dst_ip, t.src_port, t.dst_port};
}

std::tuple<Ip6Bytes, Ip6Bytes, uint16_t, uint16_t> fields(const Tuple6& t) {
  return {t.src_ip, t.dst_ip, t.src_port, t.dst_port};
}

constexpr uint32_t kUs = 0xc0000201;      // 192.0.2.1
constexpr uint32_t kHost = 0xc6336407;    // 198.51.100.7
constexpr uint32_t kRouter = 0xcb00710a;  // 203.0.113.10

// ---- UdpPayload ----------------------------------------------------------------------

TEST(UdpPayload, EmptyByDefault) {
  const UdpPayload p;
  EXPECT_TRUE(p.empty());
  EXPECT_EQ(p.sum(), 0);
}

TEST(UdpPayload, RejectsLongerThanMax) {
  EXPECT_TRUE(UdpPayload::make(Bytes(kMaxUdpPayload)).has_value());
  EXPECT_FALSE(UdpPayload::make(Bytes(kMaxUdpPayload + 1)).has_value());
}

// ---- UdpTemplate4 ----------------------------------------------------------------------

TEST(UdpTemplate4, BuildsExactHeaderFields) {
  const UdpTemplate4 tmpl(kUs, 61);
  const UdpPayload payload = payload_of(text("hello"));
  Bytes out(UdpTemplate4::kMaxLen);
  const std::size_t n = tmpl.build(out, kHost, 40000, 53, payload, 0x1234);
  ASSERT_EQ(n, 28U + 5U);
  out.resize(n);
  // Total length 33, id 0x1234, DF clear and no fragment, TTL 61, UDP.
  EXPECT_EQ(ipv4_header(out), (Ipv4Header{0x45, 33, 0x1234, 0, 61, 17, kUs, kHost}));
  EXPECT_EQ(be16(out, 20), 40000);
  EXPECT_EQ(be16(out, 22), 53);
  EXPECT_EQ(be16(out, 24), 13);  // UDP length
  EXPECT_EQ(Bytes(out.begin() + 28, out.end()), text("hello"));
  EXPECT_EQ(checksum_from_scratch(std::span(out).first(20)), 0);  // a valid header sums to 0xffff
  EXPECT_EQ(be16(out, 26), udp_checksum_v4(out));
}

TEST(UdpTemplate4, ChecksumsMatchFromScratchOverRandomProbes) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    const UdpTemplate4 tmpl(static_cast<uint32_t>(rng()), static_cast<uint8_t>(rng()));
    const std::size_t len = rng() % 64;  // odd and even lengths, including 0
    const Bytes body = random_bytes(rng, i % 50 == 0 ? kMaxUdpPayload : len);
    const UdpPayload payload = payload_of(body);
    Bytes out(UdpTemplate4::kMaxLen);
    const std::size_t n = tmpl.build(out, static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()),
                                     static_cast<uint16_t>(rng()), payload, static_cast<uint16_t>(rng()));
    ASSERT_EQ(n, 28 + body.size());
    out.resize(n);
    ASSERT_EQ(checksum_from_scratch(std::span(out).first(20)), 0) << i;
    ASSERT_EQ(be16(out, 26), udp_checksum_v4(out)) << i;
  }
}

TEST(UdpTemplate4, ComputedZeroChecksumIsSentAsAllOnes) {
  // Search a source port for which the true one's-complement sum is 0xffff (so
  // the checksum would be 0): the field must then read 0xffff.
  const UdpTemplate4 tmpl(kUs);
  const UdpPayload payload = payload_of(text("abc"));
  bool found = false;
  for (uint32_t sport = 0; sport <= 0xffff && !found; ++sport) {
    Bytes out(UdpTemplate4::kMaxLen);
    out.resize(tmpl.build(out, kHost, static_cast<uint16_t>(sport), 7, payload, 1));
    if (be16(out, 26) == 0xffff) {
      found = true;
      EXPECT_EQ(udp_checksum_v4(out), 0xffff);
    }
    ASSERT_NE(be16(out, 26), 0);
  }
  EXPECT_TRUE(found);
}

TEST(UdpTemplate4, RefusesSmallBuffer) {
  const UdpTemplate4 tmpl(kUs);
  const UdpPayload payload = payload_of(text("abcd"));
  Bytes out(31, std::byte{0xee});
  EXPECT_EQ(tmpl.build(out, kHost, 1, 2, payload, 3), 0U);
  EXPECT_TRUE(std::all_of(out.begin(), out.end(), [](std::byte b) { return b == std::byte{0xee}; }));
  out.resize(32);
  EXPECT_EQ(tmpl.build(out, kHost, 1, 2, payload, 3), 32U);
}

// ---- UdpTemplate6 ----------------------------------------------------------------------

TEST(UdpTemplate6, BuildsExactHeaderFieldsAndChecksum) {
  const Ip6Bytes src = ip6({1});
  const Ip6Bytes dst = ip6({0x77});
  const UdpTemplate6 tmpl(src, 33);
  const UdpPayload payload = payload_of(text("xyz"));
  Bytes out(UdpTemplate6::kMaxLen);
  const std::size_t n = tmpl.build(out, dst, 50000, 123, payload);
  ASSERT_EQ(n, 48U + 3U);
  out.resize(n);
  EXPECT_EQ(static_cast<int>(out[0]), 0x60);
  EXPECT_EQ(be16(out, 4), 11);  // payload length = UDP length
  EXPECT_EQ(static_cast<int>(out[6]), 17);
  EXPECT_EQ(static_cast<int>(out[7]), 33);
  EXPECT_TRUE(std::equal(src.begin(), src.end(), out.begin() + 8,
                         [](uint8_t a, std::byte b) { return a == static_cast<uint8_t>(b); }));
  EXPECT_TRUE(std::equal(dst.begin(), dst.end(), out.begin() + 24,
                         [](uint8_t a, std::byte b) { return a == static_cast<uint8_t>(b); }));
  EXPECT_EQ(be16(out, 40), 50000);
  EXPECT_EQ(be16(out, 42), 123);
  EXPECT_EQ(be16(out, 44), 11);
  EXPECT_EQ(be16(out, 46), udp_checksum_v6(out));
}

TEST(UdpTemplate6, ChecksumsMatchFromScratchOverRandomProbes) {
  std::mt19937 rng(11);
  for (int i = 0; i < 2000; ++i) {
    Ip6Bytes src{};
    Ip6Bytes dst{};
    for (std::size_t k = 0; k < 16; ++k) {
      src[k] = static_cast<uint8_t>(rng());
      dst[k] = static_cast<uint8_t>(rng());
    }
    const UdpTemplate6 tmpl(src);
    const Bytes body = random_bytes(rng, i % 50 == 0 ? kMaxUdpPayload : rng() % 80);
    const UdpPayload payload = payload_of(body);
    Bytes out(UdpTemplate6::kMaxLen);
    const std::size_t n = tmpl.build(out, dst, static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()), payload);
    ASSERT_EQ(n, 48 + body.size());
    out.resize(n);
    ASSERT_EQ(be16(out, 46), udp_checksum_v6(out)) << i;
    ASSERT_NE(be16(out, 46), 0) << i;
  }
}

TEST(UdpTemplate6, RefusesSmallBuffer) {
  const UdpTemplate6 tmpl(ip6({1}));
  Bytes out(48);
  EXPECT_EQ(tmpl.build(out, ip6({2}), 1, 2, payload_of(text("a"))), 0U);
  EXPECT_EQ(tmpl.build(out, ip6({2}), 1, 2, UdpPayload{}), 48U);
}

// ---- parse_scan_event: UDP ------------------------------------------------------------

TEST(ParseScanEvent, UdpProbeRoundTripsV4) {
  const UdpTemplate4 tmpl(kUs);
  Bytes out(UdpTemplate4::kMaxLen);
  out.resize(tmpl.build(out, kHost, 40001, 161, payload_of(text("0123456")), 9));
  const auto e = parse_scan_event(out);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, Kind::kUdp);
  EXPECT_FALSE(e->v6);
  EXPECT_EQ(e->src, v4_in_v6(kUs));
  EXPECT_EQ(e->dst, v4_in_v6(kHost));
  EXPECT_EQ(e->sport, 40001);
  EXPECT_EQ(e->dport, 161);
  EXPECT_EQ(e->payload_off, 28);
  EXPECT_EQ(e->payload_len, 7);
}

TEST(ParseScanEvent, UdpReplyGivesProbeTupleAndOpenVerdict) {
  // The host answers our probe kUs:40001 -> kHost:53, with IP options and
  // Ethernet padding after the datagram.
  const Bytes reply = [] {
    Bytes p = ipv4_packet(kHost, kUs, 17, udp_datagram(53, 40001, text("answer!")), bytes_of({1, 1, 1, 0}));
    p.resize(p.size() + 10);  // padding beyond the IP total length
    return p;
  }();
  const auto e = parse_scan_event(reply);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, Kind::kUdp);
  EXPECT_EQ(e->payload_off, 24 + 8);
  EXPECT_EQ(e->payload_len, 7);
  EXPECT_EQ(fields(e->probe_tuple4()), std::make_tuple(kUs, kHost, 40001, 53));
  EXPECT_EQ(e->probe_protocol(), Protocol::kUdp);
  EXPECT_EQ(verdict_for(*e), (PortVerdict{PortState::kOpen, Reason::kUdpResponse}));
}

TEST(ParseScanEvent, UdpProbeRoundTripsV6) {
  const Ip6Bytes us = ip6({1});
  const Ip6Bytes host = ip6({0x99});
  const UdpTemplate6 tmpl(us);
  Bytes out(UdpTemplate6::kMaxLen);
  out.resize(tmpl.build(out, host, 33333, 5353, UdpPayload{}));
  const auto e = parse_scan_event(out);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->v6);
  EXPECT_EQ(e->kind, Kind::kUdp);
  EXPECT_EQ(e->src, us);
  EXPECT_EQ(e->dst, host);
  EXPECT_EQ(e->payload_off, 48);
  EXPECT_EQ(e->payload_len, 0);
  // Seen as a reply it answers the reverse probe.
  EXPECT_EQ(fields(e->probe_tuple6()), std::make_tuple(host, us, 5353, 33333));
}

TEST(ParseScanEvent, RejectsMalformedUdp) {
  const Bytes good = ipv4_packet(kHost, kUs, 17, udp_datagram(53, 40001, text("abc")));
  ASSERT_TRUE(parse_scan_event(good).has_value());
  // UDP length beyond the IP payload.
  Bytes bad = good;
  set16(bad, 24, 12);
  EXPECT_FALSE(parse_scan_event(bad).has_value());
  // UDP length below the header.
  bad = good;
  set16(bad, 24, 7);
  EXPECT_FALSE(parse_scan_event(bad).has_value());
  // A shorter UDP length is fine: the rest is not payload.
  bad = good;
  set16(bad, 24, 9);
  ASSERT_TRUE(parse_scan_event(bad).has_value());
  EXPECT_EQ(parse_scan_event(bad)->payload_len, 1);
  // Corrupt IPv4 header checksum.
  bad = good;
  bad[10] ^= std::byte{1};
  EXPECT_FALSE(parse_scan_event(bad).has_value());
  // A fragment.
  bad = ipv4_packet(kHost, kUs, 17, udp_datagram(53, 40001, text("abc")));
  set16(bad, 6, 0x2000);  // MF
  set16(bad, 10, 0);
  set16(bad, 10, checksum_from_scratch(std::span(bad).first(20)));
  EXPECT_FALSE(parse_scan_event(bad).has_value());
  // IPv6 with a hop-by-hop header first: not walked.
  EXPECT_FALSE(parse_scan_event(ipv6_packet(ip6({9}), ip6({1}), 0, udp_datagram(1, 2, {}))).has_value());
  // TCP is parse_reply's business.
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 6, Bytes(20))).has_value());
}

TEST(ParseScanEvent, EveryTruncationOfAUdpReplyIsRejected) {
  const Bytes good = ipv4_packet(kHost, kUs, 17, udp_datagram(53, 40001, text("abc")));
  for (std::size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(parse_scan_event(first(good, n)).has_value()) << n;
  }
  const Bytes good6 = ipv6_packet(ip6({9}), ip6({1}), 17, udp_datagram(53, 40001, text("abc")));
  for (std::size_t n = 0; n < good6.size(); ++n) {
    EXPECT_FALSE(parse_scan_event(first(good6, n)).has_value()) << n;
  }
}

// ---- parse_scan_event: ICMPv4 ----------------------------------------------------------

Bytes udp_probe4(uint16_t sport, uint16_t dport) {
  const UdpTemplate4 tmpl(kUs);
  Bytes out(UdpTemplate4::kMaxLen);
  out.resize(tmpl.build(out, kHost, sport, dport, payload_of(text("probe-payload")), 77));
  return out;
}

Bytes syn_probe4(uint16_t sport, uint16_t dport, uint32_t seq) {
  const SynTemplate4 tmpl(kUs);
  Bytes out(SynTemplate4::kLen);
  out.resize(tmpl.build(out, kHost, sport, dport, seq, 78));
  return out;
}

TEST(ParseScanEvent, Icmp4PortUnreachQuotingUdpProbe) {
  // RFC 792: the host's IP header + 8 bytes of our datagram.
  const Bytes quote = first(udp_probe4(40002, 111), 28);
  const Bytes pkt = ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, quote));
  const auto e = parse_scan_event(pkt);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, Kind::kIcmpUnreach);
  EXPECT_FALSE(e->v6);
  EXPECT_EQ(e->src, v4_in_v6(kHost));
  EXPECT_EQ(e->icmp_type, 3);
  EXPECT_EQ(e->icmp_code, 3);
  EXPECT_EQ(e->quoted.proto, kIpProtoUdp);
  EXPECT_EQ(e->quoted.src, v4_in_v6(kUs));
  EXPECT_EQ(e->quoted.dst, v4_in_v6(kHost));
  EXPECT_EQ(e->quoted.sport, 40002);
  EXPECT_EQ(e->quoted.dport, 111);
  EXPECT_FALSE(e->quoted.has_seq);
  EXPECT_EQ(fields(e->probe_tuple4()), std::make_tuple(kUs, kHost, 40002, 111));
  EXPECT_EQ(e->probe_protocol(), Protocol::kUdp);
  EXPECT_EQ(verdict_for(*e), (PortVerdict{PortState::kClosed, Reason::kPortUnreach}));
}

TEST(ParseScanEvent, Icmp4AdminProhibitedFromRouterQuotingSynWithCookie) {
  // A router (not the host) reports; it quotes the whole SYN (RFC 1812 allows more than 8 bytes).
  const Bytes quote = syn_probe4(40003, 443, 0xa1b2c3d4);
  const Bytes pkt = ipv4_packet(kRouter, kUs, 1, icmp_error(3, 13, quote));
  const auto e = parse_scan_event(pkt);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->src, v4_in_v6(kRouter));
  EXPECT_EQ(e->quoted.proto, kIpProtoTcp);
  EXPECT_EQ(e->quoted.dst, v4_in_v6(kHost));
  EXPECT_EQ(e->quoted.sport, 40003);
  EXPECT_EQ(e->quoted.dport, 443);
  EXPECT_TRUE(e->quoted.has_seq);
  EXPECT_EQ(e->quoted.seq, 0xa1b2c3d4U);
  EXPECT_EQ(e->probe_protocol(), Protocol::kTcp);
  EXPECT_EQ(verdict_for(*e), (PortVerdict{PortState::kFiltered, Reason::kAdminProhibited}));
}

TEST(ParseScanEvent, Icmp4QuoteWithOnlyThePortsHasNoSeq) {
  const Bytes quote = first(syn_probe4(40004, 22, 0x01020304), 24);
  const auto e = parse_scan_event(ipv4_packet(kRouter, kUs, 1, icmp_error(3, 1, quote)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->quoted.dport, 22);
  EXPECT_FALSE(e->quoted.has_seq);
  EXPECT_EQ(verdict_for(*e), (PortVerdict{PortState::kFiltered, Reason::kHostUnreach}));
  // 27 bytes: seq still incomplete.
  const auto e2 = parse_scan_event(ipv4_packet(kRouter, kUs, 1, icmp_error(3, 1, first(syn_probe4(1, 2, 3), 27))));
  ASSERT_TRUE(e2.has_value());
  EXPECT_FALSE(e2->quoted.has_seq);
}

TEST(ParseScanEvent, Icmp4TimeExceeded) {
  const auto e = parse_scan_event(ipv4_packet(kRouter, kUs, 1, icmp_error(11, 0, first(udp_probe4(40005, 53), 28))));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->kind, Kind::kIcmpTimeExceeded);
  EXPECT_EQ(e->icmp_type, 11);
  EXPECT_EQ(e->quoted.dport, 53);
  EXPECT_FALSE(verdict_for(*e).has_value());
}

TEST(ParseScanEvent, Icmp4QuotedHeaderWithOptions) {
  // Our probes have no options, but a quoted header with options must be skipped by IHL.
  const Bytes inner = ipv4_packet(kUs, kHost, 17, udp_datagram(40006, 69, {}), bytes_of({1, 1, 1, 1, 1, 1, 1, 0}));
  const auto e = parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, inner)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->quoted.sport, 40006);
  EXPECT_EQ(e->quoted.dport, 69);
}

TEST(ParseScanEvent, RejectsOtherIcmpAndBadQuotes) {
  const Bytes quote = first(udp_probe4(40007, 53), 28);
  ASSERT_TRUE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, quote))).has_value());
  // Echo reply, redirect, source quench, parameter problem: not ours.
  for (int type : {0, 4, 5, 8, 12}) {
    EXPECT_FALSE(
        parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(static_cast<uint8_t>(type), 0, quote))).has_value())
        << type;
  }
  // Quoted header not IPv4.
  Bytes bad = quote;
  bad[0] = std::byte{0x65};
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, bad))).has_value());
  // Quoted IHL below 5 or beyond the quote.
  bad = quote;
  bad[0] = std::byte{0x44};
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, bad))).has_value());
  bad = first(quote, 24);
  bad[0] = std::byte{0x47};
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, bad))).has_value());
  // Quoted non-first fragment: no transport header.
  bad = quote;
  set16(bad, 6, 0x0010);
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, bad))).has_value());
  // Quoted protocol neither TCP nor UDP (an ICMP echo, say).
  bad = quote;
  bad[9] = std::byte{1};
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, bad))).has_value());
  // ICMPv6 numbers inside IPv4 are not ICMP.
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 58, icmp_error(1, 4, quote))).has_value());
  // A quoted IPv6 header inside ICMPv4.
  const UdpTemplate6 t6(ip6({1}));
  Bytes p6(UdpTemplate6::kMaxLen);
  p6.resize(t6.build(p6, ip6({2}), 1, 2, UdpPayload{}));
  EXPECT_FALSE(parse_scan_event(ipv4_packet(kHost, kUs, 1, icmp_error(3, 3, p6))).has_value());
}

TEST(ParseScanEvent, EveryTruncationOfAnIcmp4ErrorIsRejectedOrConsistent) {
  // The quote may lose its tail, but only until the ports: fewer than 20 + 4
  // quoted bytes must be rejected; 24..27 give the ports without seq.
  const Bytes quote = syn_probe4(40008, 8080, 0xdeadbeef);
  for (std::size_t q = 0; q <= quote.size(); ++q) {
    const Bytes pkt = ipv4_packet(kRouter, kUs, 1, icmp_error(3, 10, first(quote, q)));
    const auto e = parse_scan_event(pkt);
    if (q < 24) {
      EXPECT_FALSE(e.has_value()) << q;
      continue;
    }
    ASSERT_TRUE(e.has_value()) << q;
    EXPECT_EQ(e->quoted.dport, 8080);
    EXPECT_EQ(e->quoted.has_seq, q >= 28) << q;
  }
  // And a whole packet cut anywhere (IP total length then exceeds the bytes).
  const Bytes pkt = ipv4_packet(kRouter, kUs, 1, icmp_error(3, 10, quote));
  for (std::size_t n = 0; n < pkt.size(); ++n) {
    EXPECT_FALSE(parse_scan_event(first(pkt, n)).has_value()) << n;
  }
}

// ---- parse_scan_event: ICMPv6 ----------------------------------------------------------

Bytes udp_probe6(const Ip6Bytes& us, const Ip6Bytes& host, uint16_t sport, uint16_t dport) {
  const UdpTemplate6 tmpl(us);
  Bytes out(UdpTemplate6::kMaxLen);
  out.resize(tmpl.build(out, host, sport, dport, payload_of(text("v6 probe"))));
  return out;
}

TEST(ParseScanEvent, Icmp6PortUnreachQuotingUdpProbe) {
  const Ip6Bytes us = ip6({1});
  const Ip6Bytes host = ip6({0x42});
  // RFC 4443 §3.1: as much of the invoking packet as fits; here all of it.
  const Bytes pkt = ipv6_packet(host, us, 58, icmp_error(1, 4, udp_probe6(us, host, 40009, 500)));
  const auto e = parse_scan_event(pkt);
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->v6);
  EXPECT_EQ(e->kind, Kind::kIcmpUnreach);
  EXPECT_EQ(e->src, host);
  EXPECT_EQ(e->icmp_type, 1);
  EXPECT_EQ(e->icmp_code, 4);
  EXPECT_EQ(e->quoted.proto, kIpProtoUdp);
  EXPECT_EQ(e->quoted.src, us);
  EXPECT_EQ(e->quoted.dst, host);
  EXPECT_EQ(fields(e->probe_tuple6()), std::make_tuple(us, host, 40009, 500));
  EXPECT_EQ(verdict_for(*e), (PortVerdict{PortState::kClosed, Reason::kPortUnreach}));
}

TEST(ParseScanEvent, Icmp6ProhibitedQuotingSynAndTimeExceeded) {
  const Ip6Bytes us = ip6({1});
  const Ip6Bytes host = ip6({0x42});
  const Ip6Bytes router = ip6({0xfe});
  const SynTemplate6 tmpl(us);
  Bytes syn(SynTemplate6::kLen);
  syn.resize(tmpl.build(syn, host, 40010, 25, 0x55667788));
  const auto e = parse_scan_event(ipv6_packet(router, us, 58, icmp_error(1, 1, syn)));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->src, router);
  EXPECT_EQ(e->quoted.proto, kIpProtoTcp);
  EXPECT_TRUE(e->quoted.has_seq);
  EXPECT_EQ(e->quoted.seq, 0x55667788U);
  EXPECT_EQ(verdict_for(*e), (PortVerdict{PortState::kFiltered, Reason::kAdminProhibited}));

  const auto te = parse_scan_event(ipv6_packet(router, us, 58, icmp_error(3, 0, first(syn, 44))));
  ASSERT_TRUE(te.has_value());
  EXPECT_EQ(te->kind, Kind::kIcmpTimeExceeded);
  EXPECT_FALSE(te->quoted.has_seq);
  EXPECT_EQ(te->quoted.dport, 25);
}

TEST(ParseScanEvent, Icmp6RejectsBadQuotesAndTruncation) {
  const Ip6Bytes us = ip6({1});
  const Ip6Bytes host = ip6({0x42});
  const Bytes quote = udp_probe6(us, host, 40011, 53);
  // Packet too big (2), parameter problem (4), echo reply (129): not ours.
  for (int type : {2, 4, 129}) {
    EXPECT_FALSE(
        parse_scan_event(ipv6_packet(host, us, 58, icmp_error(static_cast<uint8_t>(type), 0, quote))).has_value())
        << type;
  }
  // ICMPv4 inside IPv6.
  EXPECT_FALSE(parse_scan_event(ipv6_packet(host, us, 1, icmp_error(3, 3, quote))).has_value());
  // Quote that is IPv4.
  EXPECT_FALSE(parse_scan_event(ipv6_packet(host, us, 58, icmp_error(1, 4, udp_probe4(1, 2)))).has_value());
  // Quoted extension header (hop-by-hop = 0): not walked.
  Bytes bad = quote;
  bad[6] = std::byte{0};
  EXPECT_FALSE(parse_scan_event(ipv6_packet(host, us, 58, icmp_error(1, 4, bad))).has_value());
  // The quote cut before the ports are complete.
  for (std::size_t q = 0; q < 44; ++q) {
    EXPECT_FALSE(parse_scan_event(ipv6_packet(host, us, 58, icmp_error(1, 4, first(quote, q)))).has_value()) << q;
  }
  EXPECT_TRUE(parse_scan_event(ipv6_packet(host, us, 58, icmp_error(1, 4, first(quote, 44)))).has_value());
  // Outer truncation and a payload length beyond the buffer.
  const Bytes pkt = ipv6_packet(host, us, 58, icmp_error(1, 4, quote));
  for (std::size_t n = 0; n < pkt.size(); ++n) {
    EXPECT_FALSE(parse_scan_event(first(pkt, n)).has_value()) << n;
  }
  bad = pkt;
  set16(bad, 4, 0);  // jumbogram marker without a hop-by-hop header
  EXPECT_FALSE(parse_scan_event(bad).has_value());
}

TEST(ParseScanEvent, HostileInputsNeverCrash) {
  // Random bytes with plausible first bytes; ASan checks the reads.
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    Bytes b = random_bytes(rng, rng() % 120);
    if (!b.empty()) {
      b[0] = static_cast<std::byte>(i % 2 == 0 ? 0x45 : 0x60);
    }
    (void)parse_scan_event(b);
  }
  EXPECT_FALSE(parse_scan_event({}).has_value());
}

// ---- verdicts ------------------------------------------------------------------------

TEST(UnreachVerdict, UdpFollowsSpecSection3) {
  const auto v = [](uint8_t code) { return unreach_verdict(false, code, Protocol::kUdp); };
  EXPECT_EQ(v(3), (PortVerdict{PortState::kClosed, Reason::kPortUnreach}));
  EXPECT_EQ(v(0), (PortVerdict{PortState::kFiltered, Reason::kNetUnreach}));
  EXPECT_EQ(v(1), (PortVerdict{PortState::kFiltered, Reason::kHostUnreach}));
  EXPECT_EQ(v(2), (PortVerdict{PortState::kFiltered, Reason::kProtoUnreach}));
  EXPECT_EQ(v(9), (PortVerdict{PortState::kFiltered, Reason::kAdminProhibited}));
  EXPECT_EQ(v(10), (PortVerdict{PortState::kFiltered, Reason::kAdminProhibited}));
  EXPECT_EQ(v(13), (PortVerdict{PortState::kFiltered, Reason::kAdminProhibited}));
  EXPECT_FALSE(v(4).has_value());  // fragmentation needed: says nothing about the port
  EXPECT_FALSE(v(5).has_value());
  EXPECT_FALSE(v(16).has_value());
  EXPECT_FALSE(v(255).has_value());
}

TEST(UnreachVerdict, TcpCodesOfSpecSection3AreFiltered) {
  for (int code : {1, 2, 3, 9, 10, 13}) {
    const auto v = unreach_verdict(false, static_cast<uint8_t>(code), Protocol::kTcp);
    ASSERT_TRUE(v.has_value()) << code;
    EXPECT_EQ(v->state, PortState::kFiltered) << code;
  }
  EXPECT_EQ(unreach_verdict(false, 3, Protocol::kTcp)->reason, Reason::kPortUnreach);
  EXPECT_EQ(unreach_verdict(false, 2, Protocol::kTcp)->reason, Reason::kProtoUnreach);
}

TEST(UnreachVerdict, Icmp6Codes) {
  EXPECT_EQ(unreach_verdict(true, 4, Protocol::kUdp), (PortVerdict{PortState::kClosed, Reason::kPortUnreach}));
  EXPECT_EQ(unreach_verdict(true, 4, Protocol::kTcp), (PortVerdict{PortState::kFiltered, Reason::kPortUnreach}));
  EXPECT_EQ(unreach_verdict(true, 0, Protocol::kUdp), (PortVerdict{PortState::kFiltered, Reason::kNetUnreach}));
  EXPECT_EQ(unreach_verdict(true, 1, Protocol::kTcp), (PortVerdict{PortState::kFiltered, Reason::kAdminProhibited}));
  EXPECT_EQ(unreach_verdict(true, 3, Protocol::kUdp), (PortVerdict{PortState::kFiltered, Reason::kHostUnreach}));
  // ICMPv6 code 3 is "address unreachable", not port unreachable.
  EXPECT_NE(unreach_verdict(true, 3, Protocol::kUdp)->state, PortState::kClosed);
  EXPECT_FALSE(unreach_verdict(true, 7, Protocol::kUdp).has_value());
}

TEST(Reason, NewReasonWordsAreNmaps) {
  EXPECT_EQ(linerate::scan::reason_name(Reason::kProtoUnreach), "proto-unreach");
  EXPECT_EQ(linerate::scan::reason_name(Reason::kIcmpRatelimit), "icmp-ratelimit");
}

}  // namespace
