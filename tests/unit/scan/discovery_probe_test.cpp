// tests/unit/scan/discovery_probe_test.cpp — host-discovery templates, cookies
// and parsers (scan/discovery_probe.hpp), and the ACK probes of syn_probe.hpp.
//
// As in syn_probe_test.cpp, checksums of built packets are checked against the
// independent from-scratch RFC 1071 routines of packet_test_util.hpp, and the
// answers fed to the parsers are assembled field by field as a peer's stack would
// send them.
#include "scan/discovery_probe.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "hex_test_util.hpp"
#include "packet_test_util.hpp"
#include "scan/siphash.hpp"
#include "scan/syn_probe.hpp"

namespace {

using linerate::scan::ArpReply;
using linerate::scan::ArpRequestTemplate;
using linerate::scan::DiscoveryCookie;
using linerate::scan::DiscoveryKind;
using linerate::scan::DiscoveryReply;
using linerate::scan::IcmpTemplate4;
using linerate::scan::IcmpTemplate6;
using linerate::scan::Ip6Bytes;
using linerate::scan::ipv6_multicast_mac;
using linerate::scan::kNaOverride;
using linerate::scan::kNaRouter;
using linerate::scan::kNaSolicited;
using linerate::scan::kTcpAck;
using linerate::scan::kTcpRst;
using linerate::scan::kTcpSyn;
using linerate::scan::MacBytes;
using linerate::scan::NeighborSolicitTemplate;
using linerate::scan::parse_arp_reply;
using linerate::scan::parse_arp_reply_frame;
using linerate::scan::parse_discovery_reply;
using linerate::scan::parse_reply;
using linerate::scan::SipKey;
using linerate::scan::solicited_node_address;
using linerate::scan::SynCookie;
using linerate::scan::SynTemplate4;
using linerate::scan::SynTemplate6;
using linerate::scan::Tuple4;
using linerate::scan::Tuple6;

using namespace linerate::testing;  // packet_test_util.hpp, hex_test_util.hpp

// ---- helpers -------------------------------------------------------------------------

Ip6Bytes ip6(std::initializer_list<unsigned> v) {
  Ip6Bytes a{};
  std::size_t i = 0;
  for (const unsigned x : v) {
    a[i++] = static_cast<uint8_t>(x);
  }
  return a;
}

// An IPv4 packet as a peer would send it: header (+ NOP options), payload, both
// IP and (for ICMP) ICMP checksums filled.
Bytes make_v4(uint32_t src, uint32_t dst, uint8_t proto, const Bytes& payload, std::size_t opt_words = 0) {
  Bytes p = ipv4_packet(src, dst, proto, payload, nop_options(opt_words));
  if (proto == 1 && payload.size() >= 4) {
    set16(p, 20 + 4 * opt_words + 2, icmp_checksum_v4(p));
  }
  return p;
}

// An IPv6 packet with (for ICMPv6) its checksum filled.
Bytes make_v6(const Ip6Bytes& src, const Ip6Bytes& dst, uint8_t next, const Bytes& payload, uint8_t hop = 64) {
  Bytes p = ipv6_packet(src, dst, next, payload, hop);
  if (next == 58 && payload.size() >= 4) {
    set16(p, 42, icmp_checksum_v6(p));
  }
  return p;
}

// ICMP echo/timestamp reply message (checksum left 0; make_v4 fills it).
Bytes icmp_msg(uint8_t type, uint16_t id, uint16_t seq, std::size_t extra = 0) {
  Bytes m(8 + extra, std::byte{0});
  m[0] = static_cast<std::byte>(type);
  set16(m, 4, id);
  set16(m, 6, seq);
  for (std::size_t i = 8; i < m.size(); ++i) {
    m[i] = static_cast<std::byte>(i * 7);
  }
  return m;
}

// Neighbor Advertisement: flags, target, then raw option bytes.
Bytes na_msg(uint8_t flags, const Ip6Bytes& target, const Bytes& options) {
  Bytes m(24, std::byte{0});
  m[0] = std::byte{136};
  m[4] = static_cast<std::byte>(flags);
  for (std::size_t i = 0; i < 16; ++i) {
    m[8 + i] = static_cast<std::byte>(target[i]);
  }
  append(m, options);
  return m;
}

Bytes tlla_option(const MacBytes& mac) {
  Bytes o = bytes_of({2, 1});
  for (const auto b : mac) {
    o.push_back(static_cast<std::byte>(b));
  }
  return o;
}

constexpr SipKey kKey{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
constexpr uint32_t kMe = 0x0A000001;    // 10.0.0.1
constexpr uint32_t kPeer = 0xC0000207;  // 192.0.2.7
constexpr MacBytes kMyMac{0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
constexpr MacBytes kPeerMac{0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};

// ---- cookies -----------------------------------------------------------------------

TEST(DiscoveryCookie, MatchesSipHashOfTaggedAddressesAndSeparatesKinds) {
  const DiscoveryCookie c(kKey);
  const Bytes echo_msg = bytes_of({0x01, 10, 0, 0, 1, 192, 0, 2, 7});
  const Bytes ts_msg = bytes_of({0x02, 10, 0, 0, 1, 192, 0, 2, 7});
  EXPECT_EQ(c.echo4(kMe, kPeer), static_cast<uint32_t>(linerate::scan::siphash24(kKey, echo_msg)));
  EXPECT_EQ(c.timestamp4(kMe, kPeer), static_cast<uint32_t>(linerate::scan::siphash24(kKey, ts_msg)));
  EXPECT_NE(c.echo4(kMe, kPeer), c.timestamp4(kMe, kPeer));
  EXPECT_NE(c.echo4(kMe, kPeer), c.echo4(kPeer, kMe));  // direction matters
  EXPECT_NE(c.echo4(kMe, kPeer), c.echo4(kMe, kPeer + 1));
  EXPECT_NE(c.echo4(kMe, kPeer), DiscoveryCookie(SipKey{kKey.k0, kKey.k1 ^ 1}).echo4(kMe, kPeer));

  const Ip6Bytes a = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const Ip6Bytes b = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  Bytes msg6 = bytes_of({0x03});
  for (const auto x : a) {
    msg6.push_back(static_cast<std::byte>(x));
  }
  for (const auto x : b) {
    msg6.push_back(static_cast<std::byte>(x));
  }
  EXPECT_EQ(c.echo6(a, b), static_cast<uint32_t>(linerate::scan::siphash24(kKey, msg6)));
  EXPECT_NE(c.echo6(a, b), c.echo6(b, a));
}

// ---- ICMPv4 templates ---------------------------------------------------------------

TEST(IcmpTemplate4, EchoBytesAndChecksumsMatchFromScratch) {
  const IcmpTemplate4 t(0xC0000201, 61);
  Bytes p(IcmpTemplate4::kEchoLen);
  ASSERT_EQ(t.build_echo(p, 0xC6336407, 0xBEEF1234, 0x4321), IcmpTemplate4::kEchoLen);
  EXPECT_EQ(ipv4_header(p), (Ipv4Header{0x45, 28, 0x4321, 0, 61, 1, 0xC0000201, 0xC6336407}));
  EXPECT_EQ(p[20], std::byte{8});
  EXPECT_EQ(p[21], std::byte{0});
  EXPECT_EQ(be16(p, 24), 0xBEEF);  // identifier = cookie high half
  EXPECT_EQ(be16(p, 26), 0x1234);  // sequence = cookie low half
  EXPECT_EQ(be16(p, 10), ip_checksum_v4(p));
  EXPECT_EQ(be16(p, 22), icmp_checksum_v4(p));

  std::mt19937_64 rng(11);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const IcmpTemplate4 r(static_cast<uint32_t>(rng()), static_cast<uint8_t>(rng()));
    for (int i = 0; i < 2000; ++i) {
      ASSERT_EQ(
          r.build_echo(p, static_cast<uint32_t>(rng()), static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng())),
          IcmpTemplate4::kEchoLen);
      ASSERT_EQ(be16(p, 10), ip_checksum_v4(p));
      ASSERT_EQ(be16(p, 22), icmp_checksum_v4(p));
    }
  }
}

TEST(IcmpTemplate4, TimestampBytesAndChecksumsMatchFromScratch) {
  std::mt19937_64 rng(13);
  Bytes p(IcmpTemplate4::kTimestampLen);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const auto src = static_cast<uint32_t>(rng());
    const IcmpTemplate4 t(src, static_cast<uint8_t>(rng()));
    for (int i = 0; i < 2000; ++i) {
      const auto dst = static_cast<uint32_t>(rng());
      const auto cookie = static_cast<uint32_t>(rng());
      const auto orig = static_cast<uint32_t>(rng());
      ASSERT_EQ(t.build_timestamp(p, dst, cookie, static_cast<uint16_t>(i), orig), IcmpTemplate4::kTimestampLen);
      ASSERT_EQ(be16(p, 2), 40);
      ASSERT_EQ(p[20], std::byte{13});
      ASSERT_EQ(be32(p, 24), cookie);
      ASSERT_EQ(be32(p, 28), orig);
      ASSERT_EQ(be32(p, 32), 0U);
      ASSERT_EQ(be32(p, 36), 0U);
      ASSERT_EQ(be32(p, 16), dst);
      ASSERT_EQ(be16(p, 10), ip_checksum_v4(p));
      ASSERT_EQ(be16(p, 22), icmp_checksum_v4(p));
    }
  }
  // Carry edge cases: all-zero and all-one fields.
  for (const uint32_t v : {0U, 0xffffffffU, 0xffff0000U, 0x0000ffffU}) {
    const IcmpTemplate4 t(v, 255);
    ASSERT_EQ(t.build_timestamp(p, v, v, static_cast<uint16_t>(v), v), IcmpTemplate4::kTimestampLen);
    EXPECT_EQ(be16(p, 10), ip_checksum_v4(p));
    EXPECT_EQ(be16(p, 22), icmp_checksum_v4(p));
  }
}

