// tests/integration/btest_cli_parse_test.cpp — the btest command line as a pure
// function: flags map to the right config, bad input is a one-line usage error.
#include <gtest/gtest.h>

#include "cli.hpp"

namespace linerate::btest::cli {
namespace {

Parsed parse(std::vector<std::string> args) { return parse_cli(args); }

TEST(BtestCli, ClientDefaultsFollowRouterOs) {
  Parsed p = parse({"-c", "192.0.2.1"});
  ASSERT_EQ(p.action, Parsed::Action::kRunClient) << p.text;
  const ClientConfig& c = p.client->config;
  EXPECT_EQ(c.host, "192.0.2.1");
  EXPECT_EQ(c.port, 2000);
  EXPECT_EQ(c.direction, Direction::kClientRx);
  EXPECT_EQ(c.connections, 1U);
  EXPECT_EQ(c.duration.count(), 10'000);
  EXPECT_FALSE(c.auth.has_value());
}

TEST(BtestCli, DirectionFlags) {
  EXPECT_EQ(parse({"-c", "h", "-t"}).client->config.direction, Direction::kClientTx);
  EXPECT_EQ(parse({"-c", "h", "-r"}).client->config.direction, Direction::kClientRx);
  EXPECT_EQ(parse({"-c", "h", "-t", "-r"}).client->config.direction, Direction::kBoth);
  EXPECT_EQ(parse({"-c", "h", "--direction", "both"}).client->config.direction, Direction::kBoth);
  EXPECT_EQ(parse({"-c", "h", "--direction", "both", "-t"}).action, Parsed::Action::kUsageError);
}

TEST(BtestCli, BandwidthGoesToBothCapsUnlessOverridden) {
  Parsed p = parse({"-c", "h", "-b", "100M", "--local-tx-speed", "1.5M"});
  ASSERT_EQ(p.action, Parsed::Action::kRunClient) << p.text;
  EXPECT_EQ(p.client->config.remote_tx_speed, 100'000'000U);
  EXPECT_EQ(p.client->config.local_tx_speed, 1'500'000U);
}

TEST(BtestCli, UdpFlagsMapToTheConfig) {
  Parsed p = parse({"-c", "h", "-u", "-t", "--udp-size", "1400", "--remote-udp-tx-size", "64000", "--no-offload",
                    "--udp6-overhead", "28"});
  ASSERT_EQ(p.action, Parsed::Action::kRunClient) << p.text;
  const ClientConfig& c = p.client->config;
  EXPECT_EQ(c.proto, Proto::kUdp);
  EXPECT_EQ(c.udp_tx_size, 1400U);
  EXPECT_EQ(c.udp_remote_tx_size, 64000U);
  EXPECT_FALSE(c.udp_offload);
  EXPECT_EQ(c.udp_ipv6_overhead, 28U);
  const ClientConfig d = parse({"-c", "h", "-u"}).client->config;
  EXPECT_EQ(d.udp_tx_size, 1500U);  // RouterOS default, both sides
  EXPECT_EQ(d.udp_remote_tx_size, 1500U);
  EXPECT_EQ(d.udp_ipv6_overhead, 48U);
  EXPECT_EQ(parse({"-c", "h"}).client->config.proto, Proto::kTcp);

  Parsed s = parse({"-s", "--udp-ports", "3001-3010"});
  ASSERT_EQ(s.action, Parsed::Action::kRunServer) << s.text;
  EXPECT_EQ(s.server->config.udp_port_first, 3001);
  EXPECT_EQ(s.server->config.udp_port_last, 3010);
  Parsed sd = parse({"-s"});
  EXPECT_EQ(sd.server->config.udp_port_first, 2001);
  EXPECT_EQ(sd.server->config.udp_port_last, 2100);
}

TEST(BtestCli, UdpBadInputNamesTheProblem) {
  for (const auto& [args, needle] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"-c", "h", "-u", "--udp-size", "64001"}, "64001"},
           {{"-c", "h", "-u", "--udp-size", "27"}, "28-64000"},
           {{"-c", "h", "--udp-size", "1500"}, "need -u"},
           {{"-s", "--udp-ports", "65300-65400"}, "65279"},
           {{"-s", "--udp-ports", "2100-2001"}, "FIRST-LAST"},
           {{"-s", "--udp-ports", "2001-21x"}, "2001-21x"},
           {{"-s", "--udp6-overhead", "40"}, "udp6-overhead"},
           {{"-s", "-u"}, "client"},
       }) {
    Parsed p = parse(args);
    EXPECT_EQ(p.action, Parsed::Action::kUsageError) << ::testing::PrintToString(args);
    EXPECT_NE(p.text.find(needle), std::string::npos) << p.text;
    EXPECT_EQ(p.text.find('\n'), std::string::npos) << p.text;
  }
}

