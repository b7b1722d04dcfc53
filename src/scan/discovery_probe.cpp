// scan/discovery_probe.cpp — host-discovery templates, cookies and parsers; the
// design is described in the header. Wire layouts: IPv4 RFC 791 §3.1, ICMP
// RFC 792 (echo, timestamp), IPv6 RFC 8200 §3 and §8.1 (pseudo-header), ICMPv6
// RFC 4443 §2.1, §2.3, §4.1-4.2, Neighbor Discovery RFC 4861 §4.3, §4.4, §4.6.1,
// §7.1.2, §7.2.2, solicited-node addresses RFC 4291 §2.7.1, IPv6 multicast over
// Ethernet RFC 2464 §7, ARP RFC 826, 802.1Q tag IEEE 802.1Q §9.3, checksum
// RFC 1071 / 1624.
#include "scan/discovery_probe.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "scan/detail/packet.hpp"
#include "scan/siphash.hpp"
#include "scan/syn_probe.hpp"

namespace linerate::scan {

namespace {

using namespace detail;  // byte order, checksum sums, IP header helpers

constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kArpOpRequest = 1;
constexpr uint16_t kArpOpReply = 2;

// Cookie message tags (see the header): one per ICMP probe kind.
constexpr uint8_t kTagEcho4 = 0x01;
constexpr uint8_t kTagTimestamp4 = 0x02;
constexpr uint8_t kTagEcho6 = 0x03;

// NDP option types (RFC 4861 §4.6).
constexpr uint8_t kOptSourceLinkAddr = 1;
constexpr uint8_t kOptTargetLinkAddr = 2;

uint32_t cookie4(SipKey key, uint8_t tag, uint32_t src_ip, uint32_t dst_ip) noexcept {
  std::array<std::byte, 9> msg{};
  msg[0] = std::byte{tag};
  put32(msg.data() + 1, src_ip);
  put32(msg.data() + 5, dst_ip);
  return static_cast<uint32_t>(siphash24(key, msg));
}

bool is_multicast6(const std::byte* addr) noexcept { return static_cast<uint8_t>(addr[0]) == 0xff; }

MacBytes mac_at(const std::byte* p) noexcept {
  MacBytes m{};
  std::memcpy(m.data(), p, m.size());
  return m;
}

// ICMPv4 message `msg` (the IP payload) → an answer, or nullopt.
std::optional<DiscoveryReply> parse_icmp4(std::span<const std::byte> msg) noexcept {
  if (msg.size() < 8 || static_cast<uint8_t>(msg[1]) != 0) {
    return std::nullopt;
  }
  DiscoveryReply r;
  const auto type = static_cast<uint8_t>(msg[0]);
  if (type == kIcmpEchoReply) {
    r.kind = DiscoveryKind::kEchoReply4;
  } else if (type == kIcmpTimestampReply && msg.size() >= 20) {
    r.kind = DiscoveryKind::kTimestampReply4;
  } else {
    return std::nullopt;
  }
  // The ICMP checksum covers the whole message, no pseudo-header (RFC 792).
  if (fold(sum16(msg.data(), msg.size())) != 0xffffU) {
    return std::nullopt;
  }
  r.cookie = get32(msg.data() + 4);  // identifier, sequence number
  return r;
}

// ICMPv6 message `msg` from the IPv6 packet `ip` (header already checked) → an
// answer, or nullopt.
std::optional<DiscoveryReply> parse_icmp6(const std::byte* ip, std::span<const std::byte> msg) noexcept {
  if (msg.size() < 8 || static_cast<uint8_t>(msg[1]) != 0) {
    return std::nullopt;
  }
  const auto type = static_cast<uint8_t>(msg[0]);
  if (type != kIcmp6EchoReply && type != kIcmp6NeighborAdvert) {
    return std::nullopt;
  }
  // RFC 4443 §2.3: pseudo-header (src, dst, 32-bit length, next header 58) plus
  // the message. src+dst are the 32 bytes at ip+8.
  const uint32_t sum =
      sum16(ip + 8, 32) + words32(static_cast<uint32_t>(msg.size())) + kProtoIcmp6 + sum16(msg.data(), msg.size());
  if (fold(sum) != 0xffffU) {
    return std::nullopt;
  }
  DiscoveryReply r;
  r.v6 = true;
  if (type == kIcmp6EchoReply) {
    r.kind = DiscoveryKind::kEchoReply6;
    r.cookie = get32(msg.data() + 4);
    return r;
  }

  // Neighbor Advertisement: RFC 4861 §7.1.2 validity checks. The hop limit of
  // 255 proves the sender is on our link (a router would have decremented it).
  if (static_cast<uint8_t>(ip[7]) != 255 || msg.size() < 24) {
    return std::nullopt;
  }
  const std::byte* target = msg.data() + 8;
  const auto flags = static_cast<uint8_t>(msg[4]);
  if (is_multicast6(target) || (is_multicast6(ip + 24) && (flags & kNaSolicited) != 0)) {
    return std::nullopt;
  }
  r.kind = DiscoveryKind::kNeighborAdvert;
  r.na_flags = static_cast<uint8_t>(flags & (kNaRouter | kNaSolicited | kNaOverride));
  std::memcpy(r.target.data(), target, 16);
  // Options: (type, length in 8-byte units, data); a zero length is invalid and
  // voids the whole message; an option running past the end is malformed.
  std::size_t off = 24;
  while (off < msg.size()) {
    if (msg.size() - off < 2) {
      return std::nullopt;
    }
    const std::size_t len = static_cast<std::size_t>(msg[off + 1]) * 8;
    if (len == 0 || len > msg.size() - off) {
      return std::nullopt;
    }
    // Length 1 (8 bytes) is the Ethernet form: 6 bytes of MAC after type/length.
    if (static_cast<uint8_t>(msg[off]) == kOptTargetLinkAddr && len == 8) {
      r.mac = mac_at(msg.data() + off + 2);
      r.has_mac = true;
    }
    off += len;
  }
  return r;
}

// TCP: reuse parse_reply for the whole packet (it repeats the IP checks; TCP
// answers to discovery probes are few, so the second pass is not worth sharing).
std::optional<DiscoveryReply> parse_tcp(std::span<const std::byte> pkt) noexcept {
  const auto seg = parse_reply(pkt);
  if (!seg) {
    return std::nullopt;
  }
  DiscoveryReply r;
  if ((seg->flags & kTcpRst) != 0) {
    r.kind = DiscoveryKind::kTcpReset;
  } else if ((seg->flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck)) {
    r.kind = DiscoveryKind::kTcpSynAck;
  } else {
    return std::nullopt;
  }
  r.v6 = seg->v6;
  r.src = seg->src;
  r.dst = seg->dst;
  r.tcp = *seg;
  return r;
}

}  // namespace

// ---- DiscoveryReply / DiscoveryCookie ------------------------------------------------

uint32_t DiscoveryReply::src_ip4() const noexcept { return ip4_of(src); }

uint32_t DiscoveryReply::dst_ip4() const noexcept { return ip4_of(dst); }

uint32_t DiscoveryCookie::echo4(uint32_t src_ip, uint32_t dst_ip) const noexcept {
  return cookie4(key_, kTagEcho4, src_ip, dst_ip);
}

uint32_t DiscoveryCookie::timestamp4(uint32_t src_ip, uint32_t dst_ip) const noexcept {
  return cookie4(key_, kTagTimestamp4, src_ip, dst_ip);
}

uint32_t DiscoveryCookie::echo6(const Ip6Bytes& src_ip, const Ip6Bytes& dst_ip) const noexcept {
  std::array<std::byte, 33> msg{};
  msg[0] = std::byte{kTagEcho6};
  std::memcpy(msg.data() + 1, src_ip.data(), 16);
  std::memcpy(msg.data() + 17, dst_ip.data(), 16);
  return static_cast<uint32_t>(siphash24(key_, msg));
}

bool DiscoveryCookie::valid(const DiscoveryReply& r) const noexcept {
  // Our probe went from the answer's destination to the answer's source.
  switch (r.kind) {
    case DiscoveryKind::kEchoReply4:
      return !r.v6 && r.cookie == echo4(r.dst_ip4(), r.src_ip4());
    case DiscoveryKind::kTimestampReply4:
      return !r.v6 && r.cookie == timestamp4(r.dst_ip4(), r.src_ip4());
    case DiscoveryKind::kEchoReply6:
      return r.v6 && r.cookie == echo6(r.dst, r.src);
    case DiscoveryKind::kNeighborAdvert:
      return false;
    case DiscoveryKind::kTcpSynAck:
    case DiscoveryKind::kTcpReset: {
      const uint32_t c = r.tcp.v6 ? syn_.cookie(r.tcp.probe_tuple6()) : syn_.cookie(r.tcp.probe_tuple4());
      const bool acks_syn = (r.tcp.flags & kTcpAck) != 0 && r.tcp.ack == c + 1U;
      if (r.kind == DiscoveryKind::kTcpSynAck) {
        return acks_syn;
      }
      // RST+ACK answering a SYN, or <SEQ=SEG.ACK><CTL=RST> answering an ACK.
      return acks_syn || r.tcp.seq == c;
    }
  }
  return false;
}

// ---- IcmpTemplate4 ------------------------------------------------------------------

IcmpTemplate4::IcmpTemplate4(uint32_t src_ip, uint8_t ttl) noexcept : src_ip_(src_ip) {
  write_ip4_header(echo_.data(), kEchoLen, ttl, kProtoIcmp, src_ip);
  echo_[kIpLen] = std::byte{kIcmpEchoRequest};  // code, checksum, id, seq: 0
  write_ip4_header(ts_.data(), kTimestampLen, ttl, kProtoIcmp, src_ip);
  ts_[kIpLen] = std::byte{kIcmpTimestampRequest};  // timestamps: 0 or per probe

  // Varying fields (IP id, checksums, destination; ICMP id/seq, originate) are
  // zero here, so these are the sums of the constant words only.
  echo_ip_sum_ = sum16(echo_.data(), kIpLen);
  echo_icmp_sum_ = sum16(echo_.data() + kIpLen, kEchoLen - kIpLen);
  ts_ip_sum_ = sum16(ts_.data(), kIpLen);
  ts_icmp_sum_ = sum16(ts_.data() + kIpLen, kTimestampLen - kIpLen);
}

std::size_t IcmpTemplate4::build_echo(std::span<std::byte> out, uint32_t dst_ip, uint32_t cookie,
                                      uint16_t ip_id) const noexcept {
  if (out.size() < kEchoLen) {
    return 0;
  }
  std::byte* ip = out.data();
  std::memcpy(ip, echo_.data(), kEchoLen);
  put16(ip + 4, ip_id);
  put32(ip + 16, dst_ip);
  std::byte* icmp = ip + kIpLen;
  put32(icmp + 4, cookie);  // identifier = high half, sequence = low half
  put16(ip + 10, static_cast<uint16_t>(~fold(echo_ip_sum_ + ip_id + words32(dst_ip))));
  put16(icmp + 2, static_cast<uint16_t>(~fold(echo_icmp_sum_ + words32(cookie))));
  return kEchoLen;
}

std::size_t IcmpTemplate4::build_timestamp(std::span<std::byte> out, uint32_t dst_ip, uint32_t cookie, uint16_t ip_id,
                                           uint32_t originate_ms) const noexcept {
  if (out.size() < kTimestampLen) {
    return 0;
  }
  std::byte* ip = out.data();
  std::memcpy(ip, ts_.data(), kTimestampLen);
  put16(ip + 4, ip_id);
  put32(ip + 16, dst_ip);
  std::byte* icmp = ip + kIpLen;
  put32(icmp + 4, cookie);
  put32(icmp + 8, originate_ms);
  put16(ip + 10, static_cast<uint16_t>(~fold(ts_ip_sum_ + ip_id + words32(dst_ip))));
  put16(icmp + 2, static_cast<uint16_t>(~fold(ts_icmp_sum_ + words32(cookie) + words32(originate_ms))));
  return kTimestampLen;
}

// ---- IcmpTemplate6 ------------------------------------------------------------------

IcmpTemplate6::IcmpTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit) noexcept : src_ip_(src_ip) {
  constexpr std::size_t kIcmpLen = kEchoLen - kIpLen;
  write_ip6_header(bytes_.data(), kIcmpLen, kProtoIcmp6, hop_limit, src_ip);
  bytes_[kIpLen] = std::byte{kIcmp6EchoRequest};
  // Pseudo-header: src, dst (per probe), 32-bit length, 24 zero bits, next header.
  icmp_sum_ =
      words_ip6(src_ip) + static_cast<uint32_t>(kIcmpLen) + kProtoIcmp6 + sum16(bytes_.data() + kIpLen, kIcmpLen);
}