TEST(IcmpTemplate4, RefusesShortBuffers) {
  const IcmpTemplate4 t(1);
  Bytes p(IcmpTemplate4::kTimestampLen - 1, std::byte{0xee});
  EXPECT_EQ(t.build_timestamp(p, 2, 3, 4), 0U);
  p.resize(IcmpTemplate4::kEchoLen - 1);
  EXPECT_EQ(t.build_echo(p, 2, 3, 4), 0U);
  for (const auto b : p) {
    EXPECT_EQ(b, std::byte{0xee});
  }
}

// ---- ICMPv4 round trips ------------------------------------------------------------

TEST(DiscoveryReply, Icmp4EchoAndTimestampRoundTrip) {
  const DiscoveryCookie c(kKey);
  const IcmpTemplate4 t(kMe);
  std::mt19937_64 rng(21);
  Bytes probe(IcmpTemplate4::kTimestampLen);
  for (int i = 0; i < 300; ++i) {
    const auto peer = static_cast<uint32_t>(rng());
    // Echo: the peer copies identifier, sequence and data (none) into type 0.
    ASSERT_EQ(t.build_echo(probe, peer, c.echo4(kMe, peer), 1), IcmpTemplate4::kEchoLen);
    EXPECT_FALSE(parse_discovery_reply(probe).has_value());  // a request is not an answer
    const auto id = be16(probe, 24);
    const auto seq = be16(probe, 26);
    const auto r = parse_discovery_reply(make_v4(peer, kMe, 1, icmp_msg(0, id, seq)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->kind, DiscoveryKind::kEchoReply4);
    EXPECT_FALSE(r->v6);
    EXPECT_EQ(r->src_ip4(), peer);
    EXPECT_EQ(r->dst_ip4(), kMe);
    EXPECT_EQ(r->cookie, c.echo4(kMe, peer));
    EXPECT_TRUE(c.valid(*r));

    // Timestamp: identifier and sequence copied into type 14 with three stamps.
    ASSERT_EQ(t.build_timestamp(probe, peer, c.timestamp4(kMe, peer), 2, 12345), IcmpTemplate4::kTimestampLen);
    Bytes ts = icmp_msg(14, be16(probe, 24), be16(probe, 26), 12);
    set32(ts, 8, 12345);
    const auto rt = parse_discovery_reply(make_v4(peer, kMe, 1, ts));
    ASSERT_TRUE(rt.has_value());
    EXPECT_EQ(rt->kind, DiscoveryKind::kTimestampReply4);
    EXPECT_TRUE(c.valid(*rt));

    // An echo cookie does not validate as a timestamp answer, nor the reverse.
    const auto cross = parse_discovery_reply(make_v4(peer, kMe, 1, icmp_msg(14, id, seq, 12)));
    ASSERT_TRUE(cross.has_value());
    EXPECT_FALSE(c.valid(*cross));
  }
}

TEST(DiscoveryReply, Icmp4WrongCookieAddressOrKeyIsRejected) {
  const DiscoveryCookie c(kKey);
  const uint32_t good = c.echo4(kMe, kPeer);
  const auto valid = [&](const DiscoveryCookie& cc, uint32_t src, uint32_t dst, uint32_t cookie) {
    const auto r = parse_discovery_reply(
        make_v4(src, dst, 1, icmp_msg(0, static_cast<uint16_t>(cookie >> 16), static_cast<uint16_t>(cookie & 0xffff))));
    EXPECT_TRUE(r.has_value());
    return r && cc.valid(*r);
  };
  EXPECT_TRUE(valid(c, kPeer, kMe, good));
  for (const uint32_t bad : {good ^ 1U, good ^ 0x10000U, good + 1, ~good, 0U}) {
    EXPECT_FALSE(valid(c, kPeer, kMe, bad));
  }
  EXPECT_FALSE(valid(c, kPeer + 1, kMe, good));  // another host answering
  EXPECT_FALSE(valid(c, kPeer, kMe + 1, good));  // sent to another of "our" addresses
  EXPECT_FALSE(valid(c, kMe, kPeer, good));      // our own probe direction
  EXPECT_FALSE(valid(DiscoveryCookie(SipKey{kKey.k0 ^ 1, kKey.k1}), kPeer, kMe, good));
}

TEST(DiscoveryReply, Icmp4AcceptsOptionsDataAndPaddingButNotOtherMessages) {
  const Bytes echo = icmp_msg(0, 1, 2);
  const auto with_opts = parse_discovery_reply(make_v4(kPeer, kMe, 1, echo, 3));
  ASSERT_TRUE(with_opts.has_value());
  EXPECT_EQ(with_opts->cookie, 0x00010002U);
  // Odd-length data (the checksum pads with a zero byte).
  EXPECT_TRUE(parse_discovery_reply(make_v4(kPeer, kMe, 1, icmp_msg(0, 1, 2, 5))).has_value());
  Bytes padded = make_v4(kPeer, kMe, 1, echo);
  padded.resize(60, std::byte{0xaa});  // Ethernet minimum-frame padding
  EXPECT_TRUE(parse_discovery_reply(padded).has_value());

  EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 1, icmp_msg(8, 1, 2))).has_value());  // request
  EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 1, icmp_msg(13, 1, 2, 12))).has_value());
  EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 1, icmp_msg(3, 1, 2, 28))).has_value());   // unreachable
  EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 1, icmp_msg(14, 1, 2, 11))).has_value());  // short ts
  Bytes code = icmp_msg(0, 1, 2);
  code[1] = std::byte{1};
  EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 1, code)).has_value());
  EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 17, echo)).has_value());  // UDP

  // Fragments, a bad IP checksum and a bad ICMP checksum.
  Bytes frag = make_v4(kPeer, kMe, 1, echo);
  set16(frag, 6, 0x2000);
  set16(frag, 10, ip_checksum_v4(frag));
  EXPECT_FALSE(parse_discovery_reply(frag).has_value());
  Bytes bad_ip = make_v4(kPeer, kMe, 1, echo);
  bad_ip[10] ^= std::byte{1};
  EXPECT_FALSE(parse_discovery_reply(bad_ip).has_value());
  // Every single-bit flip in the ICMP message is caught by its checksum.
  const Bytes good = make_v4(kPeer, kMe, 1, icmp_msg(0, 0xBEEF, 0x1234, 3));
  for (std::size_t bit = 20 * 8; bit < good.size() * 8; ++bit) {
    Bytes f = good;
    f[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    EXPECT_FALSE(parse_discovery_reply(f).has_value()) << "bit " << bit;
  }
}

