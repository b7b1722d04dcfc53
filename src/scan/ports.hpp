// scan/ports.hpp — nmap port specifications and the port-frequency table.
//
// What: `-p` / `--exclude-ports` specs in nmap's grammar (spec lrscan §2), held per
// protocol as a PortSet, plus the frequency table behind `--top-ports N` and `-F`.
//
// Grammar (comma-separated items, no spaces):
//   22            one port              1000-2000   inclusive range
//   -             1-65535               -100        1-100
//   60000-        60000-65535           0 / 0-10    port 0 only when written
//   T:80,443,U:53 a protocol prefix (T: or U:, either case) applies to the items
//                 that follow it up to the next prefix; items before any prefix
//                 apply to every protocol being scanned (ScanProtocols)
//   http          a service name, looked up in the ServiceTable when one is given
// Not supported (rejected with an error): nmap's `[1-1024]` "ports in the services
// file" brackets, `*`/`?` wildcards in names, and the S: (SCTP) and P: (IP
// protocol) prefixes.
//
// Shape: a PortSet is a sorted vector of disjoint, non-adjacent inclusive ranges
// plus cumulative counts, so a full `-p-` costs one range and nth(i) (index -> port,
// used by the scan generator) is a binary search over the ranges.
//
// Frequency table: ServiceTable::load_default() reads nmap's data file
// /usr/share/nmap/nmap-services (Debian nmap-common) at run time when it exists:
// lines `name port/proto frequency [comment]`, `#` comments. The file is never
// copied into this repository (spec §4). Without it we use builtin(): a list of
// about 110 TCP and 35 UDP ports commonly run on the Internet and on LANs, chosen
// and ordered by the linerate authors from general knowledge of well-known
// services (IANA assignments, common server and appliance defaults). It is NOT
// derived from nmap's measured frequencies; its "frequencies" are synthetic
// (rank-based) and only its order matters.
//
// Errors: every malformed input yields one line naming the bad token, e.g.
//   port spec '70000': port 70000 is above 65535
// All parsing is linear in the input size; nothing asserts on input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.hpp"

namespace linerate::scan {

enum class Protocol : uint8_t { kTcp, kUdp };

/// Which protocols a scan covers; unprefixed spec items go to each one set.
struct ScanProtocols {
  bool tcp = false;
  bool udp = false;
};

/// An inclusive range of ports, first <= last.
struct PortRange {
  uint16_t first = 0;
  uint16_t last = 0;
  friend bool operator==(const PortRange&, const PortRange&) = default;
};

/// A set of ports of one protocol. Value type; cheap to copy for small sets.
class PortSet {
 public:
  PortSet() = default;

  /// Any ranges, in any order, overlapping or not (first > last ranges are
  /// swapped). Normalised to sorted, disjoint, non-adjacent ranges.
  static PortSet from_ranges(std::vector<PortRange> ranges);
  static PortSet from_ports(std::span<const uint16_t> ports);

  /// Adds one range (O(ranges) — build big sets with from_ranges instead).
  void add(PortRange r);
  void add(uint16_t port) { add(PortRange{port, port}); }

  /// This set minus `other` (linear merge).
  [[nodiscard]] PortSet minus(const PortSet& other) const;
  [[nodiscard]] PortSet united(const PortSet& other) const;

  [[nodiscard]] bool contains(uint16_t port) const noexcept;
  [[nodiscard]] uint32_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

  /// The i-th smallest port, i < size() (precondition; out of range returns 0).
  /// O(log ranges), allocation-free.
  [[nodiscard]] uint16_t nth(uint32_t i) const noexcept;
  /// The inverse of nth(): the index of `port`, or -1 when it is not in the set.
  [[nodiscard]] int64_t index_of(uint16_t port) const noexcept;

  [[nodiscard]] std::span<const PortRange> ranges() const noexcept { return ranges_; }

  /// Canonical nmap-style text, e.g. "22,80,1000-2000" ("" when empty).
  [[nodiscard]] std::string to_string() const;

  friend bool operator==(const PortSet& a, const PortSet& b) { return a.ranges_ == b.ranges_; }

 private:
  void rebuild_counts();

