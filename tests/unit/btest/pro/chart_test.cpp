// Unit tests of the dashboard's server-side SVG chart (web/chart.hpp).
#include "btest/pro/web/chart.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::btest::pro::web {
namespace {

/// (second, value) of every <circle class="pt SERIES" data-second=.. data-value=..>.
std::vector<std::pair<int, uint64_t>> points(const std::string& svg, const std::string& series) {
  std::vector<std::pair<int, uint64_t>> out;
  const std::string head = "class=\"pt " + series + "\" data-second=\"";
  for (auto at = svg.find(head); at != std::string::npos; at = svg.find(head, at + 1)) {
    std::size_t p = at + head.size();
    const int second = std::stoi(svg.substr(p));
    p = svg.find("data-value=\"", p) + 12;
    out.emplace_back(second, std::stoull(svg.substr(p)));
  }
  return out;
}

SessionRow session(const char* proto, const char* direction) {
  SessionRow s;
  s.id = 42;
  s.proto = proto;
  s.direction = direction;
  return s;
}

IntervalRow iv(uint32_t second, uint64_t in, uint64_t out, uint64_t lost = 0, uint32_t ms = 1000) {
  IntervalRow r;
  r.second = second;
  r.bytes_in = in;
  r.bytes_out = out;
  r.lost = lost;
  r.duration_ms = ms;
  return r;
}

TEST(WebChart, OnePointPerFullSecondPerSeries) {
  std::vector<IntervalRow> rows;
  for (uint32_t i = 0; i < 5; ++i) {
    rows.push_back(iv(i, 25'000'000, 12'500'000));
  }
  rows.push_back(iv(5, 0, 125'000, 0, 16));  // the tail after the last full second
  const std::string svg = svg_chart(session("tcp", "both"), rows);
  auto in = points(svg, "in");
  auto out = points(svg, "out");
  ASSERT_EQ(in.size(), 5u);
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(in[static_cast<std::size_t>(i)], (std::pair<int, uint64_t>{i, 200'000'000}));
    EXPECT_EQ(out[static_cast<std::size_t>(i)], (std::pair<int, uint64_t>{i, 100'000'000}));
  }
  EXPECT_TRUE(points(svg, "lost").empty());  // TCP
  EXPECT_NE(svg.find("data-points=\"5\""), std::string::npos);
}

TEST(WebChart, SeriesFollowTheDirectionAndUdpDrawsLoss) {
  const std::vector<IntervalRow> rows = {iv(0, 0, 1000, 3), iv(1, 0, 2000, 0)};
  const std::string svg = svg_chart(session("udp", "receive"), rows);  // the server sends
  EXPECT_TRUE(points(svg, "in").empty());
  EXPECT_EQ(points(svg, "out").size(), 2u);
  auto lost = points(svg, "lost");
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[0].second, 3u);
  EXPECT_EQ(lost[1].second, 0u);
}

TEST(WebChart, RateOverTheIntervalsOwnLength) {
  EXPECT_EQ(bits_per_second(125'000, 1000), 1'000'000u);
  EXPECT_EQ(bits_per_second(125'000, 500), 2'000'000u);
  EXPECT_EQ(bits_per_second(125'000, 0), 1'000'000u);
  EXPECT_FALSE(drawn(iv(0, 1, 1, 0, 499)));
  EXPECT_TRUE(drawn(iv(0, 1, 1, 0, 500)));
}

TEST(WebChart, LongTestsAreDrawnWithOnePointPerGroupOfSeconds) {
  std::vector<IntervalRow> rows;
  for (uint32_t i = 0; i < 3600; ++i) {
    rows.push_back(iv(i, i % 2 == 0 ? 1000 : 3000, 0, 1));  // average of each pair: 2000 B/s
  }
  const std::string svg = svg_chart(session("udp", "transmit"), rows);
  auto in = points(svg, "in");
  ASSERT_EQ(in.size(), 600u);  // kMaxPoints
  EXPECT_NE(svg.find("data-seconds-per-point=\"6\""), std::string::npos);
  for (std::size_t k = 0; k < in.size(); ++k) {
    EXPECT_EQ(in[k].first, static_cast<int>(k * 6));
    EXPECT_EQ(in[k].second, 16'000u);  // 2000 B/s = 16 kbit/s
  }
  EXPECT_EQ(points(svg, "lost")[0].second, 6u);  // summed over the group
}

TEST(WebChart, EmptySessionIsWellFormed) {
  const std::string svg = svg_chart(session("tcp", "transmit"), {});
  EXPECT_NE(svg.find("waiting for the first second"), std::string::npos);
  EXPECT_EQ(svg.rfind("</svg>"), svg.size() - 7);
}

}  // namespace
}  // namespace linerate::btest::pro::web
