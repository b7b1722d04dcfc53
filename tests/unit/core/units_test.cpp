// Unit tests for core/units: bandwidth and duration parsing, rate and byte formatting.
#include "core/units.hpp"

#include <cstdint>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace linerate::core {
namespace {

// Every parse error is one line and quotes the text the user gave.
void expect_one_line_error_naming(const Result<uint64_t>& r, std::string_view input) {
  ASSERT_FALSE(r.has_value()) << "accepted '" << input << "' as " << *r;
  std::string msg = r.error().message();
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_FALSE(msg.empty());
  EXPECT_NE(msg.find("'" + std::string(input) + "'"), std::string::npos) << msg;
}

TEST(Bandwidth, ParsesDecimalUnits) {
  EXPECT_EQ(parse_bandwidth("500K").value(), 500'000U);
  EXPECT_EQ(parse_bandwidth("100M").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("2G").value(), 2'000'000'000U);
  EXPECT_EQ(parse_bandwidth("2T").value(), 2'000'000'000'000U);
  EXPECT_EQ(parse_bandwidth("1000").value(), 1000U);
}

TEST(Bandwidth, FractionsAreExact) {
  EXPECT_EQ(parse_bandwidth("1.5G").value(), 1'500'000'000U);
  EXPECT_EQ(parse_bandwidth("1.1G").value(), 1'100'000'000U);
  EXPECT_EQ(parse_bandwidth("0.5K").value(), 500U);
  EXPECT_EQ(parse_bandwidth(".25M").value(), 250'000U);
  EXPECT_EQ(parse_bandwidth("10.").value(), 10U);
}

TEST(Bandwidth, FractionBelowOneBitIsDropped) {
  EXPECT_EQ(parse_bandwidth("1.0009K").value(), 1000U);
  EXPECT_EQ(parse_bandwidth("7.9").value(), 7U);
}

TEST(Bandwidth, ZeroMeansUnlimited) {
  EXPECT_EQ(parse_bandwidth("0").value(), 0U);
  EXPECT_EQ(parse_bandwidth("0M").value(), 0U);
}

TEST(Bandwidth, AcceptsBitsPerSecondSuffixes) {
  EXPECT_EQ(parse_bandwidth("100Mbps").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("100M/s").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("100Mbit").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("100Mbit/s").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("64kbps").value(), 64'000U);
  EXPECT_EQ(parse_bandwidth("1000bps").value(), 1000U);
  EXPECT_EQ(parse_bandwidth("1000b").value(), 1000U);
}

TEST(Bandwidth, UnitsAreCaseInsensitive) {
  EXPECT_EQ(parse_bandwidth("500k").value(), 500'000U);
  EXPECT_EQ(parse_bandwidth("100m").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("1.5g").value(), 1'500'000'000U);
  EXPECT_EQ(parse_bandwidth("100MBPS").value(), 100'000'000U);
}

TEST(Bandwidth, IgnoresSurroundingWhitespace) {
  EXPECT_EQ(parse_bandwidth("  100M").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("100M \t").value(), 100'000'000U);
  EXPECT_EQ(parse_bandwidth("\t 500K \n").value(), 500'000U);
}

TEST(Bandwidth, AcceptsLeadingPlus) { EXPECT_EQ(parse_bandwidth("+100M").value(), 100'000'000U); }

TEST(Bandwidth, ParsesLargestValue) {
  EXPECT_EQ(parse_bandwidth("18446744073709551615").value(), UINT64_MAX);
  EXPECT_EQ(parse_bandwidth("18446744.073709551615T").value(), 18'446'744'073'709'551'615U);
}

TEST(Bandwidth, RejectsUnknownUnit) {
  auto r = parse_bandwidth("10X");
  expect_one_line_error_naming(r, "10X");
  EXPECT_NE(r.error().message().find("unknown unit"), std::string::npos) << r.error().message();
}

TEST(Bandwidth, RejectsNegative) {
  auto r = parse_bandwidth("-5M");
  expect_one_line_error_naming(r, "-5M");
  EXPECT_NE(r.error().message().find("negative"), std::string::npos) << r.error().message();
}

TEST(Bandwidth, RejectsEmpty) {
  expect_one_line_error_naming(parse_bandwidth(""), "");
  expect_one_line_error_naming(parse_bandwidth("   "), "   ");
}

TEST(Bandwidth, RejectsNonNumbers) {
  for (std::string_view bad : {"abc", "M", ".", "..5", "1.2.3M", "k100", "bps", "0x10"}) {
    expect_one_line_error_naming(parse_bandwidth(bad), bad);
  }
}

TEST(Bandwidth, RejectsOverflow) {
  for (std::string_view bad : {"99999999999999999999", "18446744073709551616", "18446744073709552T",
                               "99999999999999999999999999999999999999999999999999G"}) {
    auto r = parse_bandwidth(bad);
    expect_one_line_error_naming(r, bad);
    EXPECT_NE(r.error().message().find("too large"), std::string::npos) << r.error().message();
  }
}

TEST(Bandwidth, RejectsExponentNotation) { expect_one_line_error_naming(parse_bandwidth("1e5"), "1e5"); }

TEST(Bandwidth, RejectsInnerWhitespace) { expect_one_line_error_naming(parse_bandwidth("100 M"), "100 M"); }

TEST(Duration, BareNumberIsSeconds) {
  EXPECT_EQ(parse_duration_ms("10").value(), 10'000U);
  EXPECT_EQ(parse_duration_ms("0").value(), 0U);
}

TEST(Duration, FractionalSecondsAreExact) {
  EXPECT_EQ(parse_duration_ms("2.5").value(), 2'500U);
  EXPECT_EQ(parse_duration_ms("0.001").value(), 1U);
  EXPECT_EQ(parse_duration_ms("0.0005").value(), 0U);
}

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration_ms("500ms").value(), 500U);
  EXPECT_EQ(parse_duration_ms("10s").value(), 10'000U);
  EXPECT_EQ(parse_duration_ms("5m").value(), 300'000U);
  EXPECT_EQ(parse_duration_ms("5min").value(), 300'000U);
  EXPECT_EQ(parse_duration_ms("1h").value(), 3'600'000U);
  EXPECT_EQ(parse_duration_ms("1.5h").value(), 5'400'000U);
  EXPECT_EQ(parse_duration_ms("10S").value(), 10'000U);
  EXPECT_EQ(parse_duration_ms(" 2m ").value(), 120'000U);
}

TEST(Duration, RejectsBadText) {
  for (std::string_view bad : {"", "abc", "-1", "10x", "5d", "1e3", "10 s", "ms"}) {
    expect_one_line_error_naming(parse_duration_ms(bad), bad);
  }
}

TEST(Duration, RejectsOverflow) {
  expect_one_line_error_naming(parse_duration_ms("99999999999999999999h"), "99999999999999999999h");
  expect_one_line_error_naming(parse_duration_ms("18446744073709552s"), "18446744073709552s");
}

TEST(FormatRate, PicksUnitByMagnitude) {
  EXPECT_EQ(format_rate(0), "0.00 bps");
  EXPECT_EQ(format_rate(999), "999.00 bps");
  EXPECT_EQ(format_rate(1000), "1.00 Kbps");
  EXPECT_EQ(format_rate(285'470'000), "285.47 Mbps");
  EXPECT_EQ(format_rate(1.5e9), "1.50 Gbps");
  EXPECT_EQ(format_rate(2e12), "2.00 Tbps");
}

TEST(FormatRate, StopsAtTerabits) { EXPECT_EQ(format_rate(5e15), "5000.00 Tbps"); }

TEST(FormatRate, NegativeShowsAsZero) { EXPECT_EQ(format_rate(-5), "0.00 bps"); }

TEST(FormatBytes, PlainBytesBelowOneThousand) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(123), "123 B");
  EXPECT_EQ(format_bytes(999), "999 B");
}

TEST(FormatBytes, DecimalUnitsAbove) {
  EXPECT_EQ(format_bytes(1000), "1.00 KB");
  EXPECT_EQ(format_bytes(1'250'000'000), "1.25 GB");
  EXPECT_EQ(format_bytes(3'000'000'000'000), "3.00 TB");
  EXPECT_EQ(format_bytes(UINT64_MAX), "18446.74 PB");
}

}  // namespace
}  // namespace linerate::core
