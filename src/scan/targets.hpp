// scan/targets.hpp — scan targets: nmap target specifications held as address ranges.
//
// What: parses nmap's target grammar (spec lrscan §2) — single IPv4/IPv6 addresses,
// CIDR (`10.0.0.7/24`, `fd13::/64`), nmap octet ranges (`10.0.1-3.*`, `10.0.0,2,4.1`,
// `-5`, `250-`), host names through a caller-supplied resolver (as nmap without
// --resolve-all: the first resolved address; `name/24` masks it), `-iL` text and `--exclude`/`--excludefile` lists —
// into a TargetSet, and maps a scan index `i` to an address (nth) for the permutation.
//
// Why ranges: a scan's memory must not depend on the number of targets (spec §4). A
// /8 is one range, `*.*.*.*` is one range; the set is never expanded to a list. The
// probe generator asks nth(i) and the safety check asks contains(a) (spec §5), both
// O(log ranges) by binary search over sorted ranges and cumulative counts.
//
// Invariants (after every public mutating call):
//   - v4() and v6() are each sorted by `first`, disjoint and non-adjacent (merged):
//     range[k].last + 1 < range[k+1].first. Ranges are inclusive [first, last].
//   - Scan order is all IPv4 ranges in ascending order, then all IPv6 ranges.
//   - size() = IPv4 count + IPv6 count, saturating at UINT64_MAX (an IPv6 /64 alone
//     has 2^64 addresses); nth(i) is defined for every i < size().
//
// Hostile input (CLI, -iL files): every malformed token gives one-line Error
// "target '<token>': <what is wrong>"; nothing asserts on input. A single token may
// produce at most kMaxRangesPerSpec ranges (octet-range cross products), so a spec
// cannot make us allocate without bound.
//
// Thread-safety: const members are safe to call concurrently; mutation is not.
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "core/result.hpp"

namespace linerate::scan {

// 128-bit unsigned for IPv6 arithmetic (GCC/Clang extension; __extension__ keeps
// -Wpedantic quiet).
__extension__ typedef unsigned __int128 U128;

enum class Family : uint8_t { kV4 = 4, kV6 = 6 };

/// One IP address as a value: IPv4 uses the low 32 bits of `value` (host order,
/// 10.0.0.1 == 0x0A000001), IPv6 all 128 bits (big-endian numeric order).
struct Address {
  Family family = Family::kV4;
  U128 value = 0;

  [[nodiscard]] static Address v4(uint32_t host_order) { return {Family::kV4, host_order}; }
  [[nodiscard]] static Address v6(U128 value) { return {Family::kV6, value}; }
  /// From wire bytes (network order): the first 4 when !v6, all 16 otherwise.
  [[nodiscard]] static Address from_wire(bool v6, const std::array<uint8_t, 16>& b) {
    if (!v6) {
      return v4((uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3]);
    }
    U128 v = 0;
    for (uint8_t x : b) {
      v = (v << 8) | x;
    }
    return Address::v6(v);
  }
  /// The 16 wire bytes of an IPv6 address (meaningful for IPv6 only).
  [[nodiscard]] std::array<uint8_t, 16> wire6() const {
    std::array<uint8_t, 16> b{};
    for (std::size_t k = 0; k < 16; ++k) {
      b[k] = static_cast<uint8_t>(value >> (8 * (15 - k)));
    }
    return b;
  }
  /// Fills `ss` with this address and `port`; returns the sockaddr length.
  socklen_t to_sockaddr(uint16_t port, sockaddr_storage& ss) const;
  /// From a resolved socket address; an IPv4-mapped IPv6 address becomes IPv4.
  /// Error for families other than AF_INET/AF_INET6.
  [[nodiscard]] static core::Result<Address> from_sockaddr(const core::SockAddr& sa);
  /// Numeric literal "10.0.0.1" or "fd13::1" (no ranges, no names).
  [[nodiscard]] static core::Result<Address> parse(std::string_view text);

  /// "10.0.0.1" or "fd13::1" (RFC 5952 form from inet_ntop).
  [[nodiscard]] std::string to_string() const;
  [[nodiscard]] uint32_t v4_value() const { return static_cast<uint32_t>(value); }

