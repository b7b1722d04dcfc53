// btest/pro/limits.cpp — see limits.hpp.
#include "btest/pro/limits.hpp"

#include "core/text.hpp"

namespace linerate::btest::pro {

namespace {

__extension__ typedef unsigned __int128 U128;

constexpr uint64_t kK = 1000ULL;

}  // namespace

core::Result<uint64_t> parse_size(std::string_view text) {
  const std::string what = "invalid size '" + core::one_line(text) + "'";
  if (text.empty()) {
    return core::fail(what + ": empty (use e.g. 500M, 2G or a byte count)");
  }
  if (text.front() == '-') {
    return core::fail(what + ": must not be negative");
  }
  std::size_t i = 0;
  std::size_t int_digits = 0;
  std::size_t frac_digits = 0;
  bool dot = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      ++(dot ? frac_digits : int_digits);
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (int_digits == 0) {
    return core::fail(what + ": not a number (use e.g. 500M, 2G or a byte count)");
  }
  if (dot && frac_digits == 0) {
    return core::fail(what + ": digits must follow the decimal point");
  }
  std::string_view unit = text.substr(i);
  if (!unit.empty() && unit.back() == 'B') {
    unit.remove_suffix(1);
  }
  uint64_t mult = 1;
  if (unit.empty()) {
    mult = 1;
  } else if (unit == "k" || unit == "K") {
    mult = kK;
  } else if (unit == "m" || unit == "M") {
    mult = kK * kK;
  } else if (unit == "g" || unit == "G") {
    mult = kK * kK * kK;
  } else if (unit == "t" || unit == "T") {
    mult = kK * kK * kK * kK;
  } else {
    return core::fail(what + ": unknown unit '" + core::one_line(text.substr(i)) + "' (use K, M, G or T)");
  }
  // Exact integer arithmetic: int_part * mult + fraction * mult / 10^digits.
  const std::string too_large = what + ": too large (at most 9223372036854775807 bytes)";
  U128 int_part = 0;
  for (char c : text.substr(0, int_digits)) {
    int_part = int_part * 10 + static_cast<unsigned>(c - '0');
    if (int_part > kMaxSize) {
      return core::fail(too_large);
    }
  }
  std::string_view frac = dot ? text.substr(int_digits + 1, frac_digits) : std::string_view{};
  while (!frac.empty() && frac.back() == '0') {
    frac.remove_suffix(1);  // "2.50K" and "2.0" are exact
  }
  uint64_t frac_scale = mult;
  U128 frac_value = 0;
  for (char c : frac) {
    if (frac_scale < 10) {
      return core::fail(what + ": not a whole number of bytes");
    }
    frac_scale /= 10;
    frac_value += static_cast<unsigned>(c - '0') * U128{frac_scale};
  }
  U128 scaled = int_part * mult + frac_value;
  if (scaled > kMaxSize) {
    return core::fail(too_large);
  }
  return static_cast<uint64_t>(scaled);
}

std::string format_size(uint64_t bytes) {
  struct Unit {
    uint64_t mult;
    char suffix;
  };
  static constexpr Unit kUnits[] = {{kK * kK * kK * kK, 'T'}, {kK * kK * kK, 'G'}, {kK * kK, 'M'}, {kK, 'K'}};
  for (const Unit& u : kUnits) {
    // Largest unit that still shows the value exactly with at most 3 decimals.
    if (bytes >= u.mult && bytes % (u.mult / kK) == 0) {
      uint64_t whole = bytes / u.mult;
      uint64_t frac = (bytes % u.mult) / (u.mult / kK);  // 0..999
      std::string out = std::to_string(whole);
      if (frac != 0) {
        std::string f = std::to_string(frac);
        f.insert(0, 3 - f.size(), '0');
        while (f.back() == '0') {
          f.pop_back();
        }
        out += "." + f;
      }
      return out + u.suffix;
    }
  }
  return std::to_string(bytes);
}

std::string_view limit_slot_name(LimitSlot s) {
  static constexpr std::string_view kNames[kLimitSlots] = {
      "daily", "daily-in", "daily-out", "weekly", "weekly-in", "weekly-out", "monthly", "monthly-in", "monthly-out"};
  return kNames[static_cast<std::size_t>(s)];
}

uint64_t& limit_ref(Limits& l, LimitSlot s) {
  switch (s) {
    case LimitSlot::kDay:
      return l.day.total;
    case LimitSlot::kDayIn:
      return l.day.in;
    case LimitSlot::kDayOut:
      return l.day.out;
    case LimitSlot::kWeek:
      return l.week.total;
    case LimitSlot::kWeekIn:
      return l.week.in;
    case LimitSlot::kWeekOut:
      return l.week.out;
    case LimitSlot::kMonth:
      return l.month.total;
    case LimitSlot::kMonthIn:
      return l.month.in;
    case LimitSlot::kMonthOut:
      break;
  }
  return l.month.out;
}

uint64_t limit_get(const Limits& l, LimitSlot s) {
  Limits copy = l;
  return limit_ref(copy, s);
}

bool LimitEdits::any() const {
  for (const auto& v : values) {
    if (v) {
      return true;
    }
  }
  return false;
}

void LimitEdits::apply(Limits& l) const {
  for (std::size_t i = 0; i < kLimitSlots; ++i) {
    if (values[i]) {
      limit_ref(l, static_cast<LimitSlot>(i)) = *values[i];
    }
  }
}

}  // namespace linerate::btest::pro
