// tests/unit/scan/syn_probe_test.cpp — SYN cookies, probe templates, reply parser.
//
// The checksums of built probes are checked against the independent from-scratch
// RFC 1071 routines of packet_test_util.hpp (a full one's-complement sum over the
// header or pseudo-header + segment), never against the library's own arithmetic.
#include "scan/syn_probe.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "packet_test_util.hpp"
#include "scan/siphash.hpp"

namespace {

using linerate::scan::Ip6Bytes;
using linerate::scan::kTcpAck;
using linerate::scan::kTcpFin;
using linerate::scan::kTcpRst;
using linerate::scan::kTcpSyn;
using linerate::scan::parse_reply;
using linerate::scan::Reply;
using linerate::scan::ReplyKind;
using linerate::scan::SipKey;
using linerate::scan::SynCookie;
using linerate::scan::SynTemplate4;
using linerate::scan::SynTemplate6;
using linerate::scan::Tuple4;
using linerate::scan::Tuple6;

using namespace linerate::testing;  // packet_test_util.hpp

// A reply as a peer's stack would send it, with correct IP and TCP checksums.
Bytes make_v4(uint32_t src, uint32_t dst, const TcpSeg& s, std::size_t ip_opt_words = 0) {
  Bytes p = ipv4_packet(src, dst, 6, tcp_segment(s), nop_options(ip_opt_words));
  const std::size_t hl = 20 + 4 * ip_opt_words;
  set16(p, hl + 16, tcp_checksum_v4(p, hl));
  return p;
}

Bytes make_v6(const Ip6Bytes& src, const Ip6Bytes& dst, const TcpSeg& s) {
  Bytes p = ipv6_packet(src, dst, 6, tcp_segment(s), 60);
  set16(p, 56, tcp_checksum_v6(p));
  return p;
}

constexpr SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};

// ---- templates: bytes and checksums ------------------------------------------------

TEST(SynTemplate4, BuildsExactFixedBytes) {
  const SynTemplate4 t(0xC0000201, 61, 1024, 1460);  // 192.0.2.1
  Bytes p(SynTemplate4::kLen);
  ASSERT_EQ(t.build(p, 0xC6336407, 40000, 443, 0xA1B2C3D4, 0x1234), SynTemplate4::kLen);
  // IP: 45 00 002c 1234 0000 3d 06 csum c0000201 c6336407
  EXPECT_EQ(ipv4_header(p), (Ipv4Header{0x45, 44, 0x1234, 0, 61, 6, 0xC0000201, 0xC6336407}));
  // TCP: ports, seq, ack 0, doff 6, SYN only, window, urgent 0, MSS option.
  EXPECT_EQ(be16(p, 20), 40000);
  EXPECT_EQ(be16(p, 22), 443);
  EXPECT_EQ(be32(p, 24), 0xA1B2C3D4U);
  EXPECT_EQ(be32(p, 28), 0U);
  EXPECT_EQ(p[32], std::byte{0x60});
  EXPECT_EQ(p[33], std::byte{kTcpSyn});
  EXPECT_EQ(be16(p, 34), 1024);
  EXPECT_EQ(be16(p, 38), 0);
  EXPECT_EQ(p[40], std::byte{2});
  EXPECT_EQ(p[41], std::byte{4});
  EXPECT_EQ(be16(p, 42), 1460);
  EXPECT_EQ(be16(p, 10), ip_checksum_v4(p));
  EXPECT_EQ(be16(p, 36), tcp_checksum_v4(p, 20));
}

TEST(SynTemplate4, IncrementalChecksumsMatchFromScratchForRandomTuples) {
  std::mt19937_64 rng(8);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const auto src = static_cast<uint32_t>(rng());
    const SynTemplate4 t(src, static_cast<uint8_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()));
    Bytes p(SynTemplate4::kLen);
    for (int i = 0; i < 2000; ++i) {
      const auto dst = static_cast<uint32_t>(rng());
      const auto sport = static_cast<uint16_t>(rng());
      const auto dport = static_cast<uint16_t>(rng());
      const auto seq = static_cast<uint32_t>(rng());
      const auto id = static_cast<uint16_t>(rng());
      ASSERT_EQ(t.build(p, dst, sport, dport, seq, id), SynTemplate4::kLen);
      ASSERT_EQ(be16(p, 10), ip_checksum_v4(p)) << "tmpl " << tmpl << " i " << i;
      ASSERT_EQ(be16(p, 36), tcp_checksum_v4(p, 20)) << "tmpl " << tmpl << " i " << i;
      // Whole header and whole pseudo-header+segment sum to -0 (RFC 1071 check).
      ASSERT_EQ(checksum_from_scratch(std::span(p).first(20)), 0);
      const auto r = parse_reply(p);
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->probe_tuple4().src_ip, dst);  // a SYN parsed as if it were a reply
      EXPECT_EQ(r->probe_tuple4().dst_ip, src);
      EXPECT_EQ(r->sport, sport);
      EXPECT_EQ(r->dport, dport);
      EXPECT_EQ(r->seq, seq);
      EXPECT_EQ(r->flags, kTcpSyn);
    }
  }
}

