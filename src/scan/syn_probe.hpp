// scan/syn_probe.hpp — the stateless core of the SYN scan: cookies, probe
// templates and the reply parser. No sockets here; the tx/rx loops call these.
//
// Why this shape (spec lrscan §6, STYLE.md §1 "Stateless scanning" and "Packets
// from templates"):
//  * SynCookie: the probe's TCP sequence number is the low 32 bits of
//    SipHash-2-4(key, 4-tuple). A SYN-ACK or RST answering that probe carries
//    ack = seq + 1, so the receive side recognises its own replies by
//    recomputing the hash; nothing is stored per probe and memory does not grow
//    with the scan. Without the key a third party cannot forge a valid reply
//    except by guessing 32 bits.
//  * SynTemplate4 / SynTemplate6: every byte of a probe that does not vary (IP
//    version, TTL, source address, TCP flags, window, MSS option, ...) is written
//    once at start-up, together with the one's-complement sums of those constant
//    bytes. Per probe, build() copies the template, stores the varying fields and
//    finishes the checksums incrementally: RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'),
//    where every varying field m is 0 in the template (so ~m is -0 and drops out)
//    and ~HC is the precomputed partial sum. That is a handful of 16-bit adds
//    instead of a pass over the header and pseudo-header.
//  * parse_reply: one bounds-checked pass over untrusted capture bytes starting at
//    the IP header; anything malformed is nullopt, never an assert.
//  * ACK probes (host discovery -PA, scan/discovery_probe.hpp): the same templates
//    built with flags kTcpAck. The cookie then goes in the acknowledgment number
//    (build()'s `ack`); by convention seq carries the cookie too. A host answers a
//    bare ACK, whether the port is listening or closed, with <SEQ=SEG.ACK><CTL=RST>
//    (RFC 9293 §3.10.7.1 CLOSED, §3.10.7.2 LISTEN): a RST without the ACK bit
//    whose *sequence* number is our cookie, which SynCookie::valid_ack_rst checks.
//
// Byte order: every integer in this API (addresses in Tuple4, ports, sequence
// numbers) is in host order; IPv6 addresses are the 16 wire bytes.
//
// Invariants: every function here is const or pure, noexcept and allocation-free
// (data plane); a SynCookie or template may be shared read-only by any threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "scan/siphash.hpp"

namespace linerate::scan {

// TCP flag bits (RFC 9293 §3.1, byte 13 of the TCP header).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

using Ip6Bytes = std::array<uint8_t, 16>;

/// An IPv4 probe's 4-tuple as sent (src = our address), host byte order.
struct Tuple4 {
  uint32_t src_ip = 0;
  uint32_t dst_ip = 0;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

/// An IPv6 probe's 4-tuple as sent (src = our address); addresses as wire bytes.
struct Tuple6 {
  Ip6Bytes src_ip{};
  Ip6Bytes dst_ip{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
};

/// One TCP segment as parsed from a captured IPv4 or IPv6 packet. For IPv4 the
/// addresses sit in src[0..3] / dst[0..3] (network order) and the rest is zero.
struct Reply {
  bool v6 = false;
  Ip6Bytes src{};
  Ip6Bytes dst{};
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t flags = 0;  // kTcp* bits (CWR/ECE included as received)
  uint32_t seq = 0;
  uint32_t ack = 0;

  /// The IPv4 probe this reply would answer: its source is our probe's
  /// destination. Meaningful only when !v6.
  [[nodiscard]] Tuple4 probe_tuple4() const noexcept;
  /// The IPv6 probe this reply would answer. Meaningful only when v6.
  [[nodiscard]] Tuple6 probe_tuple6() const noexcept;
};

/// What a reply means for the probe it answers.
enum class ReplyKind : uint8_t {
  kNone,    // not ours: wrong flags or wrong cookie
  kSynAck,  // SYN+ACK acknowledging our cookie: port open
  kRst,     // RST+ACK acknowledging our cookie: port closed
};

/// The keyed sequence-number cookie. Cheap to copy; the key is chosen once per
/// scan (random, or derived from --seed so a resumed scan recognises late replies).
class SynCookie {
 public:
  explicit SynCookie(SipKey key) noexcept : key_(key) {}

  /// Low 32 bits of SipHash-2-4 over src_ip, dst_ip (4 bytes each, network
  /// order), src_port, dst_port (2 bytes each, network order): 12 bytes.
  [[nodiscard]] uint32_t cookie(const Tuple4& t) const noexcept;
  /// Same over the 16-byte addresses and the ports: 36 bytes. The message
  /// lengths differ, so an IPv4 and an IPv6 tuple never share a hash input.
  [[nodiscard]] uint32_t cookie(const Tuple6& t) const noexcept;

  /// A SYN-ACK answers the probe `t` (as sent) when it acknowledges the SYN's
  /// one sequence number: ack == cookie(t) + 1 (mod 2^32).
  [[nodiscard]] bool valid_synack(uint32_t ack_number, const Tuple4& t) const noexcept {
    return ack_number == cookie(t) + 1U;
  }
  [[nodiscard]] bool valid_synack(uint32_t ack_number, const Tuple6& t) const noexcept {
    return ack_number == cookie(t) + 1U;
  }
  /// A RST answering a SYN carries ACK = SEG.SEQ + SEG.LEN = cookie + 1 too
  /// (RFC 9293 §3.10.7.1, segment arriving on a CLOSED port).
  [[nodiscard]] bool valid_rst(uint32_t ack_number, const Tuple4& t) const noexcept {
    return ack_number == cookie(t) + 1U;
  }
  [[nodiscard]] bool valid_rst(uint32_t ack_number, const Tuple6& t) const noexcept {
    return ack_number == cookie(t) + 1U;
  }

