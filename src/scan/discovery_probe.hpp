// scan/discovery_probe.hpp — the packets of host discovery (spec lrscan §2:
// -PE -PP -PS -PA -PR, and their IPv6 forms): probe templates, the keyed cookies
// that let the receive side recognise answers without state, and one parser for
// every IP-level answer. No sockets here; the engine (raw_io/raw_scan) calls these.
//
// What each probe is and how its answer is recognised:
//  * -PE ICMP echo (RFC 792 type 8 → 0), -PP ICMP timestamp (type 13 → 14) and
//    ICMPv6 echo (RFC 4443 type 128 → 129): the 16-bit identifier and sequence
//    number, which every answer copies back, carry a 32-bit keyed cookie
//    (identifier = high half, sequence = low half). DiscoveryCookie computes it as
//    the low 32 bits of SipHash-2-4 over (probe tag, our address, target
//    address). The tag keeps echo, timestamp and echo6 cookies distinct, and the
//    messages (9 and 33 bytes) never have the length of a SynCookie input (12 and
//    36 bytes), so one scan key may serve both classes safely.
//  * -PS/-PA TCP probes are SynTemplate4/6 from scan/syn_probe.hpp (flags kTcpSyn
//    or kTcpAck) with SynCookie cookies under the same key; their answers (SYN-ACK,
//    RST+ACK, or the bare RST that answers an ACK) come through
//    parse_discovery_reply too and DiscoveryCookie::valid checks them.
//  * -PR ARP (RFC 826) who-has and IPv6 Neighbor Solicitation (RFC 4861 §4.3)
//    carry nothing the answer echoes except the asked-for address, so they have
//    no cookie: the caller checks the answering address against its targets. A
//    Neighbor Advertisement must arrive with hop limit 255 (RFC 4861 §7.1.2), which
//    no off-link sender can forge; an ARP reply is link-local by nature.
//
// Templates follow syn_probe.hpp: constant bytes and the one's-complement sums of
// the constant 16-bit words are computed once; build() copies, patches the
// varying fields and adds their words to the sums (RFC 1624 eqn. 3 with every
// template value m = 0), so no pass over the packet is made per probe.
//
// Byte order: integers in this API (IPv4 addresses, cookies, timestamps) are host
// order; IPv6 addresses are the 16 wire bytes, MAC addresses the 6 wire bytes.
// IP-level packets (built and parsed) start at the IP header, as on an AF_PACKET
// SOCK_DGRAM socket; ARP frames start at the Ethernet header (SOCK_RAW), and
// parse_arp_reply also takes a bare ARP packet (SOCK_DGRAM).
//
// Invariants: every function is const or pure, noexcept and allocation-free (data
// plane); parsers read only inside their span and return nullopt on anything
// malformed. Templates and cookies may be shared read-only by any threads.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "scan/siphash.hpp"
#include "scan/syn_probe.hpp"

namespace linerate::scan {

using MacBytes = std::array<uint8_t, 6>;

// ICMP (RFC 792) and ICMPv6 (RFC 4443 §4, RFC 4861 §4) message types used here.
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimestampRequest = 13;
inline constexpr uint8_t kIcmpTimestampReply = 14;
inline constexpr uint8_t kIcmp6EchoRequest = 128;
inline constexpr uint8_t kIcmp6EchoReply = 129;
inline constexpr uint8_t kIcmp6NeighborSolicit = 135;
inline constexpr uint8_t kIcmp6NeighborAdvert = 136;

/// Neighbor Advertisement flag bits (RFC 4861 §4.4) as they sit in the first
/// byte after the ICMPv6 checksum.
inline constexpr uint8_t kNaRouter = 0x80;
inline constexpr uint8_t kNaSolicited = 0x40;
inline constexpr uint8_t kNaOverride = 0x20;

/// What an IP-level discovery answer is.
enum class DiscoveryKind : uint8_t {
  kEchoReply4,       // ICMP type 0 code 0 (answers -PE)
  kTimestampReply4,  // ICMP type 14 code 0 (answers -PP)
  kEchoReply6,       // ICMPv6 type 129 code 0 (answers -PE over IPv6)
  kNeighborAdvert,   // ICMPv6 type 136 (answers a Neighbor Solicitation, -PR over IPv6)
  kTcpSynAck,        // SYN+ACK without RST (answers -PS; an open port)
  kTcpReset,         // RST (answers -PS with ACK bit, or -PA without)
};

/// One answer as parsed by parse_discovery_reply. Addresses as in Reply: for
/// IPv4 in src[0..3] / dst[0..3] (wire order), the rest zero.
struct DiscoveryReply {
  DiscoveryKind kind = DiscoveryKind::kEchoReply4;
  bool v6 = false;
  Ip6Bytes src{};  // the answering host
  Ip6Bytes dst{};  // the address it answered (our probe's source)
  /// ICMP echo/timestamp kinds: (identifier << 16) | sequence, i.e. the cookie
  /// the probe carried if it is ours.
  uint32_t cookie = 0;
  /// TCP kinds: the segment exactly as parse_reply returned it.
  Reply tcp{};
  /// kNeighborAdvert: the Target Address field (the address being resolved; it
  /// may differ from src for a proxy), the target link-layer address option's MAC
  /// when one of Ethernet length was present, and the R/S/O flag bits (kNa*).
  Ip6Bytes target{};
  MacBytes mac{};
  bool has_mac = false;
  uint8_t na_flags = 0;