std::size_t IcmpTemplate6::build_echo(std::span<std::byte> out, const Ip6Bytes& dst_ip,
                                      uint32_t cookie) const noexcept {
  if (out.size() < kEchoLen) {
    return 0;
  }
  std::byte* ip = out.data();
  std::memcpy(ip, bytes_.data(), kEchoLen);
  std::memcpy(ip + 24, dst_ip.data(), 16);
  std::byte* icmp = ip + kIpLen;
  put32(icmp + 4, cookie);
  put16(icmp + 2, static_cast<uint16_t>(~fold(icmp_sum_ + words_ip6(dst_ip) + words32(cookie))));
  return kEchoLen;
}

// ---- Neighbor Solicitation ----------------------------------------------------------

Ip6Bytes solicited_node_address(const Ip6Bytes& addr) noexcept {
  Ip6Bytes g{};
  g[0] = 0xff;
  g[1] = 0x02;
  g[11] = 0x01;
  g[12] = 0xff;
  g[13] = addr[13];
  g[14] = addr[14];
  g[15] = addr[15];
  return g;
}

MacBytes ipv6_multicast_mac(const Ip6Bytes& group) noexcept {
  return MacBytes{0x33, 0x33, group[12], group[13], group[14], group[15]};
}

NeighborSolicitTemplate::NeighborSolicitTemplate(const Ip6Bytes& src_ip, const MacBytes& src_mac) noexcept {
  std::byte* ip = bytes_.data();
  write_ip6_header(ip, kIcmpLen, kProtoIcmp6, 255, src_ip);  // RFC 4861 §7.1.1: 255
  std::byte* icmp = ip + kIpLen;
  icmp[0] = std::byte{kIcmp6NeighborSolicit};  // code 0, checksum, reserved: 0
  // Bytes 8..23: target (per probe). Then the source link-layer address option.
  icmp[24] = std::byte{kOptSourceLinkAddr};
  icmp[25] = std::byte{1};  // 8 bytes
  std::memcpy(icmp + 26, src_mac.data(), 6);
  icmp_sum_ = words_ip6(src_ip) + static_cast<uint32_t>(kIcmpLen) + kProtoIcmp6 + sum16(icmp, kIcmpLen);
}

