// btest/pro/limits.hpp — byte sizes for quotas: parse, print, and the nine limit
// flags (daily/weekly/monthly × total/in/out) shared by `user`, `usage` and `serve`.
//
// SIZE is a byte count with an optional decimal suffix: K or k = 10^3, M = 10^6,
// G = 10^9, T = 10^12, optionally followed by B ("500M", "2GB", "1.5T", "1000").
// A fraction is allowed only when it still names whole bytes ("1.5K" = 1500,
// "1.0005K" is refused). 0 means unlimited. Values above 2^63-1 are refused, so
// every size fits the databases' signed 64-bit integers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "btest/pro/store.hpp"
#include "core/result.hpp"

namespace linerate::btest::pro {

inline constexpr uint64_t kMaxSize = 0x7FFF'FFFF'FFFF'FFFFULL;

/// Parse SIZE (see the file comment). Errors are one line quoting the text:
/// "invalid size '12X': unknown unit 'X' (use K, M, G or T)".
core::Result<uint64_t> parse_size(std::string_view text);

/// The shortest exact SIZE text for a byte count: 2000000000 -> "2G",
/// 1500 -> "1.5K", 1234 -> "1.234K", 7 -> "7". parse_size(format_size(n)) == n.
[[nodiscard]] std::string format_size(uint64_t bytes);

/// Index of one of the nine limits, in flag order.
enum class LimitSlot : uint8_t {
  kDay,
  kDayIn,
  kDayOut,
  kWeek,
  kWeekIn,
  kWeekOut,
  kMonth,
  kMonthIn,
  kMonthOut,
};
inline constexpr std::size_t kLimitSlots = 9;

/// Flag stem of a slot: "daily", "daily-in", ..., "monthly-out".
[[nodiscard]] std::string_view limit_slot_name(LimitSlot s);
[[nodiscard]] uint64_t& limit_ref(Limits& l, LimitSlot s);
[[nodiscard]] uint64_t limit_get(const Limits& l, LimitSlot s);

/// Limits given on a command line; nullopt = flag not given.
struct LimitEdits {
  std::array<std::optional<uint64_t>, kLimitSlots> values{};
  [[nodiscard]] bool any() const;
  /// Overwrite the given slots of `l`.
  void apply(Limits& l) const;
};

}  // namespace linerate::btest::pro