  friend bool operator==(const Address&, const Address&) = default;
  /// IPv4 sorts before IPv6, matching the scan order.
  friend std::strong_ordering operator<=>(const Address& a, const Address& b) {
    if (a.family != b.family) {
      return a.family <=> b.family;
    }
    return a.value == b.value  ? std::strong_ordering::equal
           : a.value < b.value ? std::strong_ordering::less
                               : std::strong_ordering::greater;
  }
};

/// Inclusive IPv4 range [first, last] in host byte order.
struct Range4 {
  uint32_t first = 0;
  uint32_t last = 0;
  friend bool operator==(const Range4&, const Range4&) = default;
};

/// Inclusive IPv6 range [first, last].
struct Range6 {
  U128 first = 0;
  U128 last = 0;
  friend bool operator==(const Range6&, const Range6&) = default;
};

/// Resolves a host name to addresses (core::resolve in production, a fake in tests).
/// Its error is returned to the caller prefixed with "target '<name>': ". A parse
/// calls it once per distinct name, from up to 16 threads at a time (all names of
/// the parse are looked up concurrently before the ranges are built), so it must
/// be thread-safe.
using Resolver = std::function<core::Result<std::vector<core::SockAddr>>(std::string_view name)>;

/// Called with the error of a name that did not resolve when the caller wants
/// nmap's report-and-skip behaviour instead of failing the whole parse.
using OnUnresolved = std::function<void(const core::Error&)>;

/// Most ranges one target token may expand to (e.g. `0,2,4,...,254.*.1.1`); beyond
/// it the token is an error instead of an allocation.
inline constexpr uint64_t kMaxRangesPerSpec = uint64_t{1} << 22;
/// Most disjoint ranges a whole parse may hold (IPv4 + IPv6); beyond it the parse fails.
inline constexpr uint64_t kMaxRangesTotal = uint64_t{1} << 24;

class TargetSet {
 public:
  TargetSet() = default;

  /// Targets from command-line tokens, one spec per element (nmap grammar). Fails on
  /// the first bad token. With `on_unresolved`, names the resolver cannot resolve are
  /// reported through it and skipped; without it they fail the parse too.
  [[nodiscard]] static core::Result<TargetSet> parse(std::span<const std::string> specs, const Resolver& resolver,
                                                     const OnUnresolved& on_unresolved = {});

  /// Targets from `-iL` / `--excludefile` text: specs separated by any whitespace,
  /// `#` starts a comment to the end of the line.
  [[nodiscard]] static core::Result<TargetSet> parse_list_text(std::string_view text, const Resolver& resolver,
                                                               const OnUnresolved& on_unresolved = {});

  /// Targets from an `--exclude` argument: specs separated by commas (as in nmap, so
  /// octet comma lists cannot be used there; use ranges `1-3` instead) or whitespace.
  [[nodiscard]] static core::Result<TargetSet> parse_exclude_list(std::string_view list, const Resolver& resolver,
                                                                  const OnUnresolved& on_unresolved = {});

  /// Add one spec token. O(ranges) per call because the set is re-merged; use the
  /// parse_* functions for bulk input. On error the set is unchanged.
  [[nodiscard]] core::Result<void> add(std::string_view spec, const Resolver& resolver);

  /// The set of exactly these addresses (any order, duplicates allowed), built in
  /// one O(n log n) pass — e.g. the hosts that answered discovery.
  [[nodiscard]] static TargetSet from_addresses(std::span<const Address> addrs);

  /// Add an inclusive range directly (first > last is ignored).
  void add_range(Range4 r);
  void add_range(Range6 r);

  /// Remove every address of `excluded` (range subtraction, O(ranges of both)).
  void exclude(const TargetSet& excluded);

  /// IPv4 + IPv6 address count, saturating at UINT64_MAX.
  [[nodiscard]] uint64_t size() const;
  [[nodiscard]] uint64_t size_v4() const { return cum4_.empty() ? 0 : cum4_.back(); }
  /// IPv6 count, saturating at UINT64_MAX.
  [[nodiscard]] uint64_t size_v6() const { return cum6_.empty() ? 0 : cum6_.back(); }
  [[nodiscard]] bool empty() const { return v4_.empty() && v6_.empty(); }

  /// The i-th address in scan order (IPv4 ascending, then IPv6 ascending).
  /// Precondition: i < size(). O(log ranges), no allocation.
  [[nodiscard]] Address nth(uint64_t i) const;

  /// True when `a` is in the set. O(log ranges), no allocation.
  [[nodiscard]] bool contains(const Address& a) const;

  /// The inverse of nth(): the scan-order index of `a`, or nullopt when `a` is not
  /// in the set (a reply from an address we did not probe). O(log ranges).
  [[nodiscard]] std::optional<uint64_t> index_of(const Address& a) const;

  [[nodiscard]] const std::vector<Range4>& v4() const { return v4_; }
  [[nodiscard]] const std::vector<Range6>& v6() const { return v6_; }

 private:
  [[nodiscard]] static core::Result<TargetSet> parse_tokens(std::span<const std::string_view> tokens,
                                                            const Resolver& resolver,
                                                            const OnUnresolved& on_unresolved);
  void normalize();

  std::vector<Range4> v4_;
  std::vector<Range6> v6_;
  // cum4_[k] = addresses in v4_[0..k] (inclusive); cum6_ likewise, saturating.
  std::vector<uint64_t> cum4_;
  std::vector<uint64_t> cum6_;
};

}  // namespace linerate::scan
