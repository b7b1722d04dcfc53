// tests/unit/btest/pro/windows_test.cpp — calendar windows: day, ISO week, month.
#include "btest/pro/windows.hpp"

#include <chrono>

#include <gtest/gtest.h>

namespace linerate::btest::pro {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

system_clock::time_point at_unix(int64_t s) { return system_clock::time_point(seconds(s)); }

TEST(Windows, CivilDaysRoundTripAcrossCenturies) {
  EXPECT_EQ(days_from_civil({1970, 1, 1}), 0);
  EXPECT_EQ(days_from_civil({2000, 3, 1}), 11017);
  for (int64_t d = -800000; d <= 800000; d += 997) {
    EXPECT_EQ(days_from_civil(civil_from_days(d)), d);
  }
  EXPECT_EQ(format_date(civil_from_days(days_from_civil({2024, 2, 29}) + 1)), "2024-03-01");
}

TEST(Windows, UtcDayWeekMonth) {
  ASSERT_TRUE(set_time_zone("UTC"));
  // 2025-03-14 12:00:00 UTC is a Friday.
  WindowStarts w = window_starts(at_unix(1741953600));
  EXPECT_EQ(w.day, "2025-03-14");
  EXPECT_EQ(w.week, "2025-03-10");
  EXPECT_EQ(w.month, "2025-03-01");
}

TEST(Windows, IsoWeekStartsInPreviousYear) {
  ASSERT_TRUE(set_time_zone("UTC"));
  // 2021-01-01 (Friday) 00:00:00 UTC belongs to the ISO week of Monday 2020-12-28.
  WindowStarts w = window_starts(at_unix(1609459200));
  EXPECT_EQ(w.day, "2021-01-01");
  EXPECT_EQ(w.week, "2020-12-28");
  EXPECT_EQ(w.month, "2021-01-01");
  // One second earlier is still the same week, but the old day, month and year.
  WindowStarts before = window_starts(at_unix(1609459199));
  EXPECT_EQ(before.day, "2020-12-31");
  EXPECT_EQ(before.week, "2020-12-28");
  EXPECT_EQ(before.month, "2020-12-01");
  // A Monday starts its own week; the Sunday before belongs to the previous one.
  EXPECT_EQ(window_starts(at_unix(1609718400)).week, "2021-01-04");  // Mon 2021-01-04 00:00
  EXPECT_EQ(window_starts(at_unix(1609718399)).week, "2020-12-28");  // Sun 23:59:59
}

TEST(Windows, RigaMidnightFollowsLocalTimeAcrossDst) {
  ASSERT_TRUE(set_time_zone("Europe/Riga"));
  // Summer (EEST, UTC+3): 2024-06-30 21:00:00 UTC is 2024-07-01 00:00 local (a Monday).
  WindowStarts w = window_starts(at_unix(1719781200));
  EXPECT_EQ(w.day, "2024-07-01");
  EXPECT_EQ(w.week, "2024-07-01");
  EXPECT_EQ(w.month, "2024-07-01");
  WindowStarts before = window_starts(at_unix(1719781199));  // 23:59:59 local, Sunday
  EXPECT_EQ(before.day, "2024-06-30");
  EXPECT_EQ(before.week, "2024-06-24");
  EXPECT_EQ(before.month, "2024-06-01");
  // Winter (EET, UTC+2): 2024-12-31 22:00:00 UTC is 2025-01-01 00:00 local.
  EXPECT_EQ(window_starts(at_unix(1735682400)).day, "2025-01-01");
  EXPECT_EQ(window_starts(at_unix(1735682399)).day, "2024-12-31");
  // Across the spring-forward night (2024-03-31 03:00 -> 04:00 local) the day
  // stays 2024-03-31 from its local midnight (22:00 UTC the day before).
  EXPECT_EQ(window_starts(at_unix(1711836000)).day, "2024-03-31");  // 2024-03-30 22:00 UTC
  EXPECT_EQ(window_starts(at_unix(1711835999)).day, "2024-03-30");
  EXPECT_EQ(window_starts(at_unix(1711918800)).day, "2024-04-01");  // 2024-03-31 21:00 UTC (+3 now)
  ASSERT_TRUE(set_time_zone("UTC"));
  EXPECT_EQ(window_starts(at_unix(1719781200)).day, "2024-06-30");
}

TEST(Windows, BadZoneNamesAreRefused) {
  for (const char* bad : {"", "../../etc/passwd", "/etc/localtime", "Europe/../Europe/Riga", "Nowhere/City", "Europe",
                          "UTC\n", "Europe//Riga"}) {
    auto r = set_time_zone(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
    }
  }
}

TEST(Windows, StartsForADate) {
  auto w = window_starts_for_date("2027-01-02");  // Saturday
  ASSERT_TRUE(w);
  EXPECT_EQ(w->day, "2027-01-02");
  EXPECT_EQ(w->week, "2026-12-28");
  EXPECT_EQ(w->month, "2027-01-01");
  for (const char* bad : {"2025-02-30", "2025-13-01", "2025-00-10", "25-01-01", "2025-1-01", "2025-01-01x", "",
                          "abcd-ef-gh", "2023-02-29"}) {
    EXPECT_FALSE(window_starts_for_date(bad)) << bad;
  }
  EXPECT_TRUE(window_starts_for_date("2024-02-29"));
}

}  // namespace
}  // namespace linerate::btest::pro