  std::vector<PortRange> ranges_;
  std::vector<uint32_t> before_;  // before_[k] = ports in ranges_[0..k)
  uint32_t size_ = 0;
};

/// The ports of a scan, per protocol.
struct PortSets {
  PortSet tcp;
  PortSet udp;

  [[nodiscard]] uint32_t total() const noexcept { return tcp.size() + udp.size(); }
  [[nodiscard]] PortSets minus(const PortSets& other) const { return {tcp.minus(other.tcp), udp.minus(other.udp)}; }
  friend bool operator==(const PortSets&, const PortSets&) = default;
};

/// One line of the frequency table.
struct ServiceEntry {
  std::string name;
  uint16_t port = 0;
  Protocol proto = Protocol::kTcp;
  double frequency = 0.0;  // fraction of hosts seen with it open, in [0, 1]
};

/// The port-frequency table: service names and how often each port is open.
class ServiceTable {
 public:
  static constexpr std::string_view kNmapServicesPath = "/usr/share/nmap/nmap-services";

  /// Parses nmap-services text. Lines for other protocols (sctp) are skipped; a
  /// malformed tcp/udp line is an error naming the line number. A missing
  /// frequency column counts as 0.
  static core::Result<ServiceTable> parse(std::string_view text);
  /// Reads and parses a file (errors name the path).
  static core::Result<ServiceTable> load(const std::string& path);
  /// Our own fallback list (see the file comment for its origin).
  static ServiceTable builtin();
  /// nmap-services parsed once per process (thread-safe), or nullptr when it is
  /// missing, invalid or lists no TCP port.
  static const ServiceTable* nmap_file();
  /// nmap_file() when there is one, else builtin() (also built once). Never fails.
  static const ServiceTable& load_default();

  /// The n most frequent ports of `proto`, most frequent first (ties: lower port
  /// first). Returns fewer when the table knows fewer ports.
  [[nodiscard]] std::vector<uint16_t> top_ports(Protocol proto, uint32_t n) const;
  /// top_ports as a set (the scan order comes from the permutation anyway).
  [[nodiscard]] PortSet top_port_set(Protocol proto, uint32_t n) const;
  /// `--top-ports N` / `-F` (N = 100) for the scanned protocols.
  [[nodiscard]] PortSets top(ScanProtocols scanned, uint32_t n) const;

  /// Ports registered under `name` (case-insensitive) for `proto`.
  [[nodiscard]] PortSet ports_named(std::string_view name, Protocol proto) const;
  [[nodiscard]] bool has_name(std::string_view name) const;
  /// The name nmap prints for port/proto: the most frequent entry's (the first
  /// listed on a tie), spelled as in the file; nullopt when the port is unlisted.
  [[nodiscard]] std::optional<std::string_view> name_of(uint16_t port, Protocol proto) const;

  [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }

 private:
  explicit ServiceTable(std::vector<ServiceEntry> entries);

  struct PortName {
    std::string name;  // original spelling (entries_ hold lowered names)
    double frequency = 0.0;
  };
  std::unordered_map<uint32_t, PortName> by_port_;  // key: port << 1 | udp
  std::vector<ServiceEntry> entries_;
  std::vector<uint16_t> ranked_tcp_;  // distinct ports, most frequent first
  std::vector<uint16_t> ranked_udp_;
};

/// `-F`: nmap's "fast" scan size.
inline constexpr uint32_t kFastScanPorts = 100;

/// Parses a `-p` spec. Unprefixed items go to every protocol in `scanned` (TCP
/// when `scanned` names none); prefixed items go to their protocol whatever
/// `scanned` says (the caller may warn about a protocol it does not scan).
/// `services` resolves names; without it a name is an error. An empty spec is an
/// error; a successful parse always has at least one port.
[[nodiscard]] core::Result<PortSets> parse_port_spec(std::string_view spec, ScanProtocols scanned,
                                                     const ServiceTable* services = nullptr);

/// Parses `--exclude-ports`: same grammar, unprefixed items exclude from both TCP
/// and UDP. Subtract the result with PortSets::minus.
[[nodiscard]] core::Result<PortSets> parse_exclude_ports(std::string_view spec, const ServiceTable* services = nullptr);

}  // namespace linerate::scan