// ---- ICMPv6 echo --------------------------------------------------------------------

TEST(IcmpTemplate6, EchoChecksumMatchesFromScratchAndRoundTrips) {
  const DiscoveryCookie c(kKey);
  std::mt19937_64 rng(31);
  Bytes p(IcmpTemplate6::kEchoLen);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const Ip6Bytes me = random_ip6(rng);
    const auto hop = static_cast<uint8_t>(rng());
    const IcmpTemplate6 t(me, hop);
    for (int i = 0; i < 500; ++i) {
      const Ip6Bytes peer = random_ip6(rng);
      const uint32_t cookie = c.echo6(me, peer);
      ASSERT_EQ(t.build_echo(p, peer, cookie), IcmpTemplate6::kEchoLen);
      ASSERT_EQ(p[0], std::byte{0x60});
      ASSERT_EQ(be16(p, 4), 8);
      ASSERT_EQ(p[6], std::byte{58});
      ASSERT_EQ(p[7], std::byte{hop});
      ASSERT_EQ(p[40], std::byte{128});
      ASSERT_EQ(be32(p, 44), cookie);
      ASSERT_EQ(be16(p, 42), icmp_checksum_v6(p)) << "tmpl " << tmpl << " i " << i;
      ASSERT_FALSE(parse_discovery_reply(p).has_value());  // a request

      Bytes reply = icmp_msg(129, be16(p, 44), be16(p, 46));
      const auto r = parse_discovery_reply(make_v6(peer, me, 58, reply));
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->kind, DiscoveryKind::kEchoReply6);
      EXPECT_TRUE(r->v6);
      EXPECT_EQ(r->src, peer);
      EXPECT_EQ(r->dst, me);
      EXPECT_TRUE(c.valid(*r));
      set16(reply, 6, static_cast<uint16_t>(be16(reply, 6) ^ 0x8000));
      const auto w = parse_discovery_reply(make_v6(peer, me, 58, reply));
      ASSERT_TRUE(w.has_value());
      EXPECT_FALSE(c.valid(*w));
    }
  }
  const IcmpTemplate6 t(Ip6Bytes{});
  Bytes shortbuf(IcmpTemplate6::kEchoLen - 1);
  EXPECT_EQ(t.build_echo(shortbuf, Ip6Bytes{}, 1), 0U);
}