TEST(SynTemplate4, ExtremeFieldValuesStillChecksumCorrectly) {
  // All-ones and all-zeros fields push the sums to their carry edge cases.
  for (const uint32_t src : {0U, 0xffffffffU}) {
    const SynTemplate4 t(src, 255, 0xffff, 0xffff);
    Bytes p(SynTemplate4::kLen);
    for (const uint32_t v : {0U, 0xffffffffU, 0x0000ffffU, 0xffff0000U}) {
      const auto v16 = static_cast<uint16_t>(v);
      t.build(p, v, v16, v16, v, v16);
      EXPECT_EQ(be16(p, 10), ip_checksum_v4(p));
      EXPECT_EQ(be16(p, 36), tcp_checksum_v4(p, 20));
    }
  }
}

TEST(SynTemplate4, RefusesShortBuffer) {
  const SynTemplate4 t(1);
  Bytes p(SynTemplate4::kLen - 1, std::byte{0xee});
  EXPECT_EQ(t.build(p, 2, 3, 4, 5, 6), 0U);
  for (const auto b : p) {
    EXPECT_EQ(b, std::byte{0xee});
  }
}

TEST(SynTemplate6, IncrementalChecksumMatchesFromScratchForRandomTuples) {
  std::mt19937_64 rng(6);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const Ip6Bytes src = random_ip6(rng);
    const SynTemplate6 t(src, static_cast<uint8_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()));
    Bytes p(SynTemplate6::kLen);
    for (int i = 0; i < 2000; ++i) {
      const Ip6Bytes dst = random_ip6(rng);
      const auto sport = static_cast<uint16_t>(rng());
      const auto dport = static_cast<uint16_t>(rng());
      const auto seq = static_cast<uint32_t>(rng());
      ASSERT_EQ(t.build(p, dst, sport, dport, seq), SynTemplate6::kLen);
      ASSERT_EQ(be16(p, 56), tcp_checksum_v6(p)) << "tmpl " << tmpl << " i " << i;
      EXPECT_EQ(p[0], std::byte{0x60});
      EXPECT_EQ(be16(p, 4), 24);
      EXPECT_EQ(p[6], std::byte{6});
      EXPECT_EQ(p[60], std::byte{2});
      const auto r = parse_reply(p);
      ASSERT_TRUE(r.has_value());
      EXPECT_TRUE(r->v6);
      EXPECT_EQ(r->src, src);
      EXPECT_EQ(r->dst, dst);
      EXPECT_EQ(r->sport, sport);
      EXPECT_EQ(r->dport, dport);
      EXPECT_EQ(r->seq, seq);
    }
  }
}

// ---- cookies -----------------------------------------------------------------------

