// scan/udp_probe.hpp — the stateless core of the UDP scan, and the ICMP-error
// parser both raw scans share: UDP probe templates, the parser for what comes
// back (a UDP datagram, or an ICMP error quoting one of our probes), and the map
// from that evidence to a port state (spec lrscan §3). No sockets here; the
// engine's tx/rx loops call these.
//
// Why this shape (spec lrscan §4, STYLE.md §1 "Packets from templates"):
//  * UdpTemplate4 / UdpTemplate6 work like the SYN templates (syn_probe.hpp):
//    the constant header bytes and the one's-complement sums of the constant
//    words are computed once. A UDP probe also carries a payload chosen per
//    destination port, so every UdpPayload carries its own precomputed sum,
//    made when the payload table is loaded. Per probe, build() copies header and
//    payload and adds only the varying words: destination address, ports, the
//    length fields and the payload's sum. No pass over the payload is made
//    beyond the memcpy.
//  * parse_scan_event: one bounds-checked pass over untrusted capture bytes
//    starting at the IP header. An ICMP error carries our probe's IP header and
//    at least the first 8 bytes of its transport header (RFC 792; RFC 4443 §2.4
//    quotes as much as fits), which is enough to recover the probe's 4-tuple and,
//    for TCP, the SYN's sequence number, i.e. its cookie. Every read is checked
//    against the bytes present; the quoted packet may be cut short anywhere after
//    the ports, and only fields that are present are reported.
//  * verdict_for: spec §3's table from evidence to (state, reason), kept apart
//    from the parser so the engine decides when to apply it (for example not
//    before the cookie or the probe tuple has been checked).
//
// Byte order: every integer in this API is in host order; IPv4 addresses in
// ScanEvent sit in the first 4 bytes of an Ip6Bytes (network order, rest zero),
// as in syn_probe.hpp's Reply; IPv6 addresses are the 16 wire bytes.
//
// Invariants: every function here except UdpPayload::make is const or pure,
// noexcept and allocation-free (data plane); templates and payloads may be
// shared read-only by any threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "scan/ports.hpp"
#include "scan/result.hpp"
#include "scan/syn_probe.hpp"

namespace linerate::scan {

inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

/// Largest UDP probe payload. With a 48-byte IPv6 + UDP header a probe stays
/// below 1,500 bytes, so it never needs fragmenting on an Ethernet path.
inline constexpr std::size_t kMaxUdpPayload = 1400;

/// A probe payload with its one's-complement sum precomputed. Immutable once
/// made: size() <= kMaxUdpPayload and sum() always matches bytes().
class UdpPayload {
 public:
  /// The empty payload (sum 0).
  UdpPayload() = default;

  /// Copies `bytes` and sums them (control plane: allocates). nullopt when
  /// longer than kMaxUdpPayload.
  [[nodiscard]] static std::optional<UdpPayload> make(std::span<const std::byte> bytes);

  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }
  /// Sum of the payload's big-endian 16-bit words (an odd last byte padded with
  /// a zero byte, RFC 768), folded to 16 bits but not complemented. Valid at
  /// any even offset, which the payload always has (after the 8-byte UDP header).
  [[nodiscard]] uint16_t sum() const noexcept { return sum_; }

  friend bool operator==(const UdpPayload& a, const UdpPayload& b) { return a.bytes_ == b.bytes_; }

 private:
  std::vector<std::byte> bytes_;
  uint16_t sum_ = 0;
};

/// IPv4 + UDP probe template: 20-byte IP header (no options, DF clear) and an
/// 8-byte UDP header, followed by the payload.
class UdpTemplate4 {
 public:
  static constexpr std::size_t kIpLen = 20;
  static constexpr std::size_t kUdpLen = 8;
  static constexpr std::size_t kHeaderLen = kIpLen + kUdpLen;
  /// The largest probe build() can write; a buffer this big always suffices.
  static constexpr std::size_t kMaxLen = kHeaderLen + kMaxUdpPayload;

  /// Fixed fields: our source address (host order) and the IP TTL.
  explicit UdpTemplate4(uint32_t src_ip, uint8_t ttl = 64) noexcept;

