// tests/fuzz/discovery_reply_fuzz.cpp — the host-discovery parsers
// (scan/discovery_probe.hpp) on arbitrary bytes: parse_discovery_reply as if
// captured from the IP header on, and parse_arp_reply_frame / parse_arp_reply on
// the same bytes as an Ethernet frame and as a bare ARP packet.
//
// Properties: never reads outside the input (ASan; the replay main gives each
// input a heap buffer of exactly its size); an accepted packet's family matches
// its version nibble, its addresses and cookie are the bytes at the offsets the
// headers imply, and an NA arrived with hop limit 255; valid() is total; an
// answer's kind agrees with the TCP flags; and a probe built back to the sender
// by the templates parses (as the request it is: nullopt for ICMP requests) and
// carries the cookie that valid() expects. ARP: an accepted reply's fields are
// the bytes at their offsets and the sender MAC is unicast.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

#include "fuzz_check.hpp"
#include "packet_fuzz_util.hpp"
#include "scan/discovery_probe.hpp"
#include "scan/syn_probe.hpp"

namespace {

using linerate::fuzz::be32;
using linerate::fuzz::checked_ip_header_len;
using linerate::scan::ArpRequestTemplate;
using linerate::scan::DiscoveryCookie;
using linerate::scan::DiscoveryKind;
using linerate::scan::IcmpTemplate4;
using linerate::scan::IcmpTemplate6;
using linerate::scan::kTcpAck;
using linerate::scan::kTcpRst;
using linerate::scan::kTcpSyn;
using linerate::scan::parse_arp_reply;
using linerate::scan::parse_arp_reply_frame;
using linerate::scan::parse_discovery_reply;

void check_ip(const uint8_t* data, size_t size) {
  const auto r = parse_discovery_reply(std::as_bytes(std::span(data, size)));
  if (!r) {
    return;
  }
  LR_FUZZ_CHECK(size >= 20);
  const std::size_t hl = checked_ip_header_len(data, r->v6);
  LR_FUZZ_CHECK(hl + 8 <= size);
  if (r->v6) {
    LR_FUZZ_CHECK(std::memcmp(r->src.data(), data + 8, 16) == 0);
    LR_FUZZ_CHECK(std::memcmp(r->dst.data(), data + 24, 16) == 0);
  } else {
    LR_FUZZ_CHECK(r->src_ip4() == be32(data + 12) && r->dst_ip4() == be32(data + 16));
  }
  const uint8_t* l4 = data + hl;
  switch (r->kind) {
    case DiscoveryKind::kEchoReply4:
    case DiscoveryKind::kTimestampReply4:
      LR_FUZZ_CHECK(!r->v6 && data[9] == 1 && l4[1] == 0);
      LR_FUZZ_CHECK(l4[0] == (r->kind == DiscoveryKind::kEchoReply4 ? 0 : 14));
      LR_FUZZ_CHECK(r->cookie == be32(l4 + 4));
      break;
    case DiscoveryKind::kEchoReply6:
      LR_FUZZ_CHECK(r->v6 && data[6] == 58 && l4[0] == 129 && r->cookie == be32(l4 + 4));
      break;
    case DiscoveryKind::kNeighborAdvert:
      LR_FUZZ_CHECK(r->v6 && data[6] == 58 && data[7] == 255 && l4[0] == 136 && hl + 24 <= size);
      LR_FUZZ_CHECK(std::memcmp(r->target.data(), l4 + 8, 16) == 0 && r->target[0] != 0xff);
      break;
    case DiscoveryKind::kTcpSynAck:
      LR_FUZZ_CHECK((r->tcp.flags & (kTcpSyn | kTcpAck | kTcpRst)) == (kTcpSyn | kTcpAck));
      break;
    case DiscoveryKind::kTcpReset:
      LR_FUZZ_CHECK((r->tcp.flags & kTcpRst) != 0);
      break;
  }

  const DiscoveryCookie cookie({0x3333, 0x4444});
  const bool ok = cookie.valid(*r);
  LR_FUZZ_CHECK(!ok || r->kind != DiscoveryKind::kNeighborAdvert);

  // Probe back to the sender: the answer's source becomes the destination, and
  // the cookie the probe carries is the one valid() would have wanted.
  if (r->kind == DiscoveryKind::kEchoReply6) {
    const IcmpTemplate6 tmpl(r->dst);
    std::array<std::byte, IcmpTemplate6::kEchoLen> buf{};
    const uint32_t c = cookie.echo6(r->dst, r->src);
    LR_FUZZ_CHECK(tmpl.build_echo(buf, r->src, c) == buf.size());
    LR_FUZZ_CHECK(!parse_discovery_reply(buf));  // a request, not an answer
    LR_FUZZ_CHECK(ok == (r->cookie == c));
  } else if (r->kind == DiscoveryKind::kEchoReply4 || r->kind == DiscoveryKind::kTimestampReply4) {
    const IcmpTemplate4 tmpl(r->dst_ip4());
    std::array<std::byte, IcmpTemplate4::kTimestampLen> buf{};
    const bool echo = r->kind == DiscoveryKind::kEchoReply4;
    const uint32_t c = echo ? cookie.echo4(r->dst_ip4(), r->src_ip4()) : cookie.timestamp4(r->dst_ip4(), r->src_ip4());
    const std::size_t n =
        echo ? tmpl.build_echo(buf, r->src_ip4(), c, 1) : tmpl.build_timestamp(buf, r->src_ip4(), c, 1);
    LR_FUZZ_CHECK(n == (echo ? IcmpTemplate4::kEchoLen : IcmpTemplate4::kTimestampLen));
    LR_FUZZ_CHECK(!parse_discovery_reply(std::span(buf).first(n)));
    LR_FUZZ_CHECK(ok == (r->cookie == c));
  }
}

void check_arp(const uint8_t* data, size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  if (const auto a = parse_arp_reply(bytes)) {
    LR_FUZZ_CHECK(size >= ArpRequestTemplate::kArpLen);
    LR_FUZZ_CHECK(data[7] == 2 && (a->sender_mac[0] & 1U) == 0);
    LR_FUZZ_CHECK(std::memcmp(a->sender_mac.data(), data + 8, 6) == 0 && a->sender_ip == be32(data + 14));
    LR_FUZZ_CHECK(std::memcmp(a->target_mac.data(), data + 18, 6) == 0 && a->target_ip == be32(data + 24));
  }
  if (const auto a = parse_arp_reply_frame(bytes)) {
    LR_FUZZ_CHECK(size >= ArpRequestTemplate::kLen);
    const std::size_t off = (data[12] == 0x81 && data[13] == 0x00) ? 18 : 14;
    const auto bare = parse_arp_reply(bytes.subspan(off));
    LR_FUZZ_CHECK(bare && bare->sender_ip == a->sender_ip && bare->target_ip == a->target_ip);
    // A request built to the answering host is not itself a reply.
    const ArpRequestTemplate tmpl(a->target_mac, a->target_ip);
    std::array<std::byte, ArpRequestTemplate::kLen> buf{};
    LR_FUZZ_CHECK(tmpl.build(buf, a->sender_ip) == buf.size());
    LR_FUZZ_CHECK(!parse_arp_reply_frame(buf));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  check_ip(data, size);
  check_arp(data, size);
  return 0;
}
