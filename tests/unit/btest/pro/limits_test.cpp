// tests/unit/btest/pro/limits_test.cpp — SIZE parsing and printing.
#include "btest/pro/limits.hpp"

#include <gtest/gtest.h>

namespace linerate::btest::pro {
namespace {

TEST(ParseSize, DecimalSuffixes) {
  EXPECT_EQ(parse_size("0").value(), 0u);
  EXPECT_EQ(parse_size("1000").value(), 1000u);
  EXPECT_EQ(parse_size("1k").value(), 1000u);
  EXPECT_EQ(parse_size("1K").value(), 1000u);
  EXPECT_EQ(parse_size("500M").value(), 500'000'000u);
  EXPECT_EQ(parse_size("2G").value(), 2'000'000'000u);
  EXPECT_EQ(parse_size("2GB").value(), 2'000'000'000u);
  EXPECT_EQ(parse_size("24g").value(), 24'000'000'000u);
  EXPECT_EQ(parse_size("1.5T").value(), 1'500'000'000'000u);
  EXPECT_EQ(parse_size("1.5K").value(), 1500u);
  EXPECT_EQ(parse_size("2.50K").value(), 2500u);
  EXPECT_EQ(parse_size("2.0").value(), 2u);
  EXPECT_EQ(parse_size("9223372036854775807").value(), kMaxSize);
  EXPECT_EQ(parse_size("9223372.036854775807T").value(), kMaxSize);
}

TEST(ParseSize, RejectsWithOneLineNamingTheToken) {
  for (const char* bad : {"", "-1", "-5G", "abc", "12X", "1.5", "1.0001K", "1.", ".5G", "9223372036854775808",
                          "99999999999999999999999", "10000000T", "1 G", " 1G", "1G ", "1GiB", "1e9", "0x10", "+5"}) {
    auto r = parse_size(bad);
    ASSERT_FALSE(r) << bad;
    std::string msg = r.error().message();
    EXPECT_NE(msg.find(std::string("'") + bad + "'"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
  EXPECT_NE(parse_size("-1").error().message().find("negative"), std::string::npos);
  EXPECT_NE(parse_size("12X").error().message().find("unknown unit 'X'"), std::string::npos);
  EXPECT_NE(parse_size("1\nG").error().message().find("\\n"), std::string::npos);
}

TEST(FormatSize, ShortestExactText) {
  EXPECT_EQ(format_size(0), "0");
  EXPECT_EQ(format_size(7), "7");
  EXPECT_EQ(format_size(1500), "1.5K");
  EXPECT_EQ(format_size(1234), "1.234K");
  EXPECT_EQ(format_size(1234567), "1234.567K");
  EXPECT_EQ(format_size(2'000'000'000), "2G");
  EXPECT_EQ(format_size(24'000'000'000), "24G");
  EXPECT_EQ(format_size(1'500'000'000'000), "1.5T");
  for (uint64_t v :
       {uint64_t{1}, uint64_t{999}, uint64_t{1001}, uint64_t{123456789}, uint64_t{5'000'000'001}, kMaxSize}) {
    EXPECT_EQ(parse_size(format_size(v)).value(), v) << v;
  }
}

TEST(LimitEdits, ApplyOnlyGivenSlots) {
  Limits l;
  l.week.in = 7;
  LimitEdits e;
  EXPECT_FALSE(e.any());
  e.values[static_cast<std::size_t>(LimitSlot::kDay)] = 2;
  e.values[static_cast<std::size_t>(LimitSlot::kMonthOut)] = 9;
  EXPECT_TRUE(e.any());
  e.apply(l);
  EXPECT_EQ(l.day.total, 2u);
  EXPECT_EQ(l.week.in, 7u);
  EXPECT_EQ(l.month.out, 9u);
  EXPECT_EQ(limit_slot_name(LimitSlot::kWeekOut), "weekly-out");
  EXPECT_EQ(limit_get(l, LimitSlot::kMonthOut), 9u);
}

}  // namespace
}  // namespace linerate::btest::pro
