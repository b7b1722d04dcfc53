// Unit tests for core/syslog: message layout for RFC 5424 and RFC 3164, and a real
// datagram to a UDP socket on loopback (port 0, read back).
#include "core/syslog.hpp"

#include <array>
#include <string>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/socket.hpp"

namespace linerate::core {
namespace {

// A UDP socket bound on 127.0.0.1 port 0.
struct UdpSink {
  Fd fd;
  uint16_t port = 0;
};

UdpSink bind_udp_sink() {
  UdpSink sink;
  sink.fd = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sink.fd) {
    ADD_FAILURE() << "socket failed";
    return sink;
  }
  auto addr = parse_ip("127.0.0.1", 0);
  if (!addr || ::bind(sink.fd.get(), addr->get(), addr->len()) != 0) {
    ADD_FAILURE() << "bind failed";
    return sink;
  }
  auto local = local_address(sink.fd.get());
  if (!local) {
    ADD_FAILURE() << local.error().message();
    return sink;
  }
  sink.port = local->port();
  return sink;
}

// One datagram, or "" when none arrives within timeout_ms.
std::string receive_one(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    return {};
  }
  std::array<char, 2048> buf{};
  ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
  if (n <= 0) {
    return {};
  }
  return std::string(buf.data(), static_cast<std::size_t>(n));
}

std::string pid_text() { return std::to_string(::getpid()); }

TEST(Syslog, Rfc5424LayoutHasPriMsgIdAndText) {
  auto s = SyslogSender::open("127.0.0.1:9", SyslogFormat::kRfc5424, "btest");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  std::string m = s->format(SyslogSeverity::kInfo, "TEST_START", "peer=192.0.2.1 proto=tcp");
  // daemon (3) * 8 + info (6) = 30.
  ASSERT_EQ(m.rfind("<30>1 ", 0), 0U) << m;
  // "<30>1 2024-01-02T03:04:05Z host btest 123 TEST_START - peer=..."
  EXPECT_EQ(m[10], '-') << m;
  EXPECT_EQ(m[25], 'Z') << m;
  EXPECT_NE(m.find(" btest " + pid_text() + " TEST_START - peer=192.0.2.1 proto=tcp"), std::string::npos) << m;
  EXPECT_EQ(m.substr(m.size() - 24), "peer=192.0.2.1 proto=tcp");
}

TEST(Syslog, Rfc3164LayoutHasPriTagAndText) {
  auto s = SyslogSender::open("127.0.0.1:9", SyslogFormat::kRfc3164, "btest");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  std::string m = s->format(SyslogSeverity::kInfo, "TEST_END", "rx_bps=1000");
  ASSERT_EQ(m.rfind("<30>", 0), 0U) << m;
  // "<30>Mmm dd hh:mm:ss host btest[pid]: TEST_END rx_bps=1000"; day is space-padded.
  EXPECT_EQ(m[7], ' ') << m;
  EXPECT_EQ(m[13], ':') << m;
  EXPECT_EQ(m[16], ':') << m;
  EXPECT_NE(m.find(" btest[" + pid_text() + "]: TEST_END rx_bps=1000"), std::string::npos) << m;
}

TEST(Syslog, PriFollowsSeverity) {
  auto s = SyslogSender::open("127.0.0.1:9", SyslogFormat::kRfc5424, "btest");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  EXPECT_EQ(s->format(SyslogSeverity::kError, "E", "x").rfind("<27>", 0), 0U);
  EXPECT_EQ(s->format(SyslogSeverity::kWarning, "W", "x").rfind("<28>", 0), 0U);
  EXPECT_EQ(s->format(SyslogSeverity::kNotice, "N", "x").rfind("<29>", 0), 0U);
}

TEST(Syslog, SendArrivesAtUdpCollector) {
  UdpSink sink = bind_udp_sink();
  ASSERT_NE(sink.port, 0);
  auto s = SyslogSender::open("127.0.0.1:" + std::to_string(sink.port), SyslogFormat::kRfc5424, "btest");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  ASSERT_TRUE(s->send(SyslogSeverity::kInfo, "TEST_START", "peer=x").has_value());
  std::string got = receive_one(sink.fd.get(), 2000);
  ASSERT_FALSE(got.empty()) << "no datagram within 2 s";
  EXPECT_EQ(got.rfind("<30>1 ", 0), 0U) << got;
  EXPECT_NE(got.find(" TEST_START - peer=x"), std::string::npos) << got;
}

TEST(Syslog, SendArrivesViaBracketedIpv4Literal) {
  UdpSink sink = bind_udp_sink();
  ASSERT_NE(sink.port, 0);
  auto s = SyslogSender::open("[127.0.0.1]:" + std::to_string(sink.port), SyslogFormat::kRfc3164, "lr");
  ASSERT_TRUE(s.has_value()) << s.error().message();
  ASSERT_TRUE(s->send(SyslogSeverity::kWarning, "AUTH_FAIL", "user=bob").has_value());
  std::string got = receive_one(sink.fd.get(), 2000);
  ASSERT_FALSE(got.empty()) << "no datagram within 2 s";
  EXPECT_EQ(got.rfind("<28>", 0), 0U) << got;
  EXPECT_NE(got.find(": AUTH_FAIL user=bob"), std::string::npos) << got;
}

TEST(Syslog, OpenRejectsBadTarget) {
  auto s = SyslogSender::open("127.0.0.1:0", SyslogFormat::kRfc5424, "btest");
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("'127.0.0.1:0'"), std::string::npos) << s.error().message();
}

}  // namespace
}  // namespace linerate::core