TEST(DiscoveryReply, Icmp6RejectsBadChecksumCodeAndLengths) {
  const Ip6Bytes a = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  const Ip6Bytes b = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const Bytes good = make_v6(a, b, 58, icmp_msg(129, 5, 6, 4));
  ASSERT_TRUE(parse_discovery_reply(good).has_value());
  // Every single-bit flip from the addresses on (they are in the pseudo-header).
  for (std::size_t bit = 8 * 8; bit < good.size() * 8; ++bit) {
    Bytes f = good;
    f[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    EXPECT_FALSE(parse_discovery_reply(f).has_value()) << "bit " << bit;
  }
  Bytes code = icmp_msg(129, 5, 6);
  code[1] = std::byte{3};
  EXPECT_FALSE(parse_discovery_reply(make_v6(a, b, 58, code)).has_value());
  EXPECT_FALSE(parse_discovery_reply(make_v6(a, b, 58, icmp_msg(128, 5, 6))).has_value());
  Bytes big = good;
  set16(big, 4, static_cast<uint16_t>(good.size() - 40 + 1));
  EXPECT_FALSE(parse_discovery_reply(big).has_value());
  set16(big, 4, 0);
  EXPECT_FALSE(parse_discovery_reply(big).has_value());
  Bytes hbh = good;
  hbh[6] = std::byte{0};  // hop-by-hop header first: not walked
  EXPECT_FALSE(parse_discovery_reply(hbh).has_value());
  Bytes padded = good;
  padded.resize(good.size() + 9, std::byte{0x55});
  EXPECT_TRUE(parse_discovery_reply(padded).has_value());
}

// ---- Neighbor Discovery -------------------------------------------------------------

TEST(NeighborDiscovery, SolicitedNodeAddressFollowsRfc4291) {
  // RFC 4291 §2.7.1: 4037::01:800:200E:8C6C → FF02::1:FF0E:8C6C.
  const Ip6Bytes addr = ip6({0x40, 0x37, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x08, 0x00, 0x20, 0x0e, 0x8c, 0x6c});
  const Ip6Bytes want = ip6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x0e, 0x8c, 0x6c});
  EXPECT_EQ(solicited_node_address(addr), want);
  // RFC 2464 §7: 33:33 and the last four bytes of the group.
  EXPECT_EQ(ipv6_multicast_mac(want), (MacBytes{0x33, 0x33, 0xff, 0x0e, 0x8c, 0x6c}));
  // Only the low 24 bits of the address matter.
  Ip6Bytes other = addr;
  other[0] ^= 0xff;
  other[12] ^= 0xff;
  EXPECT_EQ(solicited_node_address(other), want);
}

TEST(NeighborSolicitTemplate, BytesAndChecksumMatchFromScratch) {
  std::mt19937_64 rng(41);
  Bytes p(NeighborSolicitTemplate::kLen);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const Ip6Bytes me = random_ip6(rng);
    MacBytes mac{};
    for (auto& x : mac) {
      x = static_cast<uint8_t>(rng());
    }
    const NeighborSolicitTemplate t(me, mac);
    for (int i = 0; i < 500; ++i) {
      const Ip6Bytes target = random_ip6(rng);
      ASSERT_EQ(t.build(p, target), NeighborSolicitTemplate::kLen);
      ASSERT_EQ(p[0], std::byte{0x60});
      ASSERT_EQ(be16(p, 4), 32);
      ASSERT_EQ(p[6], std::byte{58});
      ASSERT_EQ(p[7], std::byte{255});
      const Ip6Bytes dst = solicited_node_address(target);
      for (std::size_t k = 0; k < 16; ++k) {
        ASSERT_EQ(p[8 + k], std::byte{me[k]});
        ASSERT_EQ(p[24 + k], std::byte{dst[k]});
        ASSERT_EQ(p[48 + k], std::byte{target[k]});
      }
      ASSERT_EQ(p[24], std::byte{0xff});
      ASSERT_EQ(p[40], std::byte{135});
      ASSERT_EQ(p[41], std::byte{0});
      ASSERT_EQ(be32(p, 44), 0U);      // reserved
      ASSERT_EQ(p[64], std::byte{1});  // source link-layer address option
      ASSERT_EQ(p[65], std::byte{1});
      for (std::size_t k = 0; k < 6; ++k) {
        ASSERT_EQ(p[66 + k], std::byte{mac[k]});
      }
      ASSERT_EQ(be16(p, 42), icmp_checksum_v6(p)) << "tmpl " << tmpl << " i " << i;
    }
  }
  Bytes shortbuf(NeighborSolicitTemplate::kLen - 1);
  EXPECT_EQ(NeighborSolicitTemplate(Ip6Bytes{}, kMyMac).build(shortbuf, Ip6Bytes{}), 0U);
}