  /// src as a host-order IPv4 address; meaningful only when !v6.
  [[nodiscard]] uint32_t src_ip4() const noexcept;
  /// dst as a host-order IPv4 address; meaningful only when !v6.
  [[nodiscard]] uint32_t dst_ip4() const noexcept;
};

/// Keyed cookies for the ICMP probes, and validation of every cookie-bearing
/// answer. Cheap to copy; use the scan's one SipKey (the same as SynCookie's).
class DiscoveryCookie {
 public:
  explicit DiscoveryCookie(SipKey key) noexcept : key_(key), syn_(key) {}

  /// Cookie of an ICMP echo request from src_ip to dst_ip (host order): low 32
  /// bits of SipHash-2-4 over [0x01, src (4 bytes BE), dst (4 bytes BE)].
  [[nodiscard]] uint32_t echo4(uint32_t src_ip, uint32_t dst_ip) const noexcept;
  /// Same for an ICMP timestamp request: tag 0x02.
  [[nodiscard]] uint32_t timestamp4(uint32_t src_ip, uint32_t dst_ip) const noexcept;
  /// Same for an ICMPv6 echo request: [0x03, src (16 bytes), dst (16 bytes)].
  [[nodiscard]] uint32_t echo6(const Ip6Bytes& src_ip, const Ip6Bytes& dst_ip) const noexcept;

  /// The SynCookie under the same key, for building -PS/-PA probes.
  [[nodiscard]] const SynCookie& syn() const noexcept { return syn_; }

  /// True when `r` answers a probe of ours sent from r.dst to r.src:
  ///  * ICMP kinds: r.cookie equals the cookie of that probe's kind;
  ///  * kTcpSynAck: SYN-ACK acknowledging a SYN probe (ack == cookie + 1);
  ///  * kTcpReset: either RST+ACK answering a SYN probe (ack == cookie + 1) or a
  ///    RST answering an ACK probe (seq == cookie, RFC 9293 §3.10.7.1), where
  ///    cookie = syn().cookie(r.tcp.probe_tuple4/6()); the ACK probe must carry
  ///    ack = that cookie (see syn_probe.hpp);
  ///  * kNeighborAdvert: always false — an NA carries no cookie; the caller
  ///    checks r.target against the addresses it solicited.
  [[nodiscard]] bool valid(const DiscoveryReply& r) const noexcept;

 private:
  SipKey key_;
  SynCookie syn_;
};

/// IPv4 ICMP echo and timestamp request templates: 20-byte IP header (no
/// options, DF clear, protocol 1) and an 8-byte echo request without data
/// (28 bytes) or a 20-byte timestamp request (40 bytes). The identifier and
/// sequence number carry the cookie (identifier = cookie >> 16).
class IcmpTemplate4 {
 public:
  static constexpr std::size_t kIpLen = 20;
  static constexpr std::size_t kEchoLen = kIpLen + 8;
  static constexpr std::size_t kTimestampLen = kIpLen + 20;