TEST(SynCookie, SynAckAndRstForABuiltProbeValidate) {
  const SynCookie c(kKey);
  std::mt19937_64 rng(1);
  const uint32_t me = 0x0A000001;
  const SynTemplate4 t(me);
  Bytes probe(SynTemplate4::kLen);
  for (int i = 0; i < 500; ++i) {
    const Tuple4 tup{me, static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    t.build(probe, tup.dst_ip, tup.src_port, tup.dst_port, c.cookie(tup), static_cast<uint16_t>(i));
    const uint32_t seq = be32(probe, 24);
    EXPECT_TRUE(c.valid_synack(seq + 1, tup));
    EXPECT_TRUE(c.valid_rst(seq + 1, tup));
    EXPECT_FALSE(c.valid_synack(seq, tup));
    EXPECT_FALSE(c.valid_synack(seq + 2, tup));

    const auto peer_seq = static_cast<uint32_t>(rng());
    const Bytes synack = make_v4(tup.dst_ip, me, {tup.dst_port, tup.src_port, peer_seq, seq + 1, kTcpSyn | kTcpAck, 1});
    const auto r = parse_reply(synack);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(c.classify(*r), ReplyKind::kSynAck);

    const Bytes rst = make_v4(tup.dst_ip, me, {tup.dst_port, tup.src_port, 0, seq + 1, kTcpRst | kTcpAck});
    const auto rr = parse_reply(rst);
    ASSERT_TRUE(rr.has_value());
    EXPECT_EQ(c.classify(*rr), ReplyKind::kRst);
  }
}

TEST(SynCookie, WrongAckTupleOrKeyIsRejected) {
  const SynCookie c(kKey);
  const Tuple4 tup{0x0A000001, 0x0A000002, 33333, 80};
  const uint32_t good = c.cookie(tup) + 1;
  const auto classify = [&](const SynCookie& cc, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                            uint32_t ack, uint8_t flags) {
    const auto r = parse_reply(make_v4(src, dst, {sport, dport, 7, ack, flags}));
    EXPECT_TRUE(r.has_value());
    return r ? cc.classify(*r) : ReplyKind::kNone;
  };
  constexpr uint8_t kSa = kTcpSyn | kTcpAck;
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, good, kSa), ReplyKind::kSynAck);
  for (const uint32_t bad : {good - 1, good + 1, 0U, ~good, good ^ 0x80000000U}) {
    EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, bad, kSa), ReplyKind::kNone);
  }
  EXPECT_EQ(classify(c, tup.dst_ip + 1, tup.src_ip, 80, 33333, good, kSa), ReplyKind::kNone);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip + 1, 80, 33333, good, kSa), ReplyKind::kNone);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 81, 33333, good, kSa), ReplyKind::kNone);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33334, good, kSa), ReplyKind::kNone);
  // Direction matters: the probe's own tuple, not reversed, is a different input.
  EXPECT_EQ(classify(c, tup.src_ip, tup.dst_ip, 33333, 80, good, kSa), ReplyKind::kNone);
  const SynCookie other(SipKey{kKey.k0, kKey.k1 ^ 1});
  EXPECT_EQ(classify(other, tup.dst_ip, tup.src_ip, 80, 33333, good, kSa), ReplyKind::kNone);
  // Flags: a bare SYN, a bare ACK, RST without ACK, SYN+ACK+RST are not answers.
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, good, kTcpSyn), ReplyKind::kNone);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, good, kTcpAck), ReplyKind::kNone);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, good, kTcpRst), ReplyKind::kNone);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, good, kSa | kTcpRst), ReplyKind::kRst);
  EXPECT_EQ(classify(c, tup.dst_ip, tup.src_ip, 80, 33333, good, kSa | kTcpFin), ReplyKind::kSynAck);
}

TEST(SynCookie, DependsOnEveryTupleFieldAndFamily) {
  const SynCookie c(kKey);
  const Tuple4 base{0x01020304, 0x05060708, 1000, 2000};
  const uint32_t x = c.cookie(base);
  EXPECT_NE(c.cookie(Tuple4{base.src_ip ^ 1, base.dst_ip, base.src_port, base.dst_port}), x);
  EXPECT_NE(c.cookie(Tuple4{base.src_ip, base.dst_ip ^ 1, base.src_port, base.dst_port}), x);
  EXPECT_NE(c.cookie(Tuple4{base.src_ip, base.dst_ip, 1001, base.dst_port}), x);
  EXPECT_NE(c.cookie(Tuple4{base.src_ip, base.dst_ip, base.src_port, 2001}), x);
  // Swapping ports must not collide (a reply's reversed tuple is a different input).
  EXPECT_NE(c.cookie(Tuple4{base.src_ip, base.dst_ip, 2000, 1000}), x);
  // Reference value: low 32 bits of SipHash-2-4 over the 12 big-endian bytes.
  const std::array<std::byte, 12> msg = {std::byte{1},    std::byte{2},    std::byte{3},    std::byte{4},
                                         std::byte{5},    std::byte{6},    std::byte{7},    std::byte{8},
                                         std::byte{0x03}, std::byte{0xe8}, std::byte{0x07}, std::byte{0xd0}};
  EXPECT_EQ(x, static_cast<uint32_t>(linerate::scan::siphash24(kKey, msg)));
}

