// btest/pro/windows.hpp — the calendar windows that quotas are counted in.
//
// A quota window is a calendar period in one configured time zone: the local
// day, the ISO week (Monday to Sunday; the Monday may lie in the previous year)
// and the month. Each window is named by its first day, "YYYY-MM-DD", and that
// text is the key of the usage table, so two servers in the same zone agree on
// it without any shared clock state.
//
// The zone is process-wide (TZ + tzset(), read by localtime_r): set_time_zone is
// called once at start-up before any thread exists. The date arithmetic itself
// is pure (days since 1970-01-01, proleptic Gregorian), so DST never shifts a
// window start.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "btest/pro/store.hpp"
#include "core/result.hpp"

namespace linerate::btest::pro {

/// "UTC" or an IANA name with a TZif file under /usr/share/zoneinfo ("Europe/Riga").
/// Names with "..", a leading '/', or characters outside [A-Za-z0-9_+-/] are
/// refused. Sets TZ and calls tzset(). Not thread-safe: call before threads start.
/// Errors are one line naming the zone.
core::Result<void> set_time_zone(std::string_view name);

/// The day, ISO-week (Monday) and month starts containing `t`, in the process
/// zone (see set_time_zone). Thread-safe (localtime_r).
[[nodiscard]] WindowStarts window_starts(std::chrono::system_clock::time_point t);

/// The window starts for the calendar date "YYYY-MM-DD" (a date is a date in
/// any zone). Errors: not that shape, or not a real date (2025-02-30).
core::Result<WindowStarts> window_starts_for_date(std::string_view ymd);

/// Civil date helpers (proleptic Gregorian), exposed for tests.
struct CivilDate {
  int year = 1970;
  unsigned month = 1;  // 1..12
  unsigned day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
};
[[nodiscard]] int64_t days_from_civil(CivilDate d);
[[nodiscard]] CivilDate civil_from_days(int64_t days);
/// "YYYY-MM-DD" (years outside 0..9999 are printed as they are).
[[nodiscard]] std::string format_date(CivilDate d);

}  // namespace linerate::btest::pro