  /// Our source address (host order) and the IP TTL. Control plane; cheap.
  explicit IcmpTemplate4(uint32_t src_ip, uint8_t ttl = 64) noexcept;

  /// Writes an echo request to dst_ip (host order) carrying `cookie` (from
  /// DiscoveryCookie::echo4) with IP id ip_id, both checksums finished
  /// incrementally. Returns kEchoLen, or 0 (nothing written) if out is too small.
  std::size_t build_echo(std::span<std::byte> out, uint32_t dst_ip, uint32_t cookie, uint16_t ip_id) const noexcept;

  /// Writes a timestamp request carrying `cookie` (DiscoveryCookie::timestamp4);
  /// originate_ms is the Originate Timestamp (RFC 792: ms since midnight UT;
  /// any value is accepted, the answer copies it back), receive and transmit are
  /// 0. Returns kTimestampLen, or 0 if out is too small.
  std::size_t build_timestamp(std::span<std::byte> out, uint32_t dst_ip, uint32_t cookie, uint16_t ip_id,
                              uint32_t originate_ms = 0) const noexcept;

  [[nodiscard]] uint32_t src_ip() const noexcept { return src_ip_; }

 private:
  std::array<std::byte, kEchoLen> echo_{};
  std::array<std::byte, kTimestampLen> ts_{};
  uint32_t src_ip_;
  uint32_t echo_ip_sum_ = 0;    // constant words of the echo's IP header
  uint32_t echo_icmp_sum_ = 0;  // constant words of the echo's ICMP message
  uint32_t ts_ip_sum_ = 0;
  uint32_t ts_icmp_sum_ = 0;
};

/// IPv6 ICMPv6 echo request template: 40-byte IPv6 header (next header 58,
/// traffic class and flow label 0) and an 8-byte echo request without data.
class IcmpTemplate6 {
 public:
  static constexpr std::size_t kIpLen = 40;
  static constexpr std::size_t kEchoLen = kIpLen + 8;

  explicit IcmpTemplate6(const Ip6Bytes& src_ip, uint8_t hop_limit = 64) noexcept;

  /// Writes an echo request to dst_ip carrying `cookie` (DiscoveryCookie::echo6);
  /// the checksum covers the RFC 8200 §8.1 pseudo-header (RFC 4443 §2.3).
  /// Returns kEchoLen, or 0 if out is too small.
  std::size_t build_echo(std::span<std::byte> out, const Ip6Bytes& dst_ip, uint32_t cookie) const noexcept;

  [[nodiscard]] const Ip6Bytes& src_ip() const noexcept { return src_ip_; }

 private:
  std::array<std::byte, kEchoLen> bytes_{};
  Ip6Bytes src_ip_;
  uint32_t icmp_sum_ = 0;  // constant words of pseudo-header + ICMPv6 message
};

/// The solicited-node multicast address of `addr` (RFC 4291 §2.7.1):
/// ff02::1:ff00:0/104 with the low 24 bits of addr.
[[nodiscard]] Ip6Bytes solicited_node_address(const Ip6Bytes& addr) noexcept;

/// The Ethernet multicast MAC an IPv6 multicast group maps to (RFC 2464 §7):
/// 33:33 followed by the group's last four bytes. For a Neighbor Solicitation
/// this is the link-layer destination (sll_addr on a SOCK_DGRAM send).
[[nodiscard]] MacBytes ipv6_multicast_mac(const Ip6Bytes& group) noexcept;

/// IPv6 Neighbor Solicitation template (RFC 4861 §4.3, §7.2.2): IPv6 header
/// (hop limit 255, next header 58, destination the target's solicited-node
/// address) and a 32-byte ICMPv6 message: type 135, code 0, reserved, target
/// address, and a source link-layer address option (type 1, length 1, our MAC).
/// 72 bytes; the engine sends it to ipv6_multicast_mac(solicited_node_address(t)).
class NeighborSolicitTemplate {
 public:
  static constexpr std::size_t kIpLen = 40;
  static constexpr std::size_t kIcmpLen = 32;
  static constexpr std::size_t kLen = kIpLen + kIcmpLen;

  /// src_ip must be an address of the sending interface (link-local or one in
  /// the target's prefix): the advertisement is sent back to it.
  NeighborSolicitTemplate(const Ip6Bytes& src_ip, const MacBytes& src_mac) noexcept;