TEST(NeighborDiscovery, AdvertisementParsesTargetAndMac) {
  const DiscoveryCookie c(kKey);
  const Ip6Bytes me = ip6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55});
  const Ip6Bytes peer = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  // Solicited, override, with an unknown option (type 99, 16 bytes) before the TLLA.
  Bytes opts = bytes_of({99, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
  append(opts, tlla_option(kPeerMac));
  const auto r = parse_discovery_reply(make_v6(peer, me, 58, na_msg(kNaSolicited | kNaOverride, peer, opts), 255));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->kind, DiscoveryKind::kNeighborAdvert);
  EXPECT_EQ(r->target, peer);
  EXPECT_EQ(r->src, peer);
  EXPECT_EQ(r->dst, me);
  EXPECT_TRUE(r->has_mac);
  EXPECT_EQ(r->mac, kPeerMac);
  EXPECT_EQ(r->na_flags, kNaSolicited | kNaOverride);
  EXPECT_FALSE(c.valid(*r));  // no cookie: the caller checks the target

  // No options (allowed for a solicited NA on a link without addresses).
  const auto bare = parse_discovery_reply(make_v6(peer, me, 58, na_msg(kNaRouter, peer, {}), 255));
  ASSERT_TRUE(bare.has_value());
  EXPECT_FALSE(bare->has_mac);
  EXPECT_EQ(bare->na_flags, kNaRouter);
  // A target link-layer option of another length is not an Ethernet MAC.
  const auto wide = parse_discovery_reply(
      make_v6(peer, me, 58, na_msg(0, peer, bytes_of({2, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14})), 255));
  ASSERT_TRUE(wide.has_value());
  EXPECT_FALSE(wide->has_mac);
  // Unsolicited (S clear) to all-nodes: fine.
  const Ip6Bytes all_nodes = ip6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  EXPECT_TRUE(parse_discovery_reply(make_v6(peer, all_nodes, 58, na_msg(kNaOverride, peer, tlla_option(kPeerMac)), 255))
                  .has_value());
}

TEST(NeighborDiscovery, AdvertisementValidityChecksOfRfc4861) {
  const Ip6Bytes me = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const Ip6Bytes peer = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  const Ip6Bytes all_nodes = ip6({0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const Bytes tlla = tlla_option(kPeerMac);
  const auto parses = [](const Bytes& p) { return parse_discovery_reply(p).has_value(); };
  ASSERT_TRUE(parses(make_v6(peer, me, 58, na_msg(kNaSolicited, peer, tlla), 255)));
  // Hop limit below 255: forwarded, so possibly off-link.
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(kNaSolicited, peer, tlla), 254)));
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(kNaSolicited, peer, tlla), 64)));
  // Multicast target; Solicited flag on a multicast destination.
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(0, all_nodes, tlla), 255)));
  EXPECT_FALSE(parses(make_v6(peer, all_nodes, 58, na_msg(kNaSolicited, peer, tlla), 255)));
  // Non-zero code.
  Bytes code = na_msg(kNaSolicited, peer, tlla);
  code[1] = std::byte{1};
  EXPECT_FALSE(parses(make_v6(peer, me, 58, code, 255)));
  // Shorter than 24 bytes.
  Bytes shortmsg = na_msg(kNaSolicited, peer, {});
  shortmsg.resize(23);
  EXPECT_FALSE(parses(make_v6(peer, me, 58, shortmsg, 255)));
  // Zero-length option; option running past the end; a lone option byte.
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(0, peer, bytes_of({2, 0, 1, 2, 3, 4, 5, 6})), 255)));
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(0, peer, bytes_of({2, 2, 1, 2, 3, 4, 5, 6})), 255)));
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(0, peer, bytes_of({2})), 255)));
  Bytes after = tlla;
  append(after, bytes_of({1, 0}));
  EXPECT_FALSE(parses(make_v6(peer, me, 58, na_msg(0, peer, after), 255)));
  // Bad checksum.
  Bytes bad = make_v6(peer, me, 58, na_msg(kNaSolicited, peer, tlla), 255);
  bad[60] ^= std::byte{0x01};
  EXPECT_FALSE(parses(bad));
  // A solicitation is not an answer.
  Bytes ns(NeighborSolicitTemplate::kLen);
  NeighborSolicitTemplate(me, kMyMac).build(ns, peer);
  EXPECT_FALSE(parses(ns));
}

// ---- ARP ----------------------------------------------------------------------------