std::size_t NeighborSolicitTemplate::build(std::span<std::byte> out, const Ip6Bytes& target) const noexcept {
  if (out.size() < kLen) {
    return 0;
  }
  const Ip6Bytes dst = solicited_node_address(target);
  std::byte* ip = out.data();
  std::memcpy(ip, bytes_.data(), kLen);
  std::memcpy(ip + 24, dst.data(), 16);
  std::byte* icmp = ip + kIpLen;
  std::memcpy(icmp + 8, target.data(), 16);
  put16(icmp + 2, static_cast<uint16_t>(~fold(icmp_sum_ + words_ip6(dst) + words_ip6(target))));
  return kLen;
}

// ---- ARP ----------------------------------------------------------------------------

ArpRequestTemplate::ArpRequestTemplate(const MacBytes& src_mac, uint32_t src_ip) noexcept {
  std::byte* eth = bytes_.data();
  std::memset(eth, 0xff, 6);  // broadcast
  std::memcpy(eth + 6, src_mac.data(), 6);
  put16(eth + 12, kEtherTypeArp);
  std::byte* arp = eth + kEthLen;
  put16(arp, 1);  // hardware type: Ethernet
  put16(arp + 2, kEtherTypeIpv4);
  arp[4] = std::byte{6};
  arp[5] = std::byte{4};
  put16(arp + 6, kArpOpRequest);
  std::memcpy(arp + 8, src_mac.data(), 6);
  put32(arp + 14, src_ip);
  // arp + 18: target MAC, zero (RFC 5227 §2.1.1 asks for zero); arp + 24: target IP.
}