  /// Writes the solicitation for `target`. Returns kLen, or 0 if out is too small.
  std::size_t build(std::span<std::byte> out, const Ip6Bytes& target) const noexcept;

 private:
  std::array<std::byte, kLen> bytes_{};
  uint32_t icmp_sum_ = 0;  // constant words of pseudo-header + ICMPv6 message
};

/// Ethernet + ARP who-has request template (RFC 826; Ethernet II framing): dst
/// ff:ff:ff:ff:ff:ff, src our MAC, ethertype 0x0806; hardware type 1, protocol
/// 0x0800, lengths 6/4, opcode 1 (request), sender = (our MAC, our IP), target =
/// (00:00:00:00:00:00, target IP). 42 bytes: the NIC or driver pads the frame to
/// the 60-byte minimum. For a SOCK_RAW AF_PACKET socket.
class ArpRequestTemplate {
 public:
  static constexpr std::size_t kEthLen = 14;
  static constexpr std::size_t kArpLen = 28;
  static constexpr std::size_t kLen = kEthLen + kArpLen;

  /// Our MAC and IPv4 address (host order).
  ArpRequestTemplate(const MacBytes& src_mac, uint32_t src_ip) noexcept;

  /// Writes the who-has frame for target_ip (host order). Returns kLen, or 0 if
  /// out is too small.
  std::size_t build(std::span<std::byte> out, uint32_t target_ip) const noexcept;

 private:
  std::array<std::byte, kLen> bytes_{};
};

/// An ARP reply's two address pairs (IPv4 addresses host order).
struct ArpReply {
  uint32_t sender_ip = 0;  // the host that answered
  MacBytes sender_mac{};   // ... and its MAC
  uint32_t target_ip = 0;  // whom it answered: our IP if it answers our request
  MacBytes target_mac{};
};

/// Parses an Ethernet frame (from the destination MAC on, as on AF_PACKET
/// SOCK_RAW; at most one 802.1Q tag) holding an ARP reply. Requires ethertype
/// 0x0806 and then what parse_arp_reply requires. Trailing bytes (padding, FCS)
/// are ignored. nullopt on anything else; never reads outside `frame`.
[[nodiscard]] std::optional<ArpReply> parse_arp_reply_frame(std::span<const std::byte> frame) noexcept;

/// Parses an ARP packet without link header (as on AF_PACKET SOCK_DGRAM):
/// hardware type 1 (Ethernet), protocol 0x0800, lengths 6 and 4, opcode 2
/// (reply), and a sender MAC that is a unicast, non-zero address (a reply from
/// a group or zero address cannot come from a host's interface). Trailing bytes
/// are ignored. The caller checks target_ip is ours and sender_ip a target.
[[nodiscard]] std::optional<ArpReply> parse_arp_reply(std::span<const std::byte> arp) noexcept;

/// Parses a captured packet that starts at the IP header into a discovery
/// answer. IP checks are those of parse_reply (IPv4: version, IHL >= 5, header
/// checksum, total length within the buffer, not a fragment; IPv6: payload
/// length within the buffer and non-zero, extension headers not walked).
///  * IPv4 protocol 1: type 0 code 0 with >= 8 bytes, or type 14 code 0 with
///    >= 20 bytes; ICMP checksum over the message must be correct.
///  * IPv6 next header 58 (checksum over the pseudo-header must be correct):
///    type 129 code 0 with >= 8 bytes; or type 136 (RFC 4861 §7.1.2): hop limit
///    255, code 0, >= 24 bytes, target not multicast, Solicited flag clear if
///    the destination is multicast, every option of non-zero length and inside
///    the message; a target link-layer option of length 1 gives the MAC.
///  * TCP (either family): parse_reply, then SYN+ACK without RST → kTcpSynAck,
///    any segment with RST → kTcpReset; other flag combinations are nullopt.
/// Unlike TCP (veth may hand over partial checksums), ICMP checksums are always
/// complete on the wire, so they are verified. Bytes after the IP length are
/// ignored. nullopt on anything else; never reads outside `ip_packet`.
[[nodiscard]] std::optional<DiscoveryReply> parse_discovery_reply(std::span<const std::byte> ip_packet) noexcept;

}  // namespace linerate::scan
