// core/units.hpp — bandwidth, byte and duration parsing and formatting.
//
// Units are decimal (K = 1000) and rates are bits per second, as RouterOS and
// iperf3 count them. Parsers take untrusted text (CLI, config) and return a
// one-line error naming what was wrong.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace linerate::core {

/// "500K", "100M", "1.5G", "2T", "1000", "0" (= unlimited) -> bits/s.
/// An optional trailing "bps", "bit", "b" or "/s" is accepted ("100Mbps", "100M/s").
/// Errors: empty, negative, unknown unit, not a number, above 2^64-1.
[[nodiscard]] Result<uint64_t> parse_bandwidth(std::string_view text);

/// Seconds with optional unit: "10", "2.5", "500ms", "10s", "5m", "1h" -> milliseconds.
[[nodiscard]] Result<uint64_t> parse_duration_ms(std::string_view text);

/// "285.47 Mbps" (2 decimals, K/M/G/T by magnitude, "bps" below 1000).
[[nodiscard]] std::string format_rate(double bits_per_second);

/// "1.25 GB" style (decimal units), "123 B" below 1000.
[[nodiscard]] std::string format_bytes(uint64_t bytes);

}  // namespace linerate::core
