// tests/unit/scan/packet_test_util.hpp — wire-byte helpers for the scan packet
// tests: big-endian readers and writers, from-scratch Internet checksums, and
// builders for the IPv4/IPv6/TCP packets a peer's stack would send.
//
// Independence is the point: nothing here includes or calls the library's packet
// code (scan/detail/packet.hpp). Each checksum is a full RFC 1071 sum over the
// header or pseudo-header + segment, recomputed from the bytes every time, so it
// can disagree with the templates' incremental arithmetic and make a test fail.
// Not even the scan headers are included: an IPv6 address is the plain byte array
// that scan::Ip6Bytes also is.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <random>
#include <span>
#include <vector>

namespace linerate::testing {

using Bytes = std::vector<std::byte>;
using Ip6 = std::array<uint8_t, 16>;  // the same type as scan::Ip6Bytes

// ---- bytes ------------------------------------------------------------------------

/// Big-endian 16/32-bit field at `off` (the caller keeps `off` in range).
inline uint16_t be16(std::span<const std::byte> b, std::size_t off) {
  return static_cast<uint16_t>((static_cast<unsigned>(b[off]) << 8) | static_cast<unsigned>(b[off + 1]));
}

inline uint32_t be32(std::span<const std::byte> b, std::size_t off) {
  return (static_cast<uint32_t>(be16(b, off)) << 16) | be16(b, off + 2);
}

inline void set16(std::span<std::byte> b, std::size_t off, uint16_t v) {
  b[off] = static_cast<std::byte>(v >> 8);
  b[off + 1] = static_cast<std::byte>(v & 0xff);
}

inline void set32(std::span<std::byte> b, std::size_t off, uint32_t v) {
  set16(b, off, static_cast<uint16_t>(v >> 16));
  set16(b, off + 2, static_cast<uint16_t>(v & 0xffff));
}

inline void push16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<std::byte>(v >> 8));
  b.push_back(static_cast<std::byte>(v & 0xff));
}

inline void push32(Bytes& b, uint32_t v) {
  push16(b, static_cast<uint16_t>(v >> 16));
  push16(b, static_cast<uint16_t>(v & 0xffff));
}

inline void append(Bytes& out, std::span<const std::byte> more) { out.insert(out.end(), more.begin(), more.end()); }

/// Bytes from small numbers: bytes_of({0x60, 0, 0, 0}).
inline Bytes bytes_of(std::initializer_list<unsigned> v) {
  Bytes out;
  for (const unsigned x : v) {
    out.push_back(static_cast<std::byte>(x));
  }
  return out;
}

inline Ip6 random_ip6(std::mt19937_64& rng) {
  Ip6 a{};
  for (auto& b : a) {
    b = static_cast<uint8_t>(rng());
  }
  return a;
}

/// `n` bytes from `rng` (std::mt19937 or std::mt19937_64), one call per byte.
template <typename Rng>
Bytes random_bytes(Rng& rng, std::size_t n) {
  Bytes out(n);
  for (auto& x : out) {
    x = static_cast<std::byte>(rng());
  }
  return out;
}

/// The fixed fields of an IPv4 header (all but the checksum), read back so a
/// test compares, and on failure prints, all of them in one assertion.
struct Ipv4Header {
  unsigned ver_ihl = 0;
  unsigned total_len = 0;
  unsigned id = 0;
  unsigned frag = 0;  // flags + fragment offset
  unsigned ttl = 0;
  unsigned proto = 0;
  uint32_t src = 0;
  uint32_t dst = 0;

  friend bool operator==(const Ipv4Header&, const Ipv4Header&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Ipv4Header& h) {
    return os << std::hex << "{ver_ihl 0x" << h.ver_ihl << " len 0x" << h.total_len << " id 0x" << h.id << " frag 0x"
              << h.frag << " ttl 0x" << h.ttl << " proto 0x" << h.proto << " src 0x" << h.src << " dst 0x" << h.dst
              << "}" << std::dec;
  }
};

inline Ipv4Header ipv4_header(std::span<const std::byte> p) {
  return {static_cast<unsigned>(p[0]), be16(p, 2),  be16(p, 4), be16(p, 6), static_cast<unsigned>(p[8]),
          static_cast<unsigned>(p[9]), be32(p, 12), be32(p, 16)};
}

// ---- checksums from scratch ---------------------------------------------------------

/// RFC 1071: the one's-complement of the one's-complement sum of the 16-bit
/// big-endian words (an odd last byte padded with zero), summed in 64 bits and
/// folded until no carry is left.
inline uint16_t checksum_from_scratch(std::span<const std::byte> data) {
  uint64_t sum = 0;
  for (std::size_t i = 0; i < data.size(); i += 2) {
    uint64_t word = static_cast<uint64_t>(data[i]) << 8;
    if (i + 1 < data.size()) {
      word |= static_cast<uint64_t>(data[i + 1]);
    }
    sum += word;
  }
  while ((sum >> 16) != 0) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum & 0xffff);
}

/// IPv4 header checksum over IHL bytes with the field zeroed. IHL is clamped to
/// the buffer so tests can "fix up" garbled IHL values too.
inline uint16_t ip_checksum_v4(std::span<const std::byte> pkt) {
  const std::size_t hl = std::min((static_cast<std::size_t>(pkt[0]) & 0x0f) * 4, pkt.size());
  Bytes hdr(pkt.begin(), pkt.begin() + static_cast<std::ptrdiff_t>(hl));
  set16(hdr, 10, 0);
  return checksum_from_scratch(hdr);
}