Bytes arp_packet(uint16_t op, const MacBytes& smac, uint32_t sip, const MacBytes& tmac, uint32_t tip) {
  Bytes a(28, std::byte{0});
  set16(a, 0, 1);
  set16(a, 2, 0x0800);
  a[4] = std::byte{6};
  a[5] = std::byte{4};
  set16(a, 6, op);
  for (std::size_t i = 0; i < 6; ++i) {
    a[8 + i] = static_cast<std::byte>(smac[i]);
    a[18 + i] = static_cast<std::byte>(tmac[i]);
  }
  set32(a, 14, sip);
  set32(a, 24, tip);
  return a;
}

Bytes eth_frame(const MacBytes& dst, const MacBytes& src, const Bytes& payload, bool vlan = false) {
  Bytes f;
  for (const auto x : dst) {
    f.push_back(static_cast<std::byte>(x));
  }
  for (const auto x : src) {
    f.push_back(static_cast<std::byte>(x));
  }
  if (vlan) {
    append(f, bytes_of({0x81, 0x00, 0x00, 0x2a}));
  }
  append(f, bytes_of({0x08, 0x06}));
  append(f, payload);
  return f;
}

TEST(Arp, RequestFrameIsExact) {
  const ArpRequestTemplate t(kMyMac, kMe);
  Bytes f(ArpRequestTemplate::kLen);
  ASSERT_EQ(t.build(f, kPeer), 42U);
  // Ethernet: broadcast, our MAC, 0806. ARP (RFC 826): Ethernet, IPv4, 6, 4, request,
  // our MAC and 10.0.0.1, unknown MAC, 192.0.2.7.
  const Bytes want = from_hex(
      "ffffffffffff 021122334455 0806 "
      "0001 0800 06 04 0001 021122334455 0a000001 000000000000 c0000207");
  EXPECT_EQ(f, want);
  EXPECT_FALSE(parse_arp_reply_frame(f).has_value());  // a request
  Bytes shortbuf(41, std::byte{0xee});
  EXPECT_EQ(t.build(shortbuf, kPeer), 0U);
  EXPECT_EQ(shortbuf, Bytes(41, std::byte{0xee}));
}

TEST(Arp, ReplyParsesFromFrameAndBarePacket) {
  const Bytes arp = arp_packet(2, kPeerMac, kPeer, kMyMac, kMe);
  const auto check = [](const std::optional<ArpReply>& r) {
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->sender_ip, kPeer);
    EXPECT_EQ(r->sender_mac, kPeerMac);
    EXPECT_EQ(r->target_ip, kMe);
    EXPECT_EQ(r->target_mac, kMyMac);
  };
  check(parse_arp_reply(arp));
  Bytes frame = eth_frame(kMyMac, kPeerMac, arp);
  check(parse_arp_reply_frame(frame));
  frame.resize(60, std::byte{0});  // padded to the Ethernet minimum
  check(parse_arp_reply_frame(frame));
  check(parse_arp_reply_frame(eth_frame(kMyMac, kPeerMac, arp, true)));
  Bytes longer = arp;
  longer.resize(46, std::byte{0x77});
  check(parse_arp_reply(longer));
}

TEST(Arp, RejectsRequestsOtherProtocolsAndBogusSenders) {
  const auto bare_ok = [](const Bytes& a) { return parse_arp_reply(a).has_value(); };
  EXPECT_TRUE(bare_ok(arp_packet(2, kPeerMac, kPeer, kMyMac, kMe)));
  EXPECT_FALSE(bare_ok(arp_packet(1, kPeerMac, kPeer, kMyMac, kMe)));  // request
  EXPECT_FALSE(bare_ok(arp_packet(3, kPeerMac, kPeer, kMyMac, kMe)));  // RARP request
  EXPECT_FALSE(bare_ok(arp_packet(2, MacBytes{}, kPeer, kMyMac, kMe)));
  EXPECT_FALSE(bare_ok(arp_packet(2, MacBytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, kPeer, kMyMac, kMe)));
  EXPECT_FALSE(bare_ok(arp_packet(2, MacBytes{0x01, 0, 0x5e, 0, 0, 1}, kPeer, kMyMac, kMe)));
  for (const std::size_t off : {0U, 1U, 2U, 3U, 4U, 5U}) {  // htype, ptype, hlen, plen
    Bytes a = arp_packet(2, kPeerMac, kPeer, kMyMac, kMe);
    a[off] ^= std::byte{0x01};
    EXPECT_FALSE(bare_ok(a)) << "offset " << off;
  }
  const Bytes arp = arp_packet(2, kPeerMac, kPeer, kMyMac, kMe);
  Bytes ip_type = eth_frame(kMyMac, kPeerMac, arp);
  ip_type[13] = std::byte{0x00};  // 0x0800: IPv4
  EXPECT_FALSE(parse_arp_reply_frame(ip_type).has_value());
  Bytes vlan_ip = eth_frame(kMyMac, kPeerMac, arp, true);
  vlan_ip[17] = std::byte{0x00};
  EXPECT_FALSE(parse_arp_reply_frame(vlan_ip).has_value());
  // Every truncation, of the frame (plain and tagged) and of the bare packet.
  for (const Bytes& full : {eth_frame(kMyMac, kPeerMac, arp), eth_frame(kMyMac, kPeerMac, arp, true)}) {
    ASSERT_TRUE(parse_arp_reply_frame(full).has_value());
    for (std::size_t len = 0; len < full.size(); ++len) {
      const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
      EXPECT_FALSE(parse_arp_reply_frame(cut).has_value()) << "length " << len;
    }
  }
  for (std::size_t len = 0; len < arp.size(); ++len) {
    const Bytes cut(arp.begin(), arp.begin() + static_cast<std::ptrdiff_t>(len));
    EXPECT_FALSE(parse_arp_reply(cut).has_value()) << "length " << len;
  }
}

// ---- TCP: -PS and -PA ---------------------------------------------------------------

