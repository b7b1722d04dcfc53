// scan/detail/packet.hpp — the low-level packet arithmetic of the raw-probe
// codecs (syn_probe.cpp, udp_probe.cpp, discovery_probe.cpp): big-endian loads
// and stores, Internet-checksum sums (RFC 1071, finished incrementally per RFC
// 1624 by the templates), the fixed part of the IPv4/IPv6 headers the templates
// start from (RFC 791 §3.1, RFC 8200 §3), and the outer IP header check every
// reply parser begins with.
//
// Why shared: the three codecs had grown private copies of exactly this code.
// One copy means one place where the checksum and the untrusted-input bounds
// checks are right, and the parsers cannot drift apart on what an acceptable
// outer header is.
//
// Invariants: everything here is inline, noexcept, allocation-free and keeps no
// state (data plane). Pointer arguments must have the stated number of readable
// or writable bytes; the caller has checked that. Integers are in host order,
// IPv6 addresses are their 16 wire bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "scan/syn_probe.hpp"  // Ip6Bytes

namespace linerate::scan::detail {

// IP protocol / next-header numbers (IANA "Assigned Internet Protocol Numbers").
inline constexpr uint8_t kProtoIcmp = 1;
inline constexpr uint8_t kProtoTcp = 6;
inline constexpr uint8_t kProtoIcmp6 = 58;

// ---- byte order --------------------------------------------------------------------

constexpr void put16(std::byte* p, uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

constexpr void put32(std::byte* p, uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

constexpr uint16_t get16(const std::byte* p) noexcept {
  return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) | static_cast<unsigned>(p[1]));
}

constexpr uint32_t get32(const std::byte* p) noexcept {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

/// The first four bytes of `a` as a host-order IPv4 address (how the codecs
/// keep an IPv4 address in an Ip6Bytes).
constexpr uint32_t ip4_of(const Ip6Bytes& a) noexcept {
  return (static_cast<uint32_t>(a[0]) << 24) | (static_cast<uint32_t>(a[1]) << 16) |
         (static_cast<uint32_t>(a[2]) << 8) | static_cast<uint32_t>(a[3]);
}

// ---- one's-complement sums ---------------------------------------------------------

/// Plain (unfolded) sum of the big-endian 16-bit words of `len` bytes at `p`; an
/// odd last byte counts as its high half (RFC 1071 §4.1, RFC 768). Any IP
/// payload (len <= 65,535) sums to at most 32,768 * 0xffff < 2^31, so a
/// uint32_t cannot overflow and callers may add a few more words before fold().
constexpr uint32_t sum16(const std::byte* p, std::size_t len) noexcept {
  uint32_t s = 0;
  std::size_t i = 0;
  for (; i + 1 < len; i += 2) {
    s += get16(p + i);
  }
  if (i < len) {
    s += static_cast<uint32_t>(p[i]) << 8;
  }
  return s;
}

/// End-around carry: two folds bring any 32-bit sum into 16 bits.
constexpr uint16_t fold(uint32_t s) noexcept {
  s = (s & 0xffffU) + (s >> 16);
  s = (s & 0xffffU) + (s >> 16);
  return static_cast<uint16_t>(s);
}

/// The two 16-bit words of a 32-bit field, summed (not folded).
constexpr uint32_t words32(uint32_t v) noexcept { return (v >> 16) + (v & 0xffffU); }

/// The eight 16-bit words of an IPv6 address, summed (not folded).
constexpr uint32_t words_ip6(const Ip6Bytes& a) noexcept {
  uint32_t s = 0;
  for (std::size_t i = 0; i < a.size(); i += 2) {
    s += (static_cast<uint32_t>(a[i]) << 8) | a[i + 1];
  }
  return s;
}

// ---- template headers --------------------------------------------------------------

/// The 20-byte IPv4 header a probe template starts from, written into zeroed
/// bytes at `ip`: version 4, IHL 5, TOS 0, total length, id 0 (per probe),
/// flags/offset 0, TTL, protocol, checksum 0 (per probe), source, destination 0
/// (per probe). Pass total_len 0 where the length varies per probe.
inline void write_ip4_header(std::byte* ip, std::size_t total_len, uint8_t ttl, uint8_t proto,
                             uint32_t src_ip) noexcept {
  ip[0] = std::byte{0x45};
  put16(ip + 2, static_cast<uint16_t>(total_len));
  ip[8] = std::byte{ttl};
  ip[9] = std::byte{proto};
  put32(ip + 12, src_ip);
}

/// The 40-byte IPv6 header a probe template starts from, written into zeroed
/// bytes at `ip`: version 6, traffic class and flow label 0, payload length,
/// next header, hop limit, source; destination per probe. Pass payload_len 0
/// where the length varies per probe.
inline void write_ip6_header(std::byte* ip, std::size_t payload_len, uint8_t next, uint8_t hop_limit,
                             const Ip6Bytes& src_ip) noexcept {
  ip[0] = std::byte{0x60};
  put16(ip + 4, static_cast<uint16_t>(payload_len));
  ip[6] = std::byte{next};
  ip[7] = std::byte{hop_limit};
  std::memcpy(ip + 8, src_ip.data(), 16);
}

// ---- outer header of a received packet ---------------------------------------------

inline constexpr std::size_t kIp4MinLen = 20;
inline constexpr std::size_t kIp6Len = 40;

/// A received IP packet's layer-4 view: version, protocol, and the payload cut
/// to the length the IP header declares. The addresses are read on demand
/// (IPv4 in the first four bytes, the rest zero): keeping only a pointer keeps
/// this small enough to stay in registers on the rx path.
struct Outer {
  bool v6 = false;
  uint8_t proto = 0;
  const std::byte* ip = nullptr;  // the checked IP header, inside the packet
  std::span<const std::byte> l4;

  [[nodiscard]] Ip6Bytes src() const noexcept { return v6 ? addr(ip + 8, 16) : addr(ip + 12, 4); }
  [[nodiscard]] Ip6Bytes dst() const noexcept { return v6 ? addr(ip + 24, 16) : addr(ip + 16, 4); }

 private:
  static Ip6Bytes addr(const std::byte* p, std::size_t len) noexcept {
    Ip6Bytes a{};
    std::memcpy(a.data(), p, len);
    return a;
  }
};

/// Checks the outer header of untrusted capture bytes `pkt` (starting at the IP
/// header) and returns its layer-4 view, or nullopt for anything we cannot
/// trust: a truncated packet, an IPv4 header with a bad IHL, total length or
/// header checksum, an IPv4 fragment (its transport header may be elsewhere), an
/// IPv6 jumbogram (payload length 0, RFC 2675) or a payload running past the
/// capture. The protocol is not filtered; IPv6 extension headers are not walked.
inline std::optional<Outer> parse_outer(std::span<const std::byte> pkt) noexcept {
  if (pkt.empty()) {
    return std::nullopt;
  }
  Outer o;
  o.ip = pkt.data();
  const auto version = static_cast<unsigned>(pkt[0]) >> 4;
  if (version == 4) {
    if (pkt.size() < kIp4MinLen) {
      return std::nullopt;
    }
    const std::size_t hl = (static_cast<std::size_t>(pkt[0]) & 0x0f) * 4;
    if (hl < kIp4MinLen || hl > pkt.size()) {
      return std::nullopt;
    }
    const std::size_t total = get16(pkt.data() + 2);
    if (total < hl || total > pkt.size()) {
      return std::nullopt;
    }
    // MF set or a non-zero offset: a fragment.
    if ((get16(pkt.data() + 6) & 0x3fffU) != 0) {
      return std::nullopt;
    }
    if (fold(sum16(pkt.data(), hl)) != 0xffffU) {
      return std::nullopt;
    }
    o.proto = static_cast<uint8_t>(pkt[9]);
    o.l4 = pkt.subspan(hl, total - hl);
  } else if (version == 6) {
    if (pkt.size() < kIp6Len) {
      return std::nullopt;
    }
    const std::size_t payload = get16(pkt.data() + 4);
    if (payload == 0 || payload > pkt.size() - kIp6Len) {
      return std::nullopt;
    }
    o.v6 = true;
    o.proto = static_cast<uint8_t>(pkt[6]);
    o.l4 = pkt.subspan(kIp6Len, payload);
  } else {
    return std::nullopt;
  }
  return o;
}

}  // namespace linerate::scan::detail
