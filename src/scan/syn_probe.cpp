// scan/syn_probe.cpp — SYN cookies, probe templates and the reply parser. The
// design and the checksum arithmetic are described in the header. Wire layouts:
// IPv4 RFC 791 §3.1, IPv6 RFC 8200 §3 and §8.1 (pseudo-header), TCP RFC 9293
// §3.1, MSS option RFC 9293 §3.2 (kind 2, length 4), checksum RFC 1071 / 1624.
#include "scan/syn_probe.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

#include "scan/siphash.hpp"

namespace linerate::scan {

namespace {

constexpr uint8_t kProtoTcp = 6;

// Offsets inside the TCP header.
constexpr std::size_t kTcpSport = 0;
constexpr std::size_t kTcpDport = 2;
constexpr std::size_t kTcpSeq = 4;
constexpr std::size_t kTcpAckNo = 8;
constexpr std::size_t kTcpOff = 12;
constexpr std::size_t kTcpFlags = 13;
constexpr std::size_t kTcpWindow = 14;
constexpr std::size_t kTcpCsum = 16;
constexpr std::size_t kTcpOpts = 20;
constexpr std::size_t kTcpMinLen = 20;

void put16(std::byte* p, uint16_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}

void put32(std::byte* p, uint32_t v) noexcept {
  p[0] = static_cast<std::byte>(v >> 24);
  p[1] = static_cast<std::byte>(v >> 16);
  p[2] = static_cast<std::byte>(v >> 8);
  p[3] = static_cast<std::byte>(v);
}

uint16_t get16(const std::byte* p) noexcept {
  return static_cast<uint16_t>((static_cast<unsigned>(p[0]) << 8) | static_cast<unsigned>(p[1]));
}

uint32_t get32(const std::byte* p) noexcept {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

// Plain (unfolded) sum of the big-endian 16-bit words of an even-length range.
// Only used at template construction and for the IPv4 header check (<= 60 bytes),
// so a uint32_t cannot overflow.
uint32_t sum16(const std::byte* p, std::size_t len) noexcept {
  uint32_t s = 0;
  for (std::size_t i = 0; i + 1 < len; i += 2) {
    s += get16(p + i);
  }
  return s;
}

// End-around carry: two folds bring any sum below 2^17 + 2^16 into 16 bits.
uint16_t fold(uint32_t s) noexcept {
  s = (s & 0xffffU) + (s >> 16);
  s = (s & 0xffffU) + (s >> 16);
  return static_cast<uint16_t>(s);
}

uint32_t words32(uint32_t v) noexcept { return (v >> 16) + (v & 0xffffU); }

uint32_t words_ip6(const Ip6Bytes& a) noexcept {
  uint32_t s = 0;
  for (std::size_t i = 0; i < a.size(); i += 2) {
    s += (static_cast<uint32_t>(a[i]) << 8) | a[i + 1];
  }
  return s;
}

// The constant part of the TCP header both templates share: ack 0, data offset
// 6 words, SYN, window, checksum 0 (filled per probe), urgent 0, MSS option.
void write_tcp_template(std::byte* tcp, uint16_t window, uint16_t mss) noexcept {
  tcp[kTcpOff] = std::byte{(SynTemplate4::kTcpLen / 4) << 4};
  tcp[kTcpFlags] = std::byte{kTcpSyn};
  put16(tcp + kTcpWindow, window);
  tcp[kTcpOpts] = std::byte{2};      // kind: MSS
  tcp[kTcpOpts + 1] = std::byte{4};  // length
  put16(tcp + kTcpOpts + 2, mss);
}

}  // namespace

// ---- SynCookie -------------------------------------------------------------------

uint32_t SynCookie::cookie(const Tuple4& t) const noexcept {
  std::array<std::byte, 12> msg{};
  put32(msg.data(), t.src_ip);
  put32(msg.data() + 4, t.dst_ip);
  put16(msg.data() + 8, t.src_port);
  put16(msg.data() + 10, t.dst_port);
  return static_cast<uint32_t>(siphash24(key_, msg));
}

uint32_t SynCookie::cookie(const Tuple6& t) const noexcept {
  std::array<std::byte, 36> msg{};
  std::memcpy(msg.data(), t.src_ip.data(), 16);
  std::memcpy(msg.data() + 16, t.dst_ip.data(), 16);
  put16(msg.data() + 32, t.src_port);
  put16(msg.data() + 34, t.dst_port);
  return static_cast<uint32_t>(siphash24(key_, msg));
}

ReplyKind SynCookie::classify(const Reply& r) const noexcept {
  const bool synack = (r.flags & (kTcpSyn | kTcpAck | kTcpRst)) == (kTcpSyn | kTcpAck);
  const bool rst = (r.flags & (kTcpRst | kTcpAck)) == (kTcpRst | kTcpAck);
  if (!synack && !rst) {
    return ReplyKind::kNone;
  }
  const uint32_t want = (r.v6 ? cookie(r.probe_tuple6()) : cookie(r.probe_tuple4())) + 1U;
  if (r.ack != want) {
    return ReplyKind::kNone;
  }
  return synack ? ReplyKind::kSynAck : ReplyKind::kRst;
}

Tuple4 Reply::probe_tuple4() const noexcept {
  const auto v4 = [](const Ip6Bytes& a) {
    return (static_cast<uint32_t>(a[0]) << 24) | (static_cast<uint32_t>(a[1]) << 16) |
           (static_cast<uint32_t>(a[2]) << 8) | static_cast<uint32_t>(a[3]);
  };
  return Tuple4{v4(dst), v4(src), dport, sport};
}

Tuple6 Reply::probe_tuple6() const noexcept { return Tuple6{dst, src, dport, sport}; }

// ---- SynTemplate4 ----------------------------------------------------------------

SynTemplate4::SynTemplate4(uint32_t src_ip, uint8_t ttl, uint16_t window, uint16_t mss) noexcept : src_ip_(src_ip) {
  std::byte* ip = bytes_.data();
  ip[0] = std::byte{0x45};  // version 4, IHL 5
  put16(ip + 2, static_cast<uint16_t>(kLen));
  ip[8] = std::byte{ttl};
  ip[9] = std::byte{kProtoTcp};
  put32(ip + 12, src_ip);
  std::byte* tcp = ip + kIpLen;
  write_tcp_template(tcp, window, mss);

  // Varying fields (id, checksum, dst; ports, seq, checksum) are still zero, so
  // these are the sums of the constant words only.
  ip_sum_ = sum16(ip, kIpLen);
  tcp_sum_ = words32(src_ip) + kProtoTcp + static_cast<uint32_t>(kTcpLen) + sum16(tcp, kTcpLen);
}

std::size_t SynTemplate4::build(std::span<std::byte> out, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                                uint32_t seq, uint16_t ip_id) const noexcept {
  if (out.size() < kLen) {
    return 0;
  }
  // 44-byte copy of the constant bytes, then 5 field stores.
  std::byte* ip = out.data();
  std::memcpy(ip, bytes_.data(), kLen);
  put16(ip + 4, ip_id);
  put32(ip + 16, dst_ip);
  std::byte* tcp = ip + kIpLen;
  put16(tcp + kTcpSport, src_port);
  put16(tcp + kTcpDport, dst_port);
  put32(tcp + kTcpSeq, seq);

  // RFC 1624 eqn. 3 with every template value m = 0: the new words are simply
  // added to the precomputed sums (at most 2^16 * 8 extra, no overflow).
  const uint32_t dst_words = words32(dst_ip);
  put16(ip + 10, static_cast<uint16_t>(~fold(ip_sum_ + ip_id + dst_words)));
  put16(tcp + kTcpCsum, static_cast<uint16_t>(~fold(tcp_sum_ + dst_words + src_port + dst_port + words32(seq))));
  return kLen;
}

// ---- SynTemplate6 ----------------------------------------------------------------

SynTemplate6::SynTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit, uint16_t window, uint16_t mss) noexcept
    : src_ip_(src_ip) {
  std::byte* ip = bytes_.data();
  ip[0] = std::byte{0x60};  // version 6, traffic class 0, flow label 0
  put16(ip + 4, static_cast<uint16_t>(kTcpLen));
  ip[6] = std::byte{kProtoTcp};
  ip[7] = std::byte{hop_limit};
  std::memcpy(ip + 8, src_ip.data(), 16);
  std::byte* tcp = ip + kIpLen;
  write_tcp_template(tcp, window, mss);
  // Pseudo-header: src, dst (per probe), 32-bit upper-layer length, 24 zero bits
  // and the next header.
  tcp_sum_ = words_ip6(src_ip) + static_cast<uint32_t>(kTcpLen) + kProtoTcp + sum16(tcp, kTcpLen);
}

std::size_t SynTemplate6::build(std::span<std::byte> out, const Ip6Bytes& dst_ip, uint16_t src_port, uint16_t dst_port,
                                uint32_t seq) const noexcept {
  if (out.size() < kLen) {
    return 0;
  }
  std::byte* ip = out.data();
  std::memcpy(ip, bytes_.data(), kLen);
  std::memcpy(ip + 24, dst_ip.data(), 16);
  std::byte* tcp = ip + kIpLen;
  put16(tcp + kTcpSport, src_port);
  put16(tcp + kTcpDport, dst_port);
  put32(tcp + kTcpSeq, seq);
  put16(tcp + kTcpCsum,
        static_cast<uint16_t>(~fold(tcp_sum_ + words_ip6(dst_ip) + src_port + dst_port + words32(seq))));
  return kLen;
}

// ---- parse_reply -----------------------------------------------------------------

std::optional<Reply> parse_reply(std::span<const std::byte> pkt) noexcept {
  if (pkt.empty()) {
    return std::nullopt;
  }
  Reply r;
  std::span<const std::byte> seg;
  const auto version = static_cast<unsigned>(pkt[0]) >> 4;
  if (version == 4) {
    if (pkt.size() < 20) {
      return std::nullopt;
    }
    const std::size_t hl = (static_cast<std::size_t>(pkt[0]) & 0x0f) * 4;
    if (hl < 20 || hl > pkt.size()) {
      return std::nullopt;
    }
    const std::size_t total = get16(pkt.data() + 2);
    if (total < hl || total > pkt.size()) {
      return std::nullopt;
    }
    // MF set or a non-zero offset: a fragment, whose TCP header may be elsewhere.
    if ((get16(pkt.data() + 6) & 0x3fffU) != 0 || static_cast<uint8_t>(pkt[9]) != kProtoTcp) {
      return std::nullopt;
    }
    if (fold(sum16(pkt.data(), hl)) != 0xffffU) {
      return std::nullopt;
    }
    std::memcpy(r.src.data(), pkt.data() + 12, 4);
    std::memcpy(r.dst.data(), pkt.data() + 16, 4);
    seg = pkt.subspan(hl, total - hl);
  } else if (version == 6) {
    if (pkt.size() < 40) {
      return std::nullopt;
    }
    const std::size_t payload = get16(pkt.data() + 4);
    // 0 would mean a jumbogram (RFC 2675), which needs a hop-by-hop header.
    if (payload == 0 || payload > pkt.size() - 40 || static_cast<uint8_t>(pkt[6]) != kProtoTcp) {
      return std::nullopt;
    }
    r.v6 = true;
    std::memcpy(r.src.data(), pkt.data() + 8, 16);
    std::memcpy(r.dst.data(), pkt.data() + 24, 16);
    seg = pkt.subspan(40, payload);
  } else {
    return std::nullopt;
  }

  if (seg.size() < kTcpMinLen) {
    return std::nullopt;
  }
  const std::size_t doff = (static_cast<std::size_t>(seg[kTcpOff]) >> 4) * 4;
  if (doff < kTcpMinLen || doff > seg.size()) {
    return std::nullopt;
  }
  r.sport = get16(seg.data() + kTcpSport);
  r.dport = get16(seg.data() + kTcpDport);
  r.seq = get32(seg.data() + kTcpSeq);
  r.ack = get32(seg.data() + kTcpAckNo);
  r.flags = static_cast<uint8_t>(seg[kTcpFlags]);
  return r;
}

}  // namespace linerate::scan
