// tests/integration/btest_tcp_test.cpp — our client against our server over real
// loopback sockets: every direction × {1, 4, 20} connections × {no auth, MD5 ok,
// MD5 wrong}. Checks that both sides count the same bytes and that per-second
// figures add up to the totals.
#include <string>
#include <tuple>

#include <gtest/gtest.h>

#include "btest_harness.hpp"

namespace linerate::btest::testing {
namespace {

enum class AuthCase { kNone, kMd5Ok, kMd5Wrong, kEcSrp5Ok, kEcSrp5Wrong };

std::string auth_name(AuthCase a) {
  switch (a) {
    case AuthCase::kNone:
      return "NoAuth";
    case AuthCase::kMd5Ok:
      return "Md5Ok";
    case AuthCase::kMd5Wrong:
      return "Md5Wrong";
    case AuthCase::kEcSrp5Ok:
      return "EcSrp5Ok";
    case AuthCase::kEcSrp5Wrong:
      return "EcSrp5Wrong";
  }
  return "?";
}

using MatrixParam = std::tuple<Direction, unsigned, AuthCase>;

class TcpMatrix : public ::testing::TestWithParam<MatrixParam> {};

TEST_P(TcpMatrix, BothSidesAgreeOnEveryByte) {
  const auto [dir, conns, auth] = GetParam();
  ServerConfig scfg;
  scfg.secondary_timeout = std::chrono::milliseconds(3000);
  const bool ec = auth == AuthCase::kEcSrp5Ok || auth == AuthCase::kEcSrp5Wrong;
  const bool wrong = auth == AuthCase::kMd5Wrong || auth == AuthCase::kEcSrp5Wrong;
  if (auth != AuthCase::kNone) {
    scfg.auth = Credentials{"tester", "s3cret"};
    scfg.auth_method = ec ? AuthMethod::kEcSrp5 : AuthMethod::kMd5;
  }
  ServerHarness h(scfg);
  // 1.6 s: the server's first status (at its 1 s tick) must reach us with margin on a loaded CI.
  ClientConfig c = h.client_config(dir, std::chrono::milliseconds(1600));
  c.connections = conns;
  if (auth != AuthCase::kNone) {
    c.auth = Credentials{"tester", wrong ? "wrong" : "s3cret"};
  }

  ClientOutcome out = run(c);

  if (wrong) {
    EXPECT_FALSE(out.started);
    EXPECT_EQ(out.failure, ClientFailure::kAuthFailed);
    EXPECT_EQ(out.error, "authentication failed");
    EXPECT_EQ(h.server().stats().auth_failures, 1U);
    EXPECT_EQ(h.server().stats().tests_started, 0U);
    return;
  }
  ASSERT_TRUE(out.started) << out.error;
  const TestRecord& cl = out.record;
  EXPECT_TRUE(cl.ok) << cl.end_reason;
  EXPECT_EQ(cl.end_reason, "duration reached");
  // Ending must not wait for an idle timeout (30 s): the drain grace is 2 s.
  EXPECT_LT(cl.duration_s, 5.0) << "the test did not end promptly after its duration";
  EXPECT_EQ(cl.connections, conns);
  EXPECT_TRUE(out.warnings.empty());

  auto records = h.wait_records(1);
  ASSERT_EQ(records.size(), 1U);
  const TestRecord& sv = records[0];
  EXPECT_EQ(sv.connections, conns);
  EXPECT_EQ(sv.direction, dir);
  EXPECT_EQ(sv.user, auth == AuthCase::kNone ? "" : "tester");
  EXPECT_EQ(cl.auth, auth == AuthCase::kNone ? "none" : ec ? "ecsrp5" : "md5");
  EXPECT_EQ(sv.auth, cl.auth);

  // Every byte the client wrote arrived at the server, and vice versa. The
  // receiver also counts the sender's 12-byte status records (spec §9).
  EXPECT_EQ(sv.rx_bytes, cl.tx_bytes);
  EXPECT_EQ(cl.rx_bytes, sv.tx_bytes + 12 * sv.status_sent);
  if (client_sends(dir)) {
    EXPECT_GT(cl.tx_bytes, 0U);
    EXPECT_GE(sv.status_sent, 1U);
    // What the server reported in status records never exceeds what it received,
    // and at least one report reached the client.
    EXPECT_GT(cl.peer_rx_bytes, 0U);
    EXPECT_LE(cl.peer_rx_bytes, sv.rx_bytes);
  } else {
    EXPECT_EQ(cl.tx_bytes, 0U);
    EXPECT_EQ(sv.status_sent, 0U);
  }
  if (server_sends(dir)) {
    EXPECT_GT(sv.tx_bytes, 0U);
  } else {
    EXPECT_EQ(sv.tx_bytes, 0U);
  }

  // Per-second figures add up to the totals on both sides.
  EXPECT_EQ(sum_tx(cl), cl.tx_bytes);
  EXPECT_EQ(sum_rx(cl), cl.rx_bytes);
  EXPECT_EQ(sum_tx(sv), sv.tx_bytes);
  EXPECT_EQ(sum_rx(sv), sv.rx_bytes);
  EXPECT_GE(cl.intervals.size(), 1U);
}

INSTANTIATE_TEST_SUITE_P(AllDirections, TcpMatrix,
                         ::testing::Combine(::testing::Values(Direction::kClientTx, Direction::kClientRx,
                                                              Direction::kBoth),
                                            ::testing::Values(1U, 4U, 20U),
                                            ::testing::Values(AuthCase::kNone, AuthCase::kMd5Ok, AuthCase::kMd5Wrong,
                                                              AuthCase::kEcSrp5Ok, AuthCase::kEcSrp5Wrong)),
                         [](const ::testing::TestParamInfo<MatrixParam>& p) {
                           return std::string(direction_name(std::get<0>(p.param))) + "_" +
                                  std::to_string(std::get<1>(p.param)) + "conn_" + auth_name(std::get<2>(p.param));
                         });

}  // namespace
}  // namespace linerate::btest::testing