  /// Writes one probe into out[0..kHeaderLen + payload.size()): the template
  /// with dst_ip, ports, lengths and ip_id patched in, the payload copied after
  /// the UDP header, the IP header checksum and the UDP checksum (RFC 768
  /// pseudo-header; a computed 0 is sent as 0xFFFF) finished incrementally.
  /// Returns the probe length, or 0 (nothing written) if out is too small.
  std::size_t build(std::span<std::byte> out, uint32_t dst_ip, uint16_t src_port, uint16_t dst_port,
                    const UdpPayload& payload, uint16_t ip_id) const noexcept;

  [[nodiscard]] uint32_t src_ip() const noexcept { return src_ip_; }

 private:
  std::array<std::byte, kHeaderLen> bytes_{};
  uint32_t src_ip_;
  uint32_t ip_sum_ = 0;   // IP header's constant words (length, id, dst, checksum still 0)
  uint32_t udp_sum_ = 0;  // pseudo-header's constant words: source address and protocol
};

/// IPv6 + UDP probe template: 40-byte IPv6 header (no extension headers, traffic
/// class and flow label 0) and an 8-byte UDP header, followed by the payload.
class UdpTemplate6 {
 public:
  static constexpr std::size_t kIpLen = 40;
  static constexpr std::size_t kUdpLen = 8;
  static constexpr std::size_t kHeaderLen = kIpLen + kUdpLen;
  static constexpr std::size_t kMaxLen = kHeaderLen + kMaxUdpPayload;

  explicit UdpTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit = 64) noexcept;

  /// As UdpTemplate4::build; IPv6 has no header checksum and no IP id. The UDP
  /// checksum covers the RFC 8200 §8.1 pseudo-header and is never 0 (§8.1
  /// forbids a zero UDP checksum over IPv6; a computed 0 is sent as 0xFFFF).
  std::size_t build(std::span<std::byte> out, const Ip6Bytes& dst_ip, uint16_t src_port, uint16_t dst_port,
                    const UdpPayload& payload) const noexcept;

  [[nodiscard]] const Ip6Bytes& src_ip() const noexcept { return src_ip_; }

 private:
  std::array<std::byte, kHeaderLen> bytes_{};
  Ip6Bytes src_ip_;
  uint32_t udp_sum_ = 0;  // pseudo-header's constant words: source address and next header
};

/// The probe an ICMP error quotes, as we sent it (src = our address).
struct QuotedProbe {
  uint8_t proto = 0;  // kIpProtoTcp or kIpProtoUdp
  Ip6Bytes src{};
  Ip6Bytes dst{};
  uint16_t sport = 0;
  uint16_t dport = 0;
  bool has_seq = false;  // TCP with at least 8 quoted transport bytes
  uint32_t seq = 0;      // the quoted TCP sequence number (our SYN cookie) when has_seq
};

/// One packet the UDP or SYN engine may care about, as parsed by parse_scan_event.
struct ScanEvent {
  enum class Kind : uint8_t {
    kUdp,               // a UDP datagram
    kIcmpUnreach,       // ICMPv4 type 3 / ICMPv6 type 1 (destination unreachable), any code
    kIcmpTimeExceeded,  // ICMPv4 type 11 / ICMPv6 type 3, any code
  };

  Kind kind = Kind::kUdp;
  bool v6 = false;
  // Outer IP header. kUdp: the datagram's source (the scanned host) and
  // destination (us). ICMP: src is the host or router that reported the error.
  Ip6Bytes src{};
  Ip6Bytes dst{};

  // kUdp only: the datagram's ports and where its payload sits in the packet
  // (pkt[payload_off .. payload_off + payload_len), inside the UDP length).
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint16_t payload_off = 0;
  uint16_t payload_len = 0;

  // ICMP only.
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  QuotedProbe quoted;

