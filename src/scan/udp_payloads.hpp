// scan/udp_payloads.hpp — which bytes a UDP probe carries, per destination port.
//
// Why payloads: most UDP services ignore an empty datagram, so an empty probe
// can only ever prove a port closed (ICMP port unreachable) and never open. A
// well-formed request in the service's own protocol makes it answer, which is
// the only way to find UDP services against a target that rate-limits its ICMP
// errors (spec lrscan §3, §7: "every UDP service that answers its payload found").
//
// Where they come from (spec §4: nmap data is read at run time, never copied):
//  * builtin(): our own requests, written by the linerate authors from the
//    protocol RFCs (see udp_payloads.cpp for each one's layout and source):
//    echo 7, DNS 53, NTP 123, NetBIOS-NS 137, SNMP 161, SSDP 1900, mDNS 5353.
//  * parse_nmap_payloads(): nmap's `nmap-payloads` file (Debian nmap-common,
//    /usr/share/nmap/nmap-payloads) when the user has it installed.
//  * load_default() merges them: **our builtin payload wins on the ports it
//    covers; nmap's file only fills ports we have none for.** Ours are the ones
//    our tests decode and check; nmap's add breadth.
// Every other port gets the generic empty payload.
//
// nmap-payloads grammar, as we accept it:
//   `#` starts a comment that runs to the end of the line (outside strings).
//   An entry is `udp PORTLIST STRING...`: PORTLIST is comma-separated ports and
//   inclusive ranges `a-b` without spaces (`53,69,32768-65535`); each STRING is
//   double-quoted with C escapes (\\ \" \' \? \a \b \f \n \r \t \v, \xHH with
//   two hex digits, octal \0..\377) and the strings are concatenated. The parts
//   may be spread over several lines, with comments between them.
//   After the strings, keywords may follow, each with its data on its own line:
//   `source PORT` (a wished-for source port; nmap does not honour it and nor do
//   we, but the port must be valid) and, for future keywords, any other word,
//   whose line is skipped.
//   One payload per port: when several entries name a port, the first wins (nmap
//   sends all of them; a stateless scan sends one probe per port and try).
//   The protocol word is matched case-insensitively; only "udp" exists.
// Limits against hostile files: the text at most kMaxFileBytes, at most
// kMaxEntries entries and kMaxRanges port-list items, each payload at most
// kMaxUdpPayload bytes. Work is O(n log n) in the text, never in the number of
// ports the ranges cover.
//
// Errors: one line naming the line number and what was wrong, e.g.
//   nmap-payloads line 12: unknown escape '\q'
// Nothing asserts on input.
//
// Thread-safety: a UdpPayloads is immutable after construction apart from
// assignment; const use from any number of threads is safe. builtin() and
// load_default() build their tables once (thread-safe statics).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "scan/ports.hpp"
#include "scan/udp_probe.hpp"

namespace linerate::scan {

/// The UDP payload table: one payload per port, the empty payload by default.
/// Held as sorted, disjoint port ranges, each naming one stored payload (a file
/// entry for `32768-65535` is one range, not 32768 slots); for_port() is a
/// binary search over them (nmap's file gives about 100 ranges: ~7 steps).
class UdpPayloads {
 public:
  static constexpr std::string_view kNmapPayloadsPath = "/usr/share/nmap/nmap-payloads";
  static constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;  // nmap's file is ~21 KB
  static constexpr std::size_t kMaxEntries = 4096;                    // nmap's file has ~100
  static constexpr std::size_t kMaxRanges = 65536;                    // port-list items in all

  /// A table with no specific payload: every port gets the empty payload.
  UdpPayloads();

  /// Our own payloads (see the file comment). Built once per process.
  static const UdpPayloads& builtin();
  /// Reads and parses an nmap-payloads file (errors name the path).
  static core::Result<UdpPayloads> load(const std::string& path);
  /// builtin() merged with nmap's file when it exists and parses, else builtin();
  /// built once per process. Never fails (a broken nmap file is ignored).
  static const UdpPayloads& load_default();

  /// The payload to send to `port` (the empty payload when none is specific).
  /// O(log ranges), allocation-free; the reference lives as long as this table.
  [[nodiscard]] const UdpPayload& for_port(uint16_t port) const noexcept;
  /// True when `port` has a payload of its own (possibly an empty one from a file).
  [[nodiscard]] bool has_specific(uint16_t port) const noexcept;
  /// The ports with a specific payload (to probe them first, spec §3).
  [[nodiscard]] PortSet specific_ports() const;
  /// Number of distinct specific payloads.
  [[nodiscard]] std::size_t payload_count() const noexcept { return payloads_.size() - 1; }
  /// Number of ranges for_port() searches.
  [[nodiscard]] std::size_t range_count() const noexcept { return spans_.size(); }

  /// This table plus `fallback`'s payloads for the ports this one has none for.
  [[nodiscard]] UdpPayloads merged_with(const UdpPayloads& fallback) const;

 private:
  friend core::Result<UdpPayloads> parse_nmap_payloads(std::string_view text);

  // Ports [first, last] get payloads_[payload]; sorted by first, disjoint.
  struct Span {
    uint16_t first = 0;
    uint16_t last = 0;
    uint32_t payload = 0;
  };
  // A wish for ports [first, last] to get payloads[payload]; the lowest rank
  // wins where wishes overlap (rank = file order, or ours before nmap's).
  struct Claim {
    uint32_t first = 0;
    uint32_t last = 0;
    uint32_t rank = 0;
    uint32_t payload = 0;
  };
  /// Resolves overlapping claims first-wins by a sweep over their end points:
  /// O(claims log claims), independent of how many ports they cover. Payloads
  /// that win no port are dropped. payloads[0] must be the empty payload.
  static UdpPayloads from_claims(std::vector<UdpPayload> payloads, std::vector<Claim> claims);

  const Span* find(uint16_t port) const noexcept;

  std::vector<UdpPayload> payloads_;  // [0] is the empty generic payload
  std::vector<Span> spans_;
};

/// Parses nmap-payloads text (grammar and limits in the file comment) into a
/// table holding nmap's payloads only; merge with builtin().merged_with().
[[nodiscard]] core::Result<UdpPayloads> parse_nmap_payloads(std::string_view text);

}  // namespace linerate::scan
