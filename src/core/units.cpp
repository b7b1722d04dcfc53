// core/units.cpp — see units.hpp.
#include "core/units.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace linerate::core {

namespace {

__extension__ typedef unsigned __int128 U128;

// Split "1.5G" into number text and unit text; digits and one '.' only.
bool split_number(std::string_view text, std::string_view& num, std::string_view& unit) {
  std::size_t i = 0;
  bool dot = false;
  bool digit = false;
  while (i < text.size()) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  num = text.substr(0, i);
  unit = text.substr(i);
  return digit;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

// Parse decimal text exactly into value * 10^frac_digits (no floating point, so
// "1.1G" is exactly 1100000000).
Result<uint64_t> scaled_decimal(std::string_view num, uint64_t multiplier, const std::string& what) {
  auto dot = num.find('.');
  std::string_view ip = num.substr(0, dot);
  std::string_view fp = dot == std::string_view::npos ? std::string_view{} : num.substr(dot + 1);
  U128 value = 0;
  for (char c : ip) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > UINT64_MAX) {
      return fail(what + ": too large");
    }
  }
  value *= multiplier;
  U128 frac_scale = multiplier;
  for (char c : fp) {
    if (frac_scale % 10 != 0) {
      // More fractional digits than the unit can resolve: ignore the rest (sub-bit precision).
      break;
    }
    frac_scale /= 10;
    value += static_cast<unsigned>(c - '0') * frac_scale;
  }
  if (value > UINT64_MAX) {
    return fail(what + ": too large");
  }
  return static_cast<uint64_t>(value);
}

}  // namespace

Result<uint64_t> parse_bandwidth(std::string_view raw) {
  std::string text = trim(raw);
  std::string what = "invalid bandwidth '" + std::string(raw) + "'";
  if (text.empty()) {
    return fail(what + ": empty (use e.g. 100M)");
  }
  if (text[0] == '-') {
    return fail(what + ": must not be negative");
  }
  if (text[0] == '+') {
    text.erase(0, 1);
  }
  std::string_view num;
  std::string_view unit;
  if (!split_number(text, num, unit)) {
    return fail(what + ": not a number (use e.g. 500K, 100M, 1.5G)");
  }
  std::string u = lower(unit);
  for (const char* suffix : {"bps", "bit/s", "bits", "bit", "/s", "b"}) {
    std::string_view sv(suffix);
    if (u.size() >= sv.size() && u.compare(u.size() - sv.size(), sv.size(), sv) == 0 && u.size() > 0) {
      u.erase(u.size() - sv.size());
      break;
    }
  }
  uint64_t mult = 1;
  if (u.empty()) {
    mult = 1;
  } else if (u == "k") {
    mult = 1000ULL;
  } else if (u == "m") {
    mult = 1000ULL * 1000;
  } else if (u == "g") {
    mult = 1000ULL * 1000 * 1000;
  } else if (u == "t") {
    mult = 1000ULL * 1000 * 1000 * 1000;
  } else {
    return fail(what + ": unknown unit '" + std::string(unit) + "' (use K, M, G or T; decimal, bits/s)");
  }
  return scaled_decimal(num, mult, what);
}

Result<uint64_t> parse_duration_ms(std::string_view raw) {
  std::string text = trim(raw);
  std::string what = "invalid duration '" + std::string(raw) + "'";
  if (text.empty()) {
    return fail(what + ": empty (use e.g. 10 or 10s)");
  }
  if (text[0] == '-') {
    return fail(what + ": must not be negative");
  }
  std::string_view num;
  std::string_view unit;
  if (!split_number(text, num, unit)) {
    return fail(what + ": not a number (use e.g. 10, 10s, 500ms, 5m)");
  }
  std::string u = lower(unit);
  uint64_t mult = 0;
  if (u.empty() || u == "s") {
    mult = 1000;
  } else if (u == "ms") {
    mult = 1;
  } else if (u == "m" || u == "min") {
    mult = 60'000;
  } else if (u == "h") {
    mult = 3'600'000;
  } else {
    return fail(what + ": unknown unit '" + std::string(unit) + "' (use ms, s, m or h)");
  }
  return scaled_decimal(num, mult, what);
}

std::string format_rate(double bps) {
  const char* units[] = {"bps", "Kbps", "Mbps", "Gbps", "Tbps"};
  int i = 0;
  double v = bps < 0 ? 0 : bps;
  while (v >= 1000.0 && i < 4) {
    v /= 1000.0;
    ++i;
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[i]);
  return buf;
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1000) {
    return std::to_string(bytes) + " B";
  }
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes);
  int i = 0;
  while (v >= 1000.0 && i < 5) {
    v /= 1000.0;
    ++i;
  }
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.2f %s", v, units[i]);
  return buf;
}

}  // namespace linerate::core