TEST(BtestCli, RejectsBadInputWithOneLine) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"-c", "h", "-b", "10X"},
           {"-c", "h", "-b", "-5M"},
           {"-c", "h", "-b", "5G"},
           {"-c", "h", "-d", "abc"},
           {"-c", "h", "--connections", "0"},
           {"-c", "h", "--connections", "256"},
           {"-c", "h", "-P", "70000"},
           {"-c", "h", "-a", "admin"},
           {"-c", "h", "-p", "pw"},
           {"-s", "-c", "h"},
           {"-s", "--listen", "::1"},
           {"-s", "--listen6", "10.0.0.1"},
           {},
       }) {
    Parsed p = parse(args);
    EXPECT_EQ(p.action, Parsed::Action::kUsageError) << "args: " << ::testing::PrintToString(args);
    EXPECT_EQ(p.exit_code, kExitUsage);
    EXPECT_FALSE(p.text.empty());
    EXPECT_EQ(p.text.find('\n'), std::string::npos) << p.text;
  }
}

TEST(BtestCli, AuthNeedsBothFlagsButAllowsEmptyPassword) {
  Parsed p = parse({"-c", "h", "-a", "admin", "-p", ""});
  ASSERT_EQ(p.action, Parsed::Action::kRunClient) << p.text;
  ASSERT_TRUE(p.client->config.auth.has_value());
  EXPECT_EQ(p.client->config.auth->user, "admin");
  EXPECT_EQ(p.client->config.auth->password, "");
}

TEST(BtestCli, ServerOptions) {
  Parsed p = parse({"-s", "-P", "2001", "--listen", "127.0.0.1", "--max-sessions", "5", "--max-duration", "1m", "-a",
                    "u", "-p", "pw", "--syslog", "127.0.0.1:5514", "--syslog-format", "3164"});
  ASSERT_EQ(p.action, Parsed::Action::kRunServer) << p.text;
  const ServerConfig& s = p.server->config;
  EXPECT_EQ(s.port, 2001);
  EXPECT_EQ(s.listen, std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(s.max_sessions, 5U);
  EXPECT_EQ(s.max_duration.count(), 60'000);
  EXPECT_EQ(s.syslog_format, core::SyslogFormat::kRfc3164);
  EXPECT_FALSE(p.server->default_listen);
  Parsed d = parse({"-s"});
  EXPECT_TRUE(d.server->default_listen);
  EXPECT_EQ(d.server->config.listen, (std::vector<std::string>{"0.0.0.0", "::"}));
}

TEST(BtestCli, HelpAndVersionPrint) {
  Parsed h = parse({"--help"});
  EXPECT_EQ(h.action, Parsed::Action::kPrint);
  EXPECT_NE(h.text.find("Exit status"), std::string::npos);
  EXPECT_EQ(parse({"-V"}).action, Parsed::Action::kPrint);
}

}  // namespace
}  // namespace linerate::btest::cli

namespace linerate::btest::cli {
namespace {

TEST(BtestCli, OptionsOfTheOtherModeAreUsageErrors) {
  Parsed a = parse_cli({"-s", "--json"});
  EXPECT_EQ(a.action, Parsed::Action::kUsageError);
  EXPECT_NE(a.text.find("--json is a client option"), std::string::npos) << a.text;
  Parsed b = parse_cli({"-c", "h", "--max-sessions", "3"});
  EXPECT_EQ(b.action, Parsed::Action::kUsageError);
  EXPECT_NE(b.text.find("server option"), std::string::npos) << b.text;
}

}  // namespace
}  // namespace linerate::btest::cli

namespace linerate::btest::cli {
namespace {

TEST(BtestCli, ServerAuthMethod) {
  EXPECT_EQ(parse_cli({"-s", "-a", "u", "-p", "pw"}).server->config.auth_method, AuthMethod::kEcSrp5);
  EXPECT_EQ(parse_cli({"-s", "-a", "u", "-p", "pw", "--auth", "md5"}).server->config.auth_method, AuthMethod::kMd5);
  EXPECT_EQ(parse_cli({"-s"}).server->config.auth_method, AuthMethod::kNone);
  EXPECT_EQ(parse_cli({"-s", "--auth", "ecsrp5"}).action, Parsed::Action::kUsageError);
  EXPECT_EQ(parse_cli({"-s", "--auth", "none", "-a", "u", "-p", "pw"}).action, Parsed::Action::kUsageError);
  EXPECT_EQ(parse_cli({"-s", "--auth", "sha1", "-a", "u", "-p", "pw"}).action, Parsed::Action::kUsageError);
}

}  // namespace
}  // namespace linerate::btest::cli
