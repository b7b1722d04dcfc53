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

#include "scan/detail/packet.hpp"
#include "scan/siphash.hpp"

namespace linerate::scan {

namespace {

using namespace detail;  // byte order, checksum sums, IP header helpers

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

// The constant part of the TCP header both templates share: ack 0 (filled per
// probe), data offset 6 words, flags, window, checksum 0 (filled per probe),
// urgent 0, and the MSS option on a SYN or four NOPs (kind 1) otherwise.
void write_tcp_template(std::byte* tcp, uint16_t window, uint16_t mss, uint8_t flags) noexcept {
  tcp[kTcpOff] = std::byte{(SynTemplate4::kTcpLen / 4) << 4};
  tcp[kTcpFlags] = std::byte{flags};
  put16(tcp + kTcpWindow, window);
  if ((flags & kTcpSyn) != 0) {
    tcp[kTcpOpts] = std::byte{2};      // kind: MSS
    tcp[kTcpOpts + 1] = std::byte{4};  // length
    put16(tcp + kTcpOpts + 2, mss);
  } else {
    for (std::size_t i = 0; i < 4; ++i) {
      tcp[kTcpOpts + i] = std::byte{1};  // NOP
    }
  }
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

Tuple4 Reply::probe_tuple4() const noexcept { return Tuple4{ip4_of(dst), ip4_of(src), dport, sport}; }

Tuple6 Reply::probe_tuple6() const noexcept { return Tuple6{dst, src, dport, sport}; }

// ---- SynTemplate4 ----------------------------------------------------------------

SynTemplate4::SynTemplate4(uint32_t src_ip, uint8_t ttl, uint16_t window, uint16_t mss, uint8_t flags) noexcept
    : src_ip_(src_ip) {
  std::byte* ip = bytes_.data();
  write_ip4_header(ip, kLen, ttl, kProtoTcp, src_ip);
  std::byte* tcp = ip + kIpLen;
  write_tcp_template(tcp, window, mss, flags);

  // Varying fields (id, checksum, dst; ports, seq, ack, checksum) are still zero, so
  // these are the sums of the constant words only.
  ip_sum_ = sum16(ip, kIpLen);
  tcp_sum_ = words32(src_ip) + kProtoTcp + static_cast<uint32_t>(kTcpLen) + sum16(tcp, kTcpLen);
}

std::size_t SynTemplate4::build(std::span<std::byte> out, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                                uint32_t seq, uint16_t ip_id, uint32_t ack) const noexcept {
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
  put32(tcp + kTcpAckNo, ack);

  // RFC 1624 eqn. 3 with every template value m = 0: the new words are simply
  // added to the precomputed sums (at most 2^16 * 10 extra, no overflow).
  const uint32_t dst_words = words32(dst_ip);
  put16(ip + 10, static_cast<uint16_t>(~fold(ip_sum_ + ip_id + dst_words)));
  put16(tcp + kTcpCsum,
        static_cast<uint16_t>(~fold(tcp_sum_ + dst_words + src_port + dst_port + words32(seq) + words32(ack))));
  return kLen;
}

// ---- SynTemplate6 ----------------------------------------------------------------

SynTemplate6::SynTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit, uint16_t window, uint16_t mss,
                           uint8_t flags) noexcept
    : src_ip_(src_ip) {
  std::byte* ip = bytes_.data();
  write_ip6_header(ip, kTcpLen, kProtoTcp, hop_limit, src_ip);
  std::byte* tcp = ip + kIpLen;
  write_tcp_template(tcp, window, mss, flags);
  // Pseudo-header: src, dst (per probe), 32-bit upper-layer length, 24 zero bits
  // and the next header.
  tcp_sum_ = words_ip6(src_ip) + static_cast<uint32_t>(kTcpLen) + kProtoTcp + sum16(tcp, kTcpLen);
}

std::size_t SynTemplate6::build(std::span<std::byte> out, const Ip6Bytes& dst_ip, uint16_t src_port, uint16_t dst_port,
                                uint32_t seq, uint32_t ack) const noexcept {
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
  put32(tcp + kTcpAckNo, ack);
  put16(tcp + kTcpCsum,
        static_cast<uint16_t>(~fold(tcp_sum_ + words_ip6(dst_ip) + src_port + dst_port + words32(seq) + words32(ack))));
  return kLen;
}

// ---- parse_reply -----------------------------------------------------------------

std::optional<Reply> parse_reply(std::span<const std::byte> pkt) noexcept {
  const auto outer = parse_outer(pkt);
  if (!outer || outer->proto != kProtoTcp) {
    return std::nullopt;
  }
  const std::span<const std::byte> seg = outer->l4;
  if (seg.size() < kTcpMinLen) {
    return std::nullopt;
  }
  const std::size_t doff = (static_cast<std::size_t>(seg[kTcpOff]) >> 4) * 4;
  if (doff < kTcpMinLen || doff > seg.size()) {
    return std::nullopt;
  }
  // One initializer, so the compiler builds the Reply in place instead of
  // piecewise on the stack and copying it (a store-forwarding stall per reply).
  return Reply{.v6 = outer->v6,
               .src = outer->src(),
               .dst = outer->dst(),
               .sport = get16(seg.data() + kTcpSport),
               .dport = get16(seg.data() + kTcpDport),
               .flags = static_cast<uint8_t>(seg[kTcpFlags]),
               .seq = get32(seg.data() + kTcpSeq),
               .ack = get32(seg.data() + kTcpAckNo)};
}

}  // namespace linerate::scan
