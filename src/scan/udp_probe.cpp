// scan/udp_probe.cpp — UDP probe templates, the UDP/ICMP-error parser and the
// ICMP verdict table. The design is described in the header. Wire layouts: IPv4
// RFC 791 §3.1, IPv6 RFC 8200 §3 and §8.1 (pseudo-header), UDP RFC 768, ICMPv4
// RFC 792 (destination unreachable type 3, time exceeded type 11), ICMPv6
// RFC 4443 §3.1 (type 1) and §3.3 (type 3), checksums RFC 1071 / 1624.
#include "scan/udp_probe.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "scan/detail/packet.hpp"

namespace linerate::scan {

namespace {

using namespace detail;  // byte order, checksum sums, IP header helpers

constexpr uint8_t kIcmp4Unreach = 3;
constexpr uint8_t kIcmp4TimeExceeded = 11;
constexpr uint8_t kIcmp6Unreach = 1;
constexpr uint8_t kIcmp6TimeExceeded = 3;

constexpr std::size_t kIcmpHeaderLen = 8;  // type, code, checksum, 4 bytes unused/extension info
constexpr std::size_t kUdpHeaderLen = 8;

// The UDP checksum field from the finished sum: RFC 768 sends a computed 0 as
// all ones (0 means "no checksum", which RFC 8200 §8.1 forbids over IPv6).
uint16_t udp_checksum(uint32_t sum) noexcept {
  const auto c = static_cast<uint16_t>(~fold(sum));
  return c == 0 ? uint16_t{0xffff} : c;
}

// The probe quoted after an ICMP header: an IP header of the outer version,
// then at least the transport ports. The quote is allowed to stop anywhere
// after them (RFC 792 promises 8 transport bytes, RFC 4443 "as much as fits";
// middleboxes send less).
std::optional<QuotedProbe> parse_quoted(std::span<const std::byte> q, bool v6) noexcept {
  QuotedProbe p;
  std::span<const std::byte> l4;
  if (!v6) {
    if (q.size() < kIp4MinLen || (static_cast<unsigned>(q[0]) >> 4) != 4) {
      return std::nullopt;
    }
    const std::size_t hl = (static_cast<std::size_t>(q[0]) & 0x0f) * 4;
    if (hl < kIp4MinLen || hl > q.size()) {
      return std::nullopt;
    }
    // A non-first fragment carries no transport header. (Our probes are never
    // fragmented by us; a router may have, and then the first fragment's quote
    // still has the ports.)
    if ((get16(q.data() + 6) & 0x1fffU) != 0) {
      return std::nullopt;
    }
    p.proto = static_cast<uint8_t>(q[9]);
    std::memcpy(p.src.data(), q.data() + 12, 4);
    std::memcpy(p.dst.data(), q.data() + 16, 4);
    l4 = q.subspan(hl);
  } else {
    if (q.size() < kIp6Len || (static_cast<unsigned>(q[0]) >> 4) != 6) {
      return std::nullopt;
    }
    p.proto = static_cast<uint8_t>(q[6]);
    std::memcpy(p.src.data(), q.data() + 8, 16);
    std::memcpy(p.dst.data(), q.data() + 24, 16);
    l4 = q.subspan(kIp6Len);
  }
  if ((p.proto != kIpProtoTcp && p.proto != kIpProtoUdp) || l4.size() < 4) {
    return std::nullopt;
  }
  p.sport = get16(l4.data());
  p.dport = get16(l4.data() + 2);
  if (p.proto == kIpProtoTcp && l4.size() >= 8) {
    p.has_seq = true;
    p.seq = get32(l4.data() + 4);
  }
  return p;
}

}  // namespace

// ---- UdpPayload ------------------------------------------------------------------

std::optional<UdpPayload> UdpPayload::make(std::span<const std::byte> bytes) {
  if (bytes.size() > kMaxUdpPayload) {
    return std::nullopt;
  }
  UdpPayload p;
  p.bytes_.assign(bytes.begin(), bytes.end());
  p.sum_ = fold(sum16(bytes.data(), bytes.size()));
  return p;
}

// ---- UdpTemplate4 ----------------------------------------------------------------

UdpTemplate4::UdpTemplate4(uint32_t src_ip, uint8_t ttl) noexcept : src_ip_(src_ip) {
  std::byte* ip = bytes_.data();
  write_ip4_header(ip, 0, ttl, kIpProtoUdp, src_ip);  // total length per probe
  // Varying fields (total length, id, checksum, dst; the whole UDP header) are
  // still zero, so these are the sums of the constant words only.
  ip_sum_ = sum16(ip, kIpLen);
  // Pseudo-header (RFC 768): src, dst, zero, protocol, UDP length.
  udp_sum_ = words32(src_ip) + kIpProtoUdp;
}

std::size_t UdpTemplate4::build(std::span<std::byte> out, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                                const UdpPayload& payload, uint16_t ip_id) const noexcept {
  const std::size_t len = kHeaderLen + payload.size();
  if (out.size() < len) {
    return 0;
  }
  // 28-byte header copy plus the payload copy, then the field stores.
  std::byte* ip = out.data();
  std::memcpy(ip, bytes_.data(), kHeaderLen);
  if (!payload.empty()) {
    std::memcpy(ip + kHeaderLen, payload.bytes().data(), payload.size());
  }
  const auto total_len = static_cast<uint16_t>(len);
  const auto udp_len = static_cast<uint16_t>(kUdpLen + payload.size());
  put16(ip + 2, total_len);
  put16(ip + 4, ip_id);
  put32(ip + 16, dst_ip);
  std::byte* udp = ip + kIpLen;
  put16(udp, src_port);
  put16(udp + 2, dst_port);
  put16(udp + 4, udp_len);

  // RFC 1624 eqn. 3 with every template value m = 0: add the new words to the
  // precomputed sums. The UDP length is counted twice, once in the pseudo-header
  // and once in the UDP header; the payload brings its own sum. At most about
  // 2^16 * 10 extra, far below overflow.
  const uint32_t dst_words = words32(dst_ip);
  put16(ip + 10, static_cast<uint16_t>(~fold(ip_sum_ + total_len + ip_id + dst_words)));
  put16(udp + 6, udp_checksum(udp_sum_ + dst_words + src_port + dst_port + 2U * udp_len + payload.sum()));
  return len;
}

// ---- UdpTemplate6 ----------------------------------------------------------------

UdpTemplate6::UdpTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit) noexcept : src_ip_(src_ip) {
  std::byte* ip = bytes_.data();
  write_ip6_header(ip, 0, kIpProtoUdp, hop_limit, src_ip);  // payload length per probe
  // Pseudo-header (RFC 8200 §8.1): src, dst (per probe), 32-bit upper-layer
  // length (per probe), 24 zero bits and the next header.
  udp_sum_ = words_ip6(src_ip) + kIpProtoUdp;
}