TEST(AckProbe, TemplateCarriesCookieInAckWithoutMssAndChecksumsMatch) {
  std::mt19937_64 rng(51);
  for (int tmpl = 0; tmpl < 8; ++tmpl) {
    const auto src = static_cast<uint32_t>(rng());
    const SynTemplate4 t(src, 64, 1024, 1460, kTcpAck);
    Bytes p(SynTemplate4::kLen);
    for (int i = 0; i < 1000; ++i) {
      const auto dst = static_cast<uint32_t>(rng());
      const auto seq = static_cast<uint32_t>(rng());
      const auto ack = static_cast<uint32_t>(rng());
      ASSERT_EQ(t.build(p, dst, 40000, 80, seq, static_cast<uint16_t>(i), ack), SynTemplate4::kLen);
      ASSERT_EQ(p[33], std::byte{kTcpAck});
      ASSERT_EQ(be32(p, 24), seq);
      ASSERT_EQ(be32(p, 28), ack);
      ASSERT_EQ(be32(p, 40), 0x01010101U);  // four NOPs, no MSS on a non-SYN
      ASSERT_EQ(be16(p, 10), ip_checksum_v4(p));
      ASSERT_EQ(be16(p, 36), tcp_checksum_v4(p, 20));
    }
  }
  // IPv6.
  const Ip6Bytes me = random_ip6(rng);
  const SynTemplate6 t6(me, 64, 1024, 1440, kTcpAck);
  Bytes p6(SynTemplate6::kLen);
  for (int i = 0; i < 1000; ++i) {
    const Ip6Bytes dst = random_ip6(rng);
    const auto ack = static_cast<uint32_t>(rng());
    ASSERT_EQ(t6.build(p6, dst, 40000, 443, 7, ack), SynTemplate6::kLen);
    ASSERT_EQ(be32(p6, 48), ack);
    ASSERT_EQ(p6[53], std::byte{kTcpAck});
    ASSERT_EQ(be16(p6, 56), tcp_checksum_v6(p6));
  }
  // The default is still a SYN with MSS and ack 0.
  const SynTemplate4 syn(1);
  Bytes s(SynTemplate4::kLen);
  syn.build(s, 2, 3, 4, 5, 6);
  EXPECT_EQ(s[33], std::byte{kTcpSyn});
  EXPECT_EQ(be32(s, 28), 0U);
  EXPECT_EQ(s[40], std::byte{2});
}

TEST(AckProbe, RstAnsweringAnAckValidatesBySequenceNumber) {
  const DiscoveryCookie dc(kKey);
  const SynCookie& sc = dc.syn();
  const SynTemplate4 t(kMe, 64, 1024, 1460, kTcpAck);
  std::mt19937_64 rng(52);
  Bytes probe(SynTemplate4::kLen);
  for (int i = 0; i < 300; ++i) {
    const Tuple4 tup{kMe, static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    const uint32_t c = sc.cookie(tup);
    t.build(probe, tup.dst_ip, tup.src_port, tup.dst_port, c, 1, c);
    // RFC 9293 §3.10.7.1: <SEQ=SEG.ACK><CTL=RST>, ack field 0, no ACK bit.
    const auto r = parse_discovery_reply(
        make_v4(tup.dst_ip, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, be32(probe, 28), 0, kTcpRst})));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->kind, DiscoveryKind::kTcpReset);
    EXPECT_EQ(r->src_ip4(), tup.dst_ip);
    EXPECT_TRUE(dc.valid(*r));
    EXPECT_TRUE(sc.valid_ack_rst(r->tcp.seq, tup));
    EXPECT_FALSE(sc.valid_ack_rst(r->tcp.seq + 1, tup));
    // A wrong sequence number, another port or another host is not ours.
    const auto bad = parse_discovery_reply(
        make_v4(tup.dst_ip, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, c + 1, 0, kTcpRst})));
    ASSERT_TRUE(bad.has_value());
    EXPECT_FALSE(dc.valid(*bad));
    const auto port = parse_discovery_reply(make_v4(
        tup.dst_ip, kMe, 6, tcp_segment({static_cast<uint16_t>(tup.dst_port + 1), tup.src_port, c, 0, kTcpRst})));
    ASSERT_TRUE(port.has_value());
    EXPECT_FALSE(dc.valid(*port));
    const auto host = parse_discovery_reply(
        make_v4(tup.dst_ip ^ 1, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, c, 0, kTcpRst})));
    ASSERT_TRUE(host.has_value());
    EXPECT_FALSE(dc.valid(*host));
  }
}