TEST(SynCookie, Ipv6RoundTrip) {
  const SynCookie c(kKey);
  std::mt19937_64 rng(66);
  const Ip6Bytes me = random_ip6(rng);
  const SynTemplate6 t(me);
  Bytes probe(SynTemplate6::kLen);
  for (int i = 0; i < 300; ++i) {
    const Tuple6 tup{me, random_ip6(rng), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    t.build(probe, tup.dst_ip, tup.src_port, tup.dst_port, c.cookie(tup));
    const uint32_t seq = be32(probe, 44);
    EXPECT_TRUE(c.valid_synack(seq + 1, tup));
    EXPECT_TRUE(c.valid_rst(seq + 1, tup));
    EXPECT_FALSE(c.valid_synack(seq, tup));

    const auto r = parse_reply(make_v6(tup.dst_ip, me, {tup.dst_port, tup.src_port, 9, seq + 1, kTcpSyn | kTcpAck}));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(c.classify(*r), ReplyKind::kSynAck);
    const auto rr = parse_reply(make_v6(tup.dst_ip, me, {tup.dst_port, tup.src_port, 0, seq + 1, kTcpRst | kTcpAck}));
    ASSERT_TRUE(rr.has_value());
    EXPECT_EQ(c.classify(*rr), ReplyKind::kRst);
    Ip6Bytes wrong = tup.dst_ip;
    wrong[15] ^= 1;
    const auto rw = parse_reply(make_v6(wrong, me, {tup.dst_port, tup.src_port, 9, seq + 1, kTcpSyn | kTcpAck}));
    ASSERT_TRUE(rw.has_value());
    EXPECT_EQ(c.classify(*rw), ReplyKind::kNone);
  }
}

// ---- parser ------------------------------------------------------------------------

TEST(ParseReply, ReadsIpv4WithOptionsAndTcpOptionsAndPayload) {
  const Bytes p = make_v4(0xC6336407, 0xC0000201, {443, 40000, 0x11111111, 0x22222222, kTcpSyn | kTcpAck, 3, 5}, 2);
  const auto r = parse_reply(p);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->v6);
  EXPECT_EQ(r->src[0], 0xC6);
  EXPECT_EQ(r->src[3], 0x07);
  EXPECT_EQ(r->dst[0], 0xC0);
  EXPECT_EQ(r->src[4], 0);  // IPv4: the rest is zero
  EXPECT_EQ(r->sport, 443);
  EXPECT_EQ(r->dport, 40000);
  EXPECT_EQ(r->seq, 0x11111111U);
  EXPECT_EQ(r->ack, 0x22222222U);
  EXPECT_EQ(r->flags, kTcpSyn | kTcpAck);
}

TEST(ParseReply, EveryTruncationIsRejected) {
  std::mt19937_64 rng(3);
  const Bytes v4 = make_v4(1, 2, {3, 4, 5, 6, kTcpSyn | kTcpAck, 1});
  const Bytes v4opt = make_v4(1, 2, {3, 4, 5, 6, kTcpRst | kTcpAck, 0, 3}, 3);
  const Bytes v6 = make_v6(random_ip6(rng), random_ip6(rng), {3, 4, 5, 6, kTcpSyn | kTcpAck, 2});
  for (const Bytes* full : {&v4, &v4opt, &v6}) {
    ASSERT_TRUE(parse_reply(*full).has_value());
    for (std::size_t len = 0; len < full->size(); ++len) {
      // A heap copy of exactly `len` bytes, so ASan sees any over-read.
      const Bytes cut(full->begin(), full->begin() + static_cast<std::ptrdiff_t>(len));
      EXPECT_FALSE(parse_reply(cut).has_value()) << "length " << len << " of " << full->size();
    }
  }
}