  /// The IPv4 probe this event answers: for kUdp the datagram reversed (its
  /// source is our probe's destination), for ICMP the quoted probe as sent.
  /// Meaningful only when !v6.
  [[nodiscard]] Tuple4 probe_tuple4() const noexcept;
  /// The IPv6 probe this event answers. Meaningful only when v6.
  [[nodiscard]] Tuple6 probe_tuple6() const noexcept;
  /// The protocol of the probe this event answers: UDP for kUdp, else quoted.proto.
  [[nodiscard]] Protocol probe_protocol() const noexcept {
    return kind == Kind::kUdp || quoted.proto == kIpProtoUdp ? Protocol::kUdp : Protocol::kTcp;
  }
};

/// Parses a captured packet that starts at the IP header (link layer already
/// stripped) into a ScanEvent.
///  * Outer IPv4: version 4, IHL >= 5, header checksum correct, total length
///    within the buffer (trailing bytes such as Ethernet padding are ignored),
///    not a fragment, protocol UDP or ICMP. Outer IPv6: version 6, payload
///    length non-zero and within the buffer, next header UDP or ICMPv6 directly
///    (extension headers are not walked: nullopt).
///  * UDP: the 8-byte header present, its length field >= 8 and within the IP
///    payload (bytes after it are ignored).
///  * ICMP: type destination-unreachable or time-exceeded with an 8-byte ICMP
///    header, then the quoted IP header of the same version as the outer one
///    (IPv4: IHL >= 5, not a non-first fragment; IPv6: next header directly
///    TCP or UDP), then at least the 4 bytes of the quoted ports. The quoted
///    TCP sequence number is reported only when its 4 bytes are present too.
///    Quoted lengths and checksums are not checked: the quote is truncated by
///    design and middleboxes rewrite it.
/// ICMP and UDP checksums are NOT verified (veth/loopback deliver partial
/// checksums; the probe tuple or cookie is what authenticates). Anything else,
/// of any length, gives nullopt; never reads outside `pkt`.
[[nodiscard]] std::optional<ScanEvent> parse_scan_event(std::span<const std::byte> pkt) noexcept;

/// A port state with the reason word that justifies it.
struct PortVerdict {
  PortState state = PortState::kFiltered;
  Reason reason = Reason::kNoResponse;
  friend bool operator==(const PortVerdict&, const PortVerdict&) = default;
};

/// Spec §3 for one destination-unreachable code, for a probe of `probe`:
///  * UDP probe: port unreachable (ICMPv4 code 3, ICMPv6 code 4) -> closed /
///    port-unreach; every other unreachable that says the datagram could not be
///    delivered -> filtered, with the nearest reason word.
///  * TCP probe: ICMPv4 codes 0, 1, 2, 3, 9, 10, 13 (and the equivalents below)
///    -> filtered (nmap lists 1, 2, 3, 9, 10, 13; code 0, network unreachable,
///    is the same kind of evidence and is filtered too, as net-unreach).
/// ICMPv4 codes (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1): 0/6/11 ->
/// net-unreach, 1/7/8/12 -> host-unreach, 2 -> proto-unreach, 3 -> port-unreach,
/// 9/10/13/14/15 -> admin-prohibited; 4 (fragmentation needed) and 5 (source
/// route failed) say nothing about the port: nullopt.
/// ICMPv6 codes (RFC 4443 §3.1): 0 (no route) and 2 (beyond scope) ->
/// net-unreach, 3 -> host-unreach, 4 -> port-unreach, 1/5/6 (prohibited,
/// failed policy, reject route) -> admin-prohibited; 7 and unknown: nullopt.
[[nodiscard]] std::optional<PortVerdict> unreach_verdict(bool v6, uint8_t code, Protocol probe) noexcept;

/// The verdict an event carries for the probe it answers (see probe_tuple*()):
/// kUdp -> open / udp-response; kIcmpUnreach -> unreach_verdict(); time
/// exceeded -> nullopt (the probe died in transit: no evidence about the port,
/// the engine keeps retrying). The caller must first check that the event
/// answers one of its probes.
[[nodiscard]] std::optional<PortVerdict> verdict_for(const ScanEvent& e) noexcept;

}  // namespace linerate::scan