std::size_t UdpTemplate6::build(std::span<std::byte> out, const Ip6Bytes& dst_ip, uint16_t src_port, uint16_t dst_port,
                                const UdpPayload& payload) const noexcept {
  const std::size_t len = kHeaderLen + payload.size();
  if (out.size() < len) {
    return 0;
  }
  std::byte* ip = out.data();
  std::memcpy(ip, bytes_.data(), kHeaderLen);
  if (!payload.empty()) {
    std::memcpy(ip + kHeaderLen, payload.bytes().data(), payload.size());
  }
  const auto udp_len = static_cast<uint16_t>(kUdpLen + payload.size());
  put16(ip + 4, udp_len);  // IPv6 payload length = the UDP datagram
  std::memcpy(ip + 24, dst_ip.data(), 16);
  std::byte* udp = ip + kIpLen;
  put16(udp, src_port);
  put16(udp + 2, dst_port);
  put16(udp + 4, udp_len);
  put16(udp + 6, udp_checksum(udp_sum_ + words_ip6(dst_ip) + src_port + dst_port + 2U * udp_len + payload.sum()));
  return len;
}

// ---- ScanEvent -------------------------------------------------------------------

Tuple4 ScanEvent::probe_tuple4() const noexcept {
  if (kind == Kind::kUdp) {
    return Tuple4{ip4_of(dst), ip4_of(src), dport, sport};
  }
  return Tuple4{ip4_of(quoted.src), ip4_of(quoted.dst), quoted.sport, quoted.dport};
}

Tuple6 ScanEvent::probe_tuple6() const noexcept {
  if (kind == Kind::kUdp) {
    return Tuple6{dst, src, dport, sport};
  }
  return Tuple6{quoted.src, quoted.dst, quoted.sport, quoted.dport};
}

// ---- parse_scan_event ------------------------------------------------------------

