// Unit tests of btest-pro's Monitor (live tests, counters, Prometheus text).
#include "btest/pro/monitor.hpp"

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace linerate::btest::pro {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(Monitor, LiveTestsComeAndGo) {
  Monitor m;
  auto t = std::make_shared<LiveTest>();
  t->ip = "192.0.2.1";
  m.test_started(t);
  m.test_interval(*t, 1000, 2000, 3);
  m.test_interval(*t, 10, 20, 0);
  auto live = m.live();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].ip, "192.0.2.1");
  EXPECT_EQ(live[0].seconds, 2u);
  EXPECT_EQ(live[0].bytes_in, 1010u);
  EXPECT_EQ(live[0].bytes_out, 2020u);
  EXPECT_EQ(live[0].last_in, 10u);
  EXPECT_EQ(live[0].lost, 3u);
  EXPECT_EQ(m.totals().sessions_active, 1u);
  m.test_ended(t);
  EXPECT_TRUE(m.live().empty());
  EXPECT_EQ(m.totals().tests_started, 1u);
  EXPECT_EQ(m.totals().bytes_out, 2020u);
}

TEST(Monitor, PrometheusTextHasEveryFamilyAndCumulativeBuckets) {
  Monitor m;
  m.login("ecsrp5", true);
  m.login("md5", false);
  m.login("none", true);  // not a method with a series: ignored
  m.rejection("auth_failed");
  m.rejection("quota_daily_ip");
  m.rejection("quota_daily_ip");
  m.flush(std::chrono::microseconds(700), true, 1);
  m.flush(std::chrono::milliseconds(30), false, 2);
  m.http_answer(200);
  const std::string text = m.prometheus_text();
  for (const char* family : {"btest_sessions_active", "btest_tests_started_total", "btest_bytes_received_total",
                             "btest_bytes_sent_total", "btest_logins_total", "btest_rejections_total",
                             "btest_db_flush_seconds", "btest_db_flush_failures_total", "btest_http_requests_total"}) {
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
    EXPECT_NE(text.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
  }
  EXPECT_TRUE(has_line(text, "btest_logins_total{method=\"ecsrp5\",result=\"ok\"} 1"));
  EXPECT_TRUE(has_line(text, "btest_logins_total{method=\"md5\",result=\"failed\"} 1"));
  EXPECT_TRUE(has_line(text, "btest_rejections_total{reason=\"quota_daily_ip\"} 2"));
  EXPECT_TRUE(has_line(text, "btest_db_flush_seconds_bucket{le=\"0.0005\"} 0"));
  EXPECT_TRUE(has_line(text, "btest_db_flush_seconds_bucket{le=\"0.001\"} 1"));
  EXPECT_TRUE(has_line(text, "btest_db_flush_seconds_bucket{le=\"0.05\"} 2"));
  EXPECT_TRUE(has_line(text, "btest_db_flush_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has_line(text, "btest_db_flush_seconds_count 2"));
  EXPECT_TRUE(has_line(text, "btest_db_flush_failures_total 1"));
  EXPECT_TRUE(has_line(text, "btest_http_requests_total{code=\"200\"} 1"));
  EXPECT_TRUE(m.writer_failing());
  EXPECT_EQ(m.last_flush_unix_ms(), 1);
}

TEST(Monitor, LabelValuesAreEscaped) {
  Monitor m;
  m.rejection("a\"b\\c\nd");
  EXPECT_TRUE(has_line(m.prometheus_text(), "btest_rejections_total{reason=\"a\\\"b\\\\c\\nd\"} 1"));
}

}  // namespace
}  // namespace linerate::btest::pro
