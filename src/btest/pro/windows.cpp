// btest/pro/windows.cpp — see windows.hpp.
#include "btest/pro/windows.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>

#include <sys/stat.h>

#include "core/text.hpp"

namespace linerate::btest::pro {

namespace {

constexpr const char* kZoneDir = "/usr/share/zoneinfo/";

bool sane_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.front() == '/' || name.back() == '/') {
    return false;
  }
  if (name.find("..") != std::string_view::npos || name.find("//") != std::string_view::npos) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '+' ||
              c == '-' || c == '/';
    if (!ok) {
      return false;
    }
  }
  return true;
}

// A zone file is a regular file that starts with the TZif magic (RFC 8536 §3.1);
// this keeps "posixrules"-style directories and stray files out.
bool is_tzif_file(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return false;
  }
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, sizeof(magic));
  return in.gcount() == 4 && magic[0] == 'T' && magic[1] == 'Z' && magic[2] == 'i' && magic[3] == 'f';
}

}  // namespace

core::Result<void> set_time_zone(std::string_view name) {
  std::string tz;
  if (name == "UTC") {
    tz = "UTC0";  // POSIX form: no file needed, works without tzdata
  } else {
    if (!sane_zone_name(name)) {
      return core::fail("time zone '" + core::one_line(name) +
                        "' is not UTC or a zone name such as Europe/Riga (letters, digits, _+-/ only)");
    }
    std::string path = kZoneDir + std::string(name);
    if (!is_tzif_file(path)) {
      return core::fail("time zone '" + std::string(name) + "': no zone file " + path + " (is tzdata installed?)");
    }
    tz = ":" + path;
  }
  if (::setenv("TZ", tz.c_str(), 1) != 0) {
    return core::errno_error("setting time zone '" + std::string(name) + "'");
  }
  ::tzset();
  return {};
}

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms,
// written out here from their description): eras of 400 years, March-based years
// so the leap day is last.
int64_t days_from_civil(CivilDate d) {
  int64_t y = d.year - (d.month <= 2 ? 1 : 0);
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  auto yoe = static_cast<unsigned>(y - era * 400);
  unsigned mp = d.month > 2 ? d.month - 3 : d.month + 9;
  unsigned doy = (153 * mp + 2) / 5 + d.day - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

CivilDate civil_from_days(int64_t z) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  auto doe = static_cast<unsigned>(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = static_cast<int64_t>(yoe) + era * 400;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  unsigned day = doy - (153 * mp + 2) / 5 + 1;
  unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return CivilDate{static_cast<int>(y + (month <= 2 ? 1 : 0)), month, day};
}

std::string format_date(CivilDate d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", d.year, d.month, d.day);
  return buf;
}

namespace {

WindowStarts starts_for(CivilDate d) {
  int64_t days = days_from_civil(d);
  // 1970-01-01 was a Thursday: (days + 3) mod 7 is 0 on Mondays.
  int64_t since_monday = ((days + 3) % 7 + 7) % 7;
  WindowStarts w;
  w.day = format_date(d);
  w.week = format_date(civil_from_days(days - since_monday));
  w.month = format_date(CivilDate{d.year, d.month, 1});
  return w;
}

}  // namespace

WindowStarts window_starts(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  if (::localtime_r(&secs, &tm) == nullptr) {
    ::gmtime_r(&secs, &tm);  // out of range for the zone code: fall back to UTC
  }
  return starts_for(
      CivilDate{tm.tm_year + 1900, static_cast<unsigned>(tm.tm_mon + 1), static_cast<unsigned>(tm.tm_mday)});
}

core::Result<WindowStarts> window_starts_for_date(std::string_view ymd) {
  auto bad = [&] { return core::fail("date '" + core::one_line(ymd) + "' is not a calendar date YYYY-MM-DD"); };
  if (ymd.size() != 10 || ymd[4] != '-' || ymd[7] != '-') {
    return bad();
  }
  auto num = [&](std::size_t pos, std::size_t len, unsigned& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (ymd[i] < '0' || ymd[i] > '9') {
        return false;
      }
      out = out * 10 + static_cast<unsigned>(ymd[i] - '0');
    }
    return true;
  };
  unsigned y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d) || m < 1 || m > 12 || d < 1) {
    return bad();
  }
  CivilDate date{static_cast<int>(y), m, d};
  // A real date survives the round trip through the day count (2025-02-30 does not).
  if (civil_from_days(days_from_civil(date)) != date) {
    return bad();
  }
  return starts_for(date);
}

}  // namespace linerate::btest::pro