  /// A RST answering an ACK probe (flags kTcpAck, ack = cookie(t)) takes its
  /// sequence number from our acknowledgment number and has no ACK bit
  /// (RFC 9293 §3.10.7.1): seq_number == cookie(t). classify() does not report
  /// these (it only knows SYN probes); scan/discovery_probe.hpp does.
  [[nodiscard]] bool valid_ack_rst(uint32_t seq_number, const Tuple4& t) const noexcept {
    return seq_number == cookie(t);
  }
  [[nodiscard]] bool valid_ack_rst(uint32_t seq_number, const Tuple6& t) const noexcept {
    return seq_number == cookie(t);
  }

  /// Flags plus cookie in one call, for the receive loop: kSynAck for SYN+ACK
  /// (no RST) with a valid ack, kRst for RST with the ACK bit and a valid ack,
  /// otherwise kNone.
  [[nodiscard]] ReplyKind classify(const Reply& r) const noexcept;

 private:
  SipKey key_;
};

/// IPv4 + TCP SYN probe template: 20-byte IP header (no options, DF clear) and a
/// 24-byte TCP header whose only option is MSS. 44 bytes in total. With flags
/// lacking kTcpSyn (an ACK probe) the MSS option, which is only allowed on a SYN
/// (RFC 9293 §3.7.1), is replaced by four NOPs so the length stays kLen.
class SynTemplate4 {
 public:
  static constexpr std::size_t kIpLen = 20;
  static constexpr std::size_t kTcpLen = 24;
  static constexpr std::size_t kLen = kIpLen + kTcpLen;

  /// Fixed fields: our source address (host order), IP TTL, TCP window, the
  /// MSS option value (used only when flags has kTcpSyn) and the TCP flags byte
  /// (kTcpSyn for -sS/-PS, kTcpAck for -PA). Computes the template bytes and
  /// partial sums (control plane; cheap).
  explicit SynTemplate4(uint32_t src_ip, uint8_t ttl = 64, uint16_t window = 1024, uint16_t mss = 1460,
                        uint8_t flags = kTcpSyn) noexcept;

  /// Writes one complete probe into out[0..kLen): the template with dst_ip,
  /// src_port, dst_port, seq, ip_id and ack patched in and both checksums
  /// finished incrementally. `ack` is the acknowledgment number: leave it 0 for a
  /// SYN, pass the cookie for an ACK probe. Returns kLen, or 0 (nothing written)
  /// if out is too small.
  std::size_t build(std::span<std::byte> out, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port, uint32_t seq,
                    uint16_t ip_id, uint32_t ack = 0) const noexcept;

  [[nodiscard]] uint32_t src_ip() const noexcept { return src_ip_; }

 private:
  std::array<std::byte, kLen> bytes_{};
  uint32_t src_ip_;
  uint32_t ip_sum_ = 0;   // sum of the IP header's constant 16-bit words
  uint32_t tcp_sum_ = 0;  // sum of the constant words of pseudo-header + TCP header
};

/// IPv6 + TCP SYN probe template: 40-byte IPv6 header (no extension headers,
/// traffic class and flow label 0) and the same 24-byte TCP header. 64 bytes.
/// Flags as for SynTemplate4.
class SynTemplate6 {
 public:
  static constexpr std::size_t kIpLen = 40;
  static constexpr std::size_t kTcpLen = 24;
  static constexpr std::size_t kLen = kIpLen + kTcpLen;

  explicit SynTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit = 64, uint16_t window = 1024, uint16_t mss = 1440,
                        uint8_t flags = kTcpSyn) noexcept;

  /// As SynTemplate4::build; IPv6 has no header checksum and no IP id. The TCP
  /// checksum covers the RFC 8200 §8.1 pseudo-header.
  std::size_t build(std::span<std::byte> out, const Ip6Bytes& dst_ip, uint16_t src_port, uint16_t dst_port,
                    uint32_t seq, uint32_t ack = 0) const noexcept;

  [[nodiscard]] const Ip6Bytes& src_ip() const noexcept { return src_ip_; }

 private:
  std::array<std::byte, kLen> bytes_{};
  Ip6Bytes src_ip_;
  uint32_t tcp_sum_ = 0;
};

/// Parses a captured packet that starts at the IP header (link layer already
/// stripped) into its TCP fields. IPv4: version 4, IHL >= 5, header checksum
/// correct, total length within the buffer (bytes after it, e.g. Ethernet
/// padding, are ignored), not a fragment, protocol TCP. IPv6: version 6,
/// payload length within the buffer and non-zero, next header TCP directly
/// (extension headers are not walked: such replies are not ours). TCP: data
/// offset >= 5 and within the segment. The TCP checksum is NOT verified: replies
/// on veth/loopback may carry partial checksums, and the cookie authenticates.
/// Anything else, of any length, gives nullopt; never reads outside `pkt`.
[[nodiscard]] std::optional<Reply> parse_reply(std::span<const std::byte> pkt) noexcept;

}  // namespace linerate::scan