TEST(ParseReply, TrailingPaddingIsIgnoredButLengthsBeyondTheBufferAreNot) {
  Bytes p = make_v4(1, 2, {3, 4, 5, 6, kTcpRst | kTcpAck});
  Bytes padded = p;
  padded.resize(60, std::byte{0});  // Ethernet minimum frame padding
  ASSERT_TRUE(parse_reply(padded).has_value());
  EXPECT_EQ(parse_reply(padded)->ack, 6U);

  // Total length one byte beyond the buffer.
  Bytes over = p;
  set16(over, 2, static_cast<uint16_t>(p.size() + 1));
  set16(over, 10, ip_checksum_v4(over));
  EXPECT_FALSE(parse_reply(over).has_value());
  // Total length shorter than the IP header.
  set16(over, 2, 19);
  set16(over, 10, ip_checksum_v4(over));
  EXPECT_FALSE(parse_reply(over).has_value());
  // Total length leaves fewer than 20 TCP bytes.
  set16(over, 2, 39);
  set16(over, 10, ip_checksum_v4(over));
  EXPECT_FALSE(parse_reply(over).has_value());

  // TCP data offset beyond the segment, and below 5.
  Bytes doff = p;
  doff[32] = std::byte{0xf0};
  EXPECT_FALSE(parse_reply(doff).has_value());
  doff[32] = std::byte{0x40};
  EXPECT_FALSE(parse_reply(doff).has_value());

  // IPv6 payload length beyond the buffer, and zero (jumbogram).
  std::mt19937_64 rng(9);
  Bytes v6 = make_v6(random_ip6(rng), random_ip6(rng), {3, 4, 5, 6, kTcpSyn | kTcpAck});
  ASSERT_TRUE(parse_reply(v6).has_value());
  Bytes v6big = v6;
  set16(v6big, 4, static_cast<uint16_t>(v6.size() - 40 + 1));
  EXPECT_FALSE(parse_reply(v6big).has_value());
  set16(v6big, 4, 0);
  EXPECT_FALSE(parse_reply(v6big).has_value());
  Bytes v6pad = v6;
  v6pad.resize(v6.size() + 7, std::byte{0xaa});
  EXPECT_TRUE(parse_reply(v6pad).has_value());
}

TEST(ParseReply, RejectsGarbledIpHeaders) {
  const Bytes p = make_v4(0x0A000002, 0x0A000001, {80, 5555, 1, 2, kTcpSyn | kTcpAck, 1});
  const auto refix = [](Bytes b) {
    set16(b, 10, ip_checksum_v4(b));
    return b;
  };
  Bytes b = p;
  b[0] = std::byte{0x55};  // version 5
  EXPECT_FALSE(parse_reply(refix(b)).has_value());
  b = p;
  b[0] = std::byte{0x44};  // IHL 4
  EXPECT_FALSE(parse_reply(refix(b)).has_value());
  b = p;
  b[0] = std::byte{0x4f};  // IHL 15: 60 bytes of header in a 44-byte packet
  EXPECT_FALSE(parse_reply(refix(b)).has_value());
  b = p;
  b[9] = std::byte{17};  // UDP
  EXPECT_FALSE(parse_reply(refix(b)).has_value());
  b = p;
  set16(b, 6, 0x2000);  // MF
  EXPECT_FALSE(parse_reply(refix(b)).has_value());
  set16(b, 6, 0x0001);  // offset 8
  EXPECT_FALSE(parse_reply(refix(b)).has_value());
  set16(b, 6, 0x4000);  // DF only: fine
  EXPECT_TRUE(parse_reply(refix(b)).has_value());

  // Every single-bit flip in the IPv4 header breaks its checksum (or its shape).
  for (std::size_t bit = 0; bit < 20 * 8; ++bit) {
    Bytes f = p;
    f[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    EXPECT_FALSE(parse_reply(f).has_value()) << "bit " << bit;
  }

  std::mt19937_64 rng(4);
  Bytes v6 = make_v6(random_ip6(rng), random_ip6(rng), {3, 4, 5, 6, kTcpSyn | kTcpAck});
  v6[6] = std::byte{0};  // hop-by-hop options header: not walked
  EXPECT_FALSE(parse_reply(v6).has_value());
  v6[6] = std::byte{6};
  v6[0] = std::byte{0x70};
  EXPECT_FALSE(parse_reply(v6).has_value());
}

TEST(ParseReply, RandomBytesNeverCrash) {
  std::mt19937_64 rng(77);
  int accepted = 0;
  for (int i = 0; i < 50000; ++i) {
    Bytes b = random_bytes(rng, rng() % 100);
    if (!b.empty()) {
      b[0] = static_cast<std::byte>((i % 2 == 0 ? 0x40 : 0x60) | (static_cast<unsigned>(b[0]) & 0x0f));
    }
    if (parse_reply(b).has_value()) {
      ++accepted;
    }
  }
  // IPv6 with next header 6 and a fitting length does occur; nothing else matters.
  EXPECT_GE(accepted, 0);
}

}  // namespace