std::size_t ArpRequestTemplate::build(std::span<std::byte> out, uint32_t target_ip) const noexcept {
  if (out.size() < kLen) {
    return 0;
  }
  std::memcpy(out.data(), bytes_.data(), kLen);
  put32(out.data() + kEthLen + 24, target_ip);
  return kLen;
}

std::optional<ArpReply> parse_arp_reply(std::span<const std::byte> arp) noexcept {
  if (arp.size() < ArpRequestTemplate::kArpLen) {
    return std::nullopt;
  }
  const std::byte* p = arp.data();
  if (get16(p) != 1 || get16(p + 2) != kEtherTypeIpv4 || static_cast<uint8_t>(p[4]) != 6 ||
      static_cast<uint8_t>(p[5]) != 4 || get16(p + 6) != kArpOpReply) {
    return std::nullopt;
  }
  ArpReply r;
  r.sender_mac = mac_at(p + 8);
  r.sender_ip = get32(p + 14);
  r.target_mac = mac_at(p + 18);
  r.target_ip = get32(p + 24);
  // Group bit set (multicast/broadcast) or all zero: not a host's interface.
  if ((r.sender_mac[0] & 0x01U) != 0 || r.sender_mac == MacBytes{}) {
    return std::nullopt;
  }
  return r;
}

