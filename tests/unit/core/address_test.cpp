// Unit tests for core/address (parse, print, resolve) and the host:port splitter
// that core/syslog uses for its target.
#include "core/address.hpp"

#include <string>
#include <string_view>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "core/syslog.hpp"

namespace linerate::core {
namespace {

TEST(ParseIp, ParsesIpv4) {
  auto a = parse_ip("192.0.2.1", 2000);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->port(), 2000);
  EXPECT_EQ(a->len(), sizeof(sockaddr_in));
  EXPECT_EQ(a->ip(), "192.0.2.1");
  EXPECT_EQ(a->to_string(), "192.0.2.1:2000");
}

TEST(ParseIp, ParsesIpv6) {
  auto a = parse_ip("2001:db8::1", 2000);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->len(), sizeof(sockaddr_in6));
  EXPECT_EQ(a->port(), 2000);
  EXPECT_EQ(a->ip(), "2001:db8::1");
}

TEST(ParseIp, AcceptsBracketedIpv6) {
  auto a = parse_ip("[::1]", 55);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->ip(), "::1");
  EXPECT_EQ(a->port(), 55);
}

TEST(ParseIp, RejectsNonAddressesNamingTheText) {
  for (std::string_view bad : {"", "localhost", "1.2.3", "256.1.1.1", "1.2.3.4.5", "::1::2", "[::1", "::1]", "[]",
                               "1.2.3.4:80", "gggg::1", " 1.2.3.4"}) {
    auto a = parse_ip(bad, 1);
    ASSERT_FALSE(a.has_value()) << "accepted '" << bad << "'";
    std::string msg = a.error().message();
    EXPECT_NE(msg.find("'" + std::string(bad) + "'"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(ParseIp, RejectsEmbeddedNul) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(parse_ip("1.2.3.4\0junk"sv, 1).has_value());
  EXPECT_FALSE(parse_ip("::1\0"sv, 1).has_value());
}

TEST(SockAddr, PrintsV4MappedIpv6AsPlainIpv4) {
  auto a = parse_ip("::ffff:192.0.2.7", 2000);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET6);
  EXPECT_EQ(a->ip(), "192.0.2.7");
  EXPECT_EQ(a->to_string(), "192.0.2.7:2000");
}

TEST(SockAddr, V4MappedIsSameHostAsPlainV4) {
  auto mapped = parse_ip("::ffff:10.0.0.1", 1);
  auto plain = parse_ip("10.0.0.1", 2);
  auto other = parse_ip("10.0.0.2", 1);
  ASSERT_TRUE(mapped && plain && other);
  EXPECT_TRUE(mapped->same_host(*plain));
  EXPECT_TRUE(plain->same_host(*mapped));
  EXPECT_FALSE(plain->same_host(*other));
}

TEST(SockAddr, ToStringBracketsIpv6) {
  auto a = parse_ip("2001:db8::1", 2000);
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->to_string(), "[2001:db8::1]:2000");
  auto lo = parse_ip("::1", 0);
  ASSERT_TRUE(lo.has_value());
  EXPECT_EQ(lo->to_string(), "[::1]:0");
}

TEST(SockAddr, SetPortChangesOnlyThePort) {
  auto a = parse_ip("198.51.100.4", 1);
  ASSERT_TRUE(a.has_value());
  a->set_port(65535);
  EXPECT_EQ(a->port(), 65535);
  EXPECT_EQ(a->ip(), "198.51.100.4");
}

TEST(SockAddr, DefaultIsUnknownFamily) {
  SockAddr a;
  EXPECT_EQ(a.len(), 0U);
  EXPECT_EQ(a.port(), 0);
  EXPECT_EQ(a.ip(), "?");
}

TEST(Resolve, LiteralNeedsNoResolver) {
  auto r = resolve("192.0.2.9", 7);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(r->size(), 1U);
  EXPECT_EQ((*r)[0].to_string(), "192.0.2.9:7");
  auto v6 = resolve("[::1]", 8);
  ASSERT_TRUE(v6.has_value()) << v6.error().message();
  ASSERT_EQ(v6->size(), 1U);
  EXPECT_EQ((*v6)[0].to_string(), "[::1]:8");
}

TEST(Resolve, LocalhostResolvesToLoopbackWithPort) {
  auto r = resolve("localhost", 2000);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_FALSE(r->empty());
  for (const SockAddr& a : *r) {
    EXPECT_EQ(a.port(), 2000);
    EXPECT_TRUE(a.ip() == "127.0.0.1" || a.ip() == "::1") << a.ip();
  }
}

TEST(Resolve, RejectsEmbeddedNul) {
  using namespace std::string_view_literals;
  EXPECT_FALSE(resolve("localhost\0.example"sv, 1).has_value());
  EXPECT_FALSE(resolve("127.0.0.1\0"sv, 1).has_value());
}

TEST(Resolve, RejectsEmptyHost) {
  auto r = resolve("", 1);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("empty"), std::string::npos);
}

TEST(SplitHostPort, HostAloneGetsDefaultPort) {
  auto r = split_host_port("h", 514);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->first, "h");
  EXPECT_EQ(r->second, 514);
}

TEST(SplitHostPort, HostWithPort) {
  auto r = split_host_port("h:514", 1);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->first, "h");
  EXPECT_EQ(r->second, 514);
  auto v4 = split_host_port("192.0.2.1:65535", 1);
  ASSERT_TRUE(v4.has_value()) << v4.error().message();
  EXPECT_EQ(v4->first, "192.0.2.1");
  EXPECT_EQ(v4->second, 65535);
}

TEST(SplitHostPort, BracketedIpv6WithPort) {
  auto r = split_host_port("[::1]:55", 514);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->first, "::1");
  EXPECT_EQ(r->second, 55);
}

TEST(SplitHostPort, BracketedIpv6WithoutPort) {
  auto r = split_host_port("[2001:db8::1]", 514);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->first, "2001:db8::1");
  EXPECT_EQ(r->second, 514);
}

TEST(SplitHostPort, BareIpv6IsAllHost) {
  auto r = split_host_port("::1", 514);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->first, "::1");
  EXPECT_EQ(r->second, 514);
}

TEST(SplitHostPort, RejectsBadPortsNamingThem) {
  for (std::string_view bad :
       {"h:0", "h:99999", "h:65536", "h:x", "h:", "h:-1", "h:+5", "h:5x", "[::1]:0", "[::1]:", "[::1]:x"}) {
    auto r = split_host_port(bad, 514);
    ASSERT_FALSE(r.has_value()) << "accepted '" << bad << "'";
    std::string msg = r.error().message();
    EXPECT_NE(msg.find("'" + std::string(bad) + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("port"), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(SplitHostPort, RejectsMalformedBrackets) {
  for (std::string_view bad : {"[::1", "[::1]x", "[::1]]:5", "[]", "[]:5"}) {
    auto r = split_host_port(bad, 514);
    ASSERT_FALSE(r.has_value()) << "accepted '" << bad << "'";
    EXPECT_NE(r.error().message().find("'" + std::string(bad) + "'"), std::string::npos) << r.error().message();
  }
}

TEST(SplitHostPort, RejectsEmptyHost) {
  EXPECT_FALSE(split_host_port("", 514).has_value());
  EXPECT_FALSE(split_host_port(":514", 514).has_value());
}

}  // namespace
}  // namespace linerate::core
