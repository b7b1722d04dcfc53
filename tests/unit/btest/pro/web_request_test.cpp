// Unit tests of btest-pro's dashboard request parsing (web/request.hpp): what
// reaches the database is a canonical address, a number in range or a keyword.
#include "btest/pro/web/request.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::btest::pro::web {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

TEST(WebRoute, FixedPagesAndApi) {
  EXPECT_EQ(route("GET", "/")->endpoint, Endpoint::kIndex);
  EXPECT_EQ(route("HEAD", "/metrics")->endpoint, Endpoint::kMetrics);
  EXPECT_EQ(route("GET", "/api/v1/admin/top-ips")->endpoint, Endpoint::kAdminTopIps);
  EXPECT_EQ(route("POST", "/api/v1/admin/login")->endpoint, Endpoint::kAdminLogin);
  EXPECT_FALSE(route("GET", "/").value().is_api());
  EXPECT_TRUE(route("GET", "/healthz").value().is_api());
}

TEST(WebRoute, IpPathsAreCanonical) {
  auto r = route("GET", "/api/v1/ip/::ffff:10.1.2.3/quota");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->endpoint, Endpoint::kIpQuota);
  EXPECT_EQ(r->ip, "10.1.2.3");
  EXPECT_EQ(route("GET", "/ip/2001:DB8:0::1")->ip, "2001:db8::1");
  EXPECT_EQ(route("GET", "/api/v1/ip/127.0.0.1/sessions")->endpoint, Endpoint::kIpSessions);
  EXPECT_EQ(route("GET", "/api/v1/ip/127.0.0.1/export")->endpoint, Endpoint::kIpExport);
}

TEST(WebRoute, HostileIpsAre400) {
  for (const char* bad :
       {"1.2.3", "999.1.1.1", "1' OR '1'='1", ";DROP TABLE sessions;--", "[::1]", "", "1.2.3.4 ", "0x7f.1"}) {
    auto r = route("GET", std::string("/api/v1/ip/") + bad + "/sessions");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400) << bad;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos);
  }
  auto longer = route("GET", "/ip/" + std::string(5000, '1'));
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error().status, 400);
  EXPECT_LT(longer.error().message.size(), 200u);  // quoted, cut to 64 characters
  auto nul = route("GET", std::string("/ip/1.2.3.4\0x", 13));
  ASSERT_FALSE(nul);
  EXPECT_EQ(nul.error().status, 400);
}

TEST(WebRoute, SessionIds) {
  EXPECT_EQ(route("GET", "/api/v1/sessions/1")->id, 1);
  EXPECT_EQ(route("GET", "/api/v1/sessions/9007199254740992/chart.svg")->id, int64_t{1} << 53);
  EXPECT_EQ(route("GET", "/api/v1/sessions/5/intervals")->endpoint, Endpoint::kSessionIntervals);
  for (const char* bad : {"0", "-1", "01", "+1", "1e3", "abc", "9007199254740993", "99999999999999999999", " 1"}) {
    auto r = route("GET", std::string("/api/v1/sessions/") + bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400) << bad;
  }
}

TEST(WebRoute, UnknownIs404AndWrongMethodIs405) {
  EXPECT_EQ(route("GET", "/nope").error().status, 404);
  EXPECT_EQ(route("GET", "/api/v1/sessions/1/nope").error().status, 404);
  EXPECT_EQ(route("GET", "/api/v1/ip/1.2.3.4/nope").error().status, 404);
  EXPECT_EQ(route("GET", "/static/../etc/passwd").error().status, 404);
  EXPECT_EQ(route("GET", "/static/.hidden").error().status, 404);
  EXPECT_EQ(route("DELETE", "/api/v1/sessions/1").error().status, 405);
  EXPECT_EQ(route("GET", "/api/v1/admin/login").error().status, 405);
  EXPECT_EQ(route("POST", "/api/v1/stats").error().status, 405);
}

TEST(WebQuery, DefaultsAndLimits) {
  auto q = parse_query(Endpoint::kIpSessions, {});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->limit, 20u);
  EXPECT_EQ(parse_query(Endpoint::kAdminUsers, {})->limit, 200u);
  EXPECT_EQ(parse_query(Endpoint::kIpSessions, Params{{"limit", "1000"}})->limit, 1000u);
  for (const char* bad : {"0", "1001", "abc", "", "-1", "1.5", "00001"}) {
    auto r = parse_query(Endpoint::kIpSessions, Params{{"limit", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400);
  }
}

TEST(WebQuery, UnknownRepeatedAndKeywords) {
  EXPECT_FALSE(parse_query(Endpoint::kStats, Params{{"x", "1"}}));
  EXPECT_FALSE(parse_query(Endpoint::kIpQuota, Params{{"limit", "5"}}));  // quota takes no limit
  EXPECT_FALSE(parse_query(Endpoint::kIpSessions, Params{{"limit", "1"}, {"limit", "2"}}));
  EXPECT_EQ(parse_query(Endpoint::kIpExport, Params{{"format", "csv"}})->format, "csv");
  EXPECT_FALSE(parse_query(Endpoint::kIpExport, Params{{"format", "xml"}}));
  EXPECT_EQ(parse_query(Endpoint::kAdminTopIps, Params{{"window", "month"}})->window, "month");
  EXPECT_FALSE(parse_query(Endpoint::kAdminTopIps, Params{{"window", "year"}}));
}

TEST(WebToken, PresentedFromBearerOrCookie) {
  EXPECT_EQ(presented_token("Bearer abc", ""), "abc");
  EXPECT_EQ(presented_token("", "a=1; btest_admin=tok; b=2"), "tok");
  EXPECT_EQ(presented_token("", "btest_admin=tok"), "tok");
  EXPECT_EQ(presented_token("Basic xyz", "x_btest_admin=no"), "");
}

TEST(WebToken, MatchesOnlyTheConfiguredToken) {
  EXPECT_TRUE(token_matches("0123456789abcdef", "0123456789abcdef"));
  EXPECT_FALSE(token_matches("0123456789abcdef", "0123456789abcdeg"));
  EXPECT_FALSE(token_matches("0123456789abcdef", "0123456789abcdef0"));
  EXPECT_FALSE(token_matches("0123456789abcdef", ""));
  EXPECT_FALSE(token_matches("", ""));  // no token configured: admin access is off
}

TEST(WebToken, ConfiguredTokenRules) {
  EXPECT_TRUE(check_token("0123456789abcdef"));
  EXPECT_FALSE(check_token("short"));
  EXPECT_FALSE(check_token("0123456789abcdef;x"));
  EXPECT_FALSE(check_token("0123456789 abcdef"));
  EXPECT_FALSE(check_token(std::string(257, 'a')));
}

TEST(WebListen, AddressForms) {
  EXPECT_EQ(parse_listen("127.0.0.1:8080").value(), (std::pair<std::string, uint16_t>{"127.0.0.1", 8080}));
  EXPECT_EQ(parse_listen("[::1]:0").value(), (std::pair<std::string, uint16_t>{"::1", 0}));
  EXPECT_EQ(parse_listen(":80").value(), (std::pair<std::string, uint16_t>{"0.0.0.0", 80}));
  for (const char* bad :
       {"8080", "::1:8080", "localhost:80", "1.2.3.4:65536", "1.2.3.4:", "[1.2.3.4]:80", "1.2.3.4:x"}) {
    auto r = parse_listen(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().find("--web"), std::string::npos);
  }
}

}  // namespace
}  // namespace linerate::btest::pro::web