std::optional<ArpReply> parse_arp_reply_frame(std::span<const std::byte> frame) noexcept {
  if (frame.size() < ArpRequestTemplate::kEthLen) {
    return std::nullopt;
  }
  std::size_t off = 12;
  uint16_t type = get16(frame.data() + off);
  if (type == kEtherTypeVlan) {
    // One 802.1Q tag: TPID, TCI, then the real ethertype.
    off += 4;
    if (frame.size() < off + 2) {
      return std::nullopt;
    }
    type = get16(frame.data() + off);
  }
  if (type != kEtherTypeArp) {
    return std::nullopt;
  }
  return parse_arp_reply(frame.subspan(off + 2));
}

// ---- parse_discovery_reply ----------------------------------------------------------

std::optional<DiscoveryReply> parse_discovery_reply(std::span<const std::byte> pkt) noexcept {
  const auto outer = parse_outer(pkt);
  if (!outer) {
    return std::nullopt;
  }
  if (outer->proto == kProtoTcp) {
    return parse_tcp(pkt);
  }
  std::optional<DiscoveryReply> r;
  if (!outer->v6 && outer->proto == kProtoIcmp) {
    r = parse_icmp4(outer->l4);
  } else if (outer->v6 && outer->proto == kProtoIcmp6) {
    r = parse_icmp6(pkt.data(), outer->l4);
  }
  if (r) {
    r->src = outer->src();
    r->dst = outer->dst();
  }
  return r;
}

}  // namespace linerate::scan