/// Checksum of the transport message after an `hl`-byte IPv4 header: pseudo-header
/// (src, dst, zero, `proto`, 16-bit length; RFC 793 §3.1, RFC 768) + message with
/// its checksum field (at `csum_off` inside it) zeroed.
inline uint16_t pseudo_checksum_v4(std::span<const std::byte> pkt, std::size_t hl, uint8_t proto,
                                   std::size_t csum_off) {
  Bytes msg(pkt.begin() + static_cast<std::ptrdiff_t>(hl), pkt.end());
  set16(msg, csum_off, 0);
  Bytes pseudo(pkt.begin() + 12, pkt.begin() + 20);
  pseudo.push_back(std::byte{0});
  pseudo.push_back(std::byte{proto});
  push16(pseudo, static_cast<uint16_t>(msg.size()));
  append(pseudo, msg);
  return checksum_from_scratch(pseudo);
}

/// The same after a 40-byte IPv6 header (RFC 8200 §8.1): src, dst, 32-bit
/// length, three zero bytes, `next`.
inline uint16_t pseudo_checksum_v6(std::span<const std::byte> pkt, uint8_t next, std::size_t csum_off) {
  Bytes msg(pkt.begin() + 40, pkt.end());
  set16(msg, csum_off, 0);
  Bytes pseudo(pkt.begin() + 8, pkt.begin() + 40);
  push32(pseudo, static_cast<uint32_t>(msg.size()));
  append(pseudo, bytes_of({0, 0, 0, next}));
  append(pseudo, msg);
  return checksum_from_scratch(pseudo);
}

inline uint16_t tcp_checksum_v4(std::span<const std::byte> pkt, std::size_t ihl_bytes) {
  return pseudo_checksum_v4(pkt, ihl_bytes, 6, 16);
}

inline uint16_t tcp_checksum_v6(std::span<const std::byte> pkt) { return pseudo_checksum_v6(pkt, 6, 16); }

/// UDP: a computed 0 is sent as 0xffff (RFC 768).
inline uint16_t udp_checksum_v4(std::span<const std::byte> pkt) {
  const uint16_t c = pseudo_checksum_v4(pkt, (static_cast<std::size_t>(pkt[0]) & 0x0f) * 4, 17, 6);
  return c == 0 ? 0xffff : c;
}

inline uint16_t udp_checksum_v6(std::span<const std::byte> pkt) {
  const uint16_t c = pseudo_checksum_v6(pkt, 17, 6);
  return c == 0 ? 0xffff : c;
}

/// ICMPv4 (RFC 792): over the message after the IHL-byte header, no pseudo-header.
inline uint16_t icmp_checksum_v4(std::span<const std::byte> pkt) {
  const std::size_t hl = (static_cast<std::size_t>(pkt[0]) & 0x0f) * 4;
  Bytes msg(pkt.begin() + static_cast<std::ptrdiff_t>(hl), pkt.end());
  set16(msg, 2, 0);
  return checksum_from_scratch(msg);
}

/// ICMPv6 (RFC 4443 §2.3): with the IPv6 pseudo-header, next header 58.
inline uint16_t icmp_checksum_v6(std::span<const std::byte> pkt) { return pseudo_checksum_v6(pkt, 58, 2); }

// ---- packets as a peer would send them ----------------------------------------------

/// `words` 4-byte words of IPv4 NOP options.
inline Bytes nop_options(std::size_t words) { return Bytes(4 * words, std::byte{1}); }

/// An IPv4 header (id 0x5151, DF, TTL 57, `options` after the fixed 20 bytes) +
/// `payload`, with a correct header checksum; the transport checksum is untouched.
inline Bytes ipv4_packet(uint32_t src, uint32_t dst, uint8_t proto, std::span<const std::byte> payload,
                         std::span<const std::byte> options = {}) {
  const std::size_t hl = 20 + options.size();
  Bytes p;
  p.push_back(static_cast<std::byte>(0x40 | (hl / 4)));
  p.push_back(std::byte{0});
  push16(p, static_cast<uint16_t>(hl + payload.size()));
  push16(p, 0x5151);  // id
  push16(p, 0x4000);  // DF: not a fragment
  p.push_back(std::byte{57});
  p.push_back(std::byte{proto});
  push16(p, 0);
  push32(p, src);
  push32(p, dst);
  append(p, options);
  set16(p, 10, checksum_from_scratch(std::span(p).first(hl)));
  append(p, payload);
  return p;
}

/// An IPv6 header (no extension headers) + `payload`; no checksum is filled.
inline Bytes ipv6_packet(const Ip6& src, const Ip6& dst, uint8_t next, std::span<const std::byte> payload,
                         uint8_t hop = 64) {
  Bytes p = bytes_of({0x60, 0, 0, 0});
  push16(p, static_cast<uint16_t>(payload.size()));
  p.push_back(std::byte{next});
  p.push_back(std::byte{hop});
  append(p, std::as_bytes(std::span(src)));
  append(p, std::as_bytes(std::span(dst)));
  append(p, payload);
  return p;
}

/// A TCP segment's fields; options and payload are zero bytes.
struct TcpSeg {
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint8_t flags = 0;
  std::size_t tcp_opt_words = 0;
  std::size_t payload = 0;
};

/// The segment's bytes with window 65535 and the checksum left 0.
inline Bytes tcp_segment(const TcpSeg& s) {
  const std::size_t tl = 20 + 4 * s.tcp_opt_words;
  Bytes seg(tl + s.payload, std::byte{0});
  set16(seg, 0, s.sport);
  set16(seg, 2, s.dport);
  set32(seg, 4, s.seq);
  set32(seg, 8, s.ack);
  seg[12] = static_cast<std::byte>((tl / 4) << 4);
  seg[13] = static_cast<std::byte>(s.flags);
  set16(seg, 14, 65535);
  return seg;
}

}  // namespace linerate::testing