TEST(SynProbe, SynAckAndRstAnsweringASynValidateThroughDiscovery) {
  const DiscoveryCookie dc(kKey);
  std::mt19937_64 rng(53);
  for (int i = 0; i < 300; ++i) {
    const Tuple4 tup{kMe, static_cast<uint32_t>(rng()), static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng())};
    const uint32_t c = dc.syn().cookie(tup);
    const auto sa = parse_discovery_reply(
        make_v4(tup.dst_ip, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, 99, c + 1, kTcpSyn | kTcpAck})));
    ASSERT_TRUE(sa.has_value());
    EXPECT_EQ(sa->kind, DiscoveryKind::kTcpSynAck);
    EXPECT_TRUE(dc.valid(*sa));
    const auto ra = parse_discovery_reply(
        make_v4(tup.dst_ip, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, 0, c + 1, kTcpRst | kTcpAck})));
    ASSERT_TRUE(ra.has_value());
    EXPECT_EQ(ra->kind, DiscoveryKind::kTcpReset);
    EXPECT_TRUE(dc.valid(*ra));
    // A SYN-ACK acknowledging the cookie itself (not +1) or without the ACK bit.
    const auto off = parse_discovery_reply(
        make_v4(tup.dst_ip, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, 99, c, kTcpSyn | kTcpAck})));
    ASSERT_TRUE(off.has_value());
    EXPECT_FALSE(dc.valid(*off));
    const auto rst_noack = parse_discovery_reply(
        make_v4(tup.dst_ip, kMe, 6, tcp_segment({tup.dst_port, tup.src_port, 0, c + 1, kTcpRst})));
    ASSERT_TRUE(rst_noack.has_value());
    EXPECT_FALSE(dc.valid(*rst_noack));
  }
  // IPv6 through the same entry point.
  const Ip6Bytes me = random_ip6(rng);
  const Tuple6 t6{me, random_ip6(rng), 40000, 22};
  const uint32_t c6 = dc.syn().cookie(t6);
  const Bytes seg = tcp_segment({22, 40000, 5, c6 + 1, kTcpSyn | kTcpAck});
  const auto r6 = parse_discovery_reply(make_v6(t6.dst_ip, me, 6, seg));
  ASSERT_TRUE(r6.has_value());
  EXPECT_TRUE(r6->v6);
  EXPECT_EQ(r6->kind, DiscoveryKind::kTcpSynAck);
  EXPECT_EQ(r6->src, t6.dst_ip);
  EXPECT_TRUE(dc.valid(*r6));
  const auto a6 = parse_discovery_reply(make_v6(t6.dst_ip, me, 6, tcp_segment({22, 40000, c6, 0, kTcpRst})));
  ASSERT_TRUE(a6.has_value());
  EXPECT_TRUE(dc.valid(*a6));
  EXPECT_TRUE(dc.syn().valid_ack_rst(c6, t6));
  // Segments that are neither SYN-ACK nor RST are not discovery answers.
  for (const uint8_t flags : {kTcpSyn, kTcpAck, uint8_t{0}, uint8_t{0x11}}) {
    EXPECT_FALSE(parse_discovery_reply(make_v4(kPeer, kMe, 6, tcp_segment({80, 40000, 1, 2, flags}))).has_value());
    EXPECT_TRUE(parse_reply(make_v4(kPeer, kMe, 6, tcp_segment({80, 40000, 1, 2, flags}))).has_value());
  }
}

// ---- hostile input ------------------------------------------------------------------

TEST(DiscoveryReply, EveryTruncationIsRejected) {
  const Ip6Bytes a = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7});
  const Ip6Bytes b = ip6({0xfd, 0x13, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  const std::vector<Bytes> fulls = {
      make_v4(kPeer, kMe, 1, icmp_msg(0, 1, 2)),
      make_v4(kPeer, kMe, 1, icmp_msg(14, 1, 2, 12), 2),
      make_v4(kPeer, kMe, 6, tcp_segment({80, 4000, 1, 2, kTcpRst})),
      make_v6(a, b, 58, icmp_msg(129, 1, 2, 3)),
      make_v6(a, b, 58, na_msg(kNaSolicited, a, tlla_option(kPeerMac)), 255),
      make_v6(a, b, 6, tcp_segment({80, 4000, 1, 2, kTcpSyn | kTcpAck})),
  };
  for (const Bytes& full : fulls) {
    ASSERT_TRUE(parse_discovery_reply(full).has_value());
    for (std::size_t len = 0; len < full.size(); ++len) {
      // A heap copy of exactly `len` bytes, so ASan sees any over-read.
      const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(len));
      EXPECT_FALSE(parse_discovery_reply(cut).has_value()) << "length " << len << " of " << full.size();
    }
  }
}

TEST(DiscoveryReply, LengthFieldsBeyondTheBufferOrHeaderAreRejected) {
  Bytes p = make_v4(kPeer, kMe, 1, icmp_msg(0, 1, 2));
  const auto refix = [](Bytes b) {
    set16(b, 10, ip_checksum_v4(b));
    return b;
  };
  Bytes b = p;
  set16(b, 2, static_cast<uint16_t>(p.size() + 1));
  EXPECT_FALSE(parse_discovery_reply(refix(b)).has_value());
  set16(b, 2, 19);
  EXPECT_FALSE(parse_discovery_reply(refix(b)).has_value());
  set16(b, 2, 27);  // 7 bytes of ICMP
  EXPECT_FALSE(parse_discovery_reply(refix(b)).has_value());
  b = p;
  b[0] = std::byte{0x44};
  EXPECT_FALSE(parse_discovery_reply(refix(b)).has_value());
  b = p;
  b[0] = std::byte{0x4f};
  EXPECT_FALSE(parse_discovery_reply(refix(b)).has_value());
  b = p;
  b[0] = std::byte{0x55};
  EXPECT_FALSE(parse_discovery_reply(refix(b)).has_value());
  for (std::size_t bit = 0; bit < 20 * 8; ++bit) {
    Bytes f = p;
    f[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    EXPECT_FALSE(parse_discovery_reply(f).has_value()) << "bit " << bit;
  }
}

TEST(DiscoveryReply, RandomBytesNeverCrash) {
  std::mt19937_64 rng(99);
  for (int i = 0; i < 50000; ++i) {
    Bytes b = random_bytes(rng, rng() % 120);
    if (b.size() > 9) {
      b[0] = static_cast<std::byte>((i % 2 == 0 ? 0x40 : 0x60) | (static_cast<unsigned>(b[0]) & 0x0f));
      b[6] = std::byte{58};
      b[9] = std::byte{1};
    }
    const auto r = parse_discovery_reply(b);
    if (r) {
      (void)DiscoveryCookie(kKey).valid(*r);
    }
    (void)parse_arp_reply_frame(b);
    (void)parse_arp_reply(b);
  }
  SUCCEED();
}

}  // namespace