std::optional<ScanEvent> parse_scan_event(std::span<const std::byte> pkt) noexcept {
  const auto outer = parse_outer(pkt);
  if (!outer) {
    return std::nullopt;
  }
  ScanEvent e;
  e.v6 = outer->v6;
  e.src = outer->src();
  e.dst = outer->dst();
  const std::span<const std::byte> l4 = outer->l4;

  if (outer->proto == kIpProtoUdp) {
    if (l4.size() < kUdpHeaderLen) {
      return std::nullopt;
    }
    const std::size_t udp_len = get16(l4.data() + 4);
    if (udp_len < kUdpHeaderLen || udp_len > l4.size()) {
      return std::nullopt;
    }
    e.kind = ScanEvent::Kind::kUdp;
    e.sport = get16(l4.data());
    e.dport = get16(l4.data() + 2);
    // Both fit 16 bits: the payload starts at most 60 + 8 bytes in (IPv4) or 48
    // (IPv6), and udp_len is a 16-bit field.
    e.payload_off = static_cast<uint16_t>(static_cast<std::size_t>(l4.data() - pkt.data()) + kUdpHeaderLen);
    e.payload_len = static_cast<uint16_t>(udp_len - kUdpHeaderLen);
    return e;
  }

  const uint8_t icmp_proto = e.v6 ? kProtoIcmp6 : kProtoIcmp;
  if (outer->proto != icmp_proto || l4.size() < kIcmpHeaderLen) {
    return std::nullopt;
  }
  const auto type = static_cast<uint8_t>(l4[0]);
  if (type == (e.v6 ? kIcmp6Unreach : kIcmp4Unreach)) {
    e.kind = ScanEvent::Kind::kIcmpUnreach;
  } else if (type == (e.v6 ? kIcmp6TimeExceeded : kIcmp4TimeExceeded)) {
    e.kind = ScanEvent::Kind::kIcmpTimeExceeded;
  } else {
    return std::nullopt;
  }
  const auto quoted = parse_quoted(l4.subspan(kIcmpHeaderLen), e.v6);
  if (!quoted) {
    return std::nullopt;
  }
  e.icmp_type = type;
  e.icmp_code = static_cast<uint8_t>(l4[1]);
  e.quoted = *quoted;
  return e;
}

// ---- verdicts --------------------------------------------------------------------

std::optional<PortVerdict> unreach_verdict(bool v6, uint8_t code, Protocol probe) noexcept {
  const auto filtered = [](Reason r) { return PortVerdict{PortState::kFiltered, r}; };
  const bool port_unreach = v6 ? code == 4 : code == 3;
  if (port_unreach) {
    // The host itself says nothing listens there: closed for UDP (spec §3). For
    // TCP a RST would say that; an ICMP port unreachable is a filter's answer.
    return probe == Protocol::kUdp ? PortVerdict{PortState::kClosed, Reason::kPortUnreach}
                                   : filtered(Reason::kPortUnreach);
  }
  if (v6) {
    switch (code) {
      case 0:  // no route to destination
      case 2:  // beyond scope of source address
        return filtered(Reason::kNetUnreach);
      case 3:  // address unreachable
        return filtered(Reason::kHostUnreach);
      case 1:  // communication administratively prohibited
      case 5:  // source address failed ingress/egress policy
      case 6:  // reject route to destination
        return filtered(Reason::kAdminProhibited);
      default:  // 7 (source routing header error, RFC 6554) and unassigned codes
        return std::nullopt;
    }
  }
  switch (code) {
    case 0:   // net unreachable
    case 6:   // destination network unknown
    case 11:  // network unreachable for type of service
      return filtered(Reason::kNetUnreach);
    case 1:   // host unreachable
    case 7:   // destination host unknown
    case 8:   // source host isolated (obsolete)
    case 12:  // host unreachable for type of service
      return filtered(Reason::kHostUnreach);
    case 2:  // protocol unreachable
      return filtered(Reason::kProtoUnreach);
    case 9:   // network administratively prohibited
    case 10:  // host administratively prohibited
    case 13:  // communication administratively prohibited
    case 14:  // host precedence violation
    case 15:  // precedence cutoff in effect
      return filtered(Reason::kAdminProhibited);
    default:  // 4 fragmentation needed, 5 source route failed, unassigned codes
      return std::nullopt;
  }
}

std::optional<PortVerdict> verdict_for(const ScanEvent& e) noexcept {
  switch (e.kind) {
    case ScanEvent::Kind::kUdp:
      return PortVerdict{PortState::kOpen, Reason::kUdpResponse};
    case ScanEvent::Kind::kIcmpUnreach:
      return unreach_verdict(e.v6, e.icmp_code, e.probe_protocol());
    case ScanEvent::Kind::kIcmpTimeExceeded:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace linerate::scan
