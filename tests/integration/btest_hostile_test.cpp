// tests/integration/btest_hostile_test.cpp — bad peers against a real server.
// Each case plays the peer byte by byte over loopback, checks the server drops it
// (bounded wait), and then runs a normal test that must still pass. The server
// must not leak file descriptors or sessions.
#include <array>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include "btest/protocol.hpp"
#include "btest_harness.hpp"

namespace linerate::btest::testing {
namespace {

using std::chrono::milliseconds;

ServerConfig short_timeouts() {
  ServerConfig c;
  c.handshake_timeout = milliseconds(500);
  c.secondary_timeout = milliseconds(500);
  c.idle_timeout = milliseconds(3000);
  return c;
}

void expect_normal_test_passes(ServerHarness& h) {
  ClientOutcome out = run(h.client_config(Direction::kBoth, milliseconds(600)));
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_TRUE(out.record.ok) << out.record.end_reason;
  EXPECT_GT(out.record.tx_bytes, 0U);
  EXPECT_GT(out.record.rx_bytes, 0U);
}

void read_hello(int fd) {
  Bytes4 hello{};
  ASSERT_TRUE(core::read_exact(fd, hello, milliseconds(2000)));
  ASSERT_EQ(hello, kHello);
}

// Wait (bounded) until the server has no running test and no handshake in flight.
void wait_idle(ServerHarness& h, std::size_t fds_before) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline &&
         (h.server().active_sessions() != 0 || open_fd_count() > fds_before)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(h.server().active_sessions(), 0U);
  EXPECT_LE(open_fd_count(), fds_before) << "server leaked file descriptors";
}

TEST(BtestHostile, RandomBytesAreDroppedAndServingContinues) {
  ServerHarness h(short_timeouts());
  const std::size_t fds = open_fd_count();
  std::mt19937 rng(1234);  // fixed seed: reproducible junk
  for (int round = 0; round < 20; ++round) {
    core::Fd fd = raw_connect(h.port());
    read_hello(fd.get());
    std::array<std::byte, 600> junk{};
    for (auto& b : junk) {
      b = static_cast<std::byte>(rng() % 256);
    }
    junk[0] = std::byte{0xF3};  // never a valid proto, never a live token
    (void)core::write_all(fd.get(), junk, milliseconds(1000));
    EXPECT_TRUE(closed_within(fd.get(), milliseconds(3000))) << "round " << round;
  }
  EXPECT_GE(h.server().stats().dropped, 20U);
  expect_normal_test_passes(h);
  wait_idle(h, fds);
}

TEST(BtestHostile, InvalidDirectionIsRejected) {
  ServerHarness h(short_timeouts());
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  Bytes16 cmd = encode_command(Command{});
  cmd[1] = std::byte{0x07};
  ASSERT_TRUE(core::write_all(fd.get(), cmd, milliseconds(1000)));
  EXPECT_TRUE(closed_within(fd.get(), milliseconds(2000)));
  expect_normal_test_passes(h);
}

TEST(BtestHostile, TruncatedCommandTimesOutWhileOthersAreServed) {
  ServerHarness h(short_timeouts());
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  std::array<std::byte, 5> part{std::byte{1}, std::byte{3}, std::byte{1}, std::byte{0}, std::byte{0}};
  ASSERT_TRUE(core::write_all(fd.get(), part, milliseconds(1000)));
  // A normal test runs while the truncated peer is still hanging.
  expect_normal_test_passes(h);
  EXPECT_TRUE(closed_within(fd.get(), milliseconds(3000)));
}

TEST(BtestHostile, SilentPeerAfterConnectIsDropped) {
  ServerHarness h(short_timeouts());
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  EXPECT_TRUE(closed_within(fd.get(), milliseconds(3000)));
  expect_normal_test_passes(h);
}

TEST(BtestHostile, StallInsideMd5HandshakeIsDropped) {
  ServerConfig cfg = short_timeouts();
  cfg.auth = Credentials{"u", "p"};
  ServerHarness h(cfg);
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  ASSERT_TRUE(core::write_all(fd.get(), encode_command(Command{}), milliseconds(1000)));
  std::array<std::byte, 20> challenge{};
  ASSERT_TRUE(core::read_exact(fd.get(), challenge, milliseconds(2000)));
  EXPECT_EQ(challenge[0], std::byte{2});
  // Send half of the 48-byte answer and stall.
  std::array<std::byte, 24> half{};
  ASSERT_TRUE(core::write_all(fd.get(), half, milliseconds(1000)));
  EXPECT_TRUE(closed_within(fd.get(), milliseconds(3000)));

  ClientConfig c = h.client_config(Direction::kClientTx, milliseconds(500));
  c.auth = Credentials{"u", "p"};
  ClientOutcome out = run(c);
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_TRUE(out.record.ok);
}

TEST(BtestHostile, MissingSecondariesTimeOutAndTheTestRunsWithThePrimary) {
  ServerHarness h(short_timeouts());
  const std::size_t fds = open_fd_count();
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  Command cmd;
  cmd.direction = Direction::kClientRx;
  cmd.conn_count = 255;
  ASSERT_TRUE(core::write_all(fd.get(), encode_command(cmd), milliseconds(1000)));
  Bytes4 ok{};
  ASSERT_TRUE(core::read_exact(fd.get(), ok, milliseconds(2000)));
  Reply r = decode_reply(ok);
  ASSERT_EQ(r.kind, ReplyKind::kOk);
  EXPECT_GE(r.token >> 8, 0x02) << "token must never look like a command (spec §10)";
  EXPECT_NE(r.token & 0xFF, 0);
  // No secondaries arrive. After the secondary timeout the server sends data on
  // the primary alone.
  std::array<std::byte, 65536> buf{};
  ASSERT_TRUE(core::read_exact(fd.get(), buf, milliseconds(3000)));
  // Meanwhile another client is served.
  expect_normal_test_passes(h);
  fd.reset();
  auto recs = h.wait_records(2);
  ASSERT_EQ(recs.size(), 2U);
  bool found = false;
  for (const auto& rec : recs) {
    if (rec.direction == Direction::kClientRx) {
      EXPECT_EQ(rec.connections, 1U);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  wait_idle(h, fds);
}

TEST(BtestHostile, SecondaryWithUnknownTokenIsDropped) {
  ServerHarness h(short_timeouts());
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  Bytes16 sec{};
  sec[0] = std::byte{0x42};
  sec[1] = std::byte{0x42};
  ASSERT_TRUE(core::write_all(fd.get(), sec, milliseconds(1000)));
  EXPECT_TRUE(closed_within(fd.get(), milliseconds(2000)));
  expect_normal_test_passes(h);
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

TEST(BtestHostile, ZeroTxSizeWithSpeedLimitNeitherSpinsNorFloods) {
  // The btest-rs server spins at 100% CPU on this command (tx_size 0 + a cap).
  ServerHarness h(short_timeouts());
  core::Fd fd = raw_connect(h.port());
  read_hello(fd.get());
  Command cmd;
  cmd.direction = Direction::kClientRx;  // the server transmits
  cmd.tx_size = 0;
  cmd.remote_tx_speed = 8000;  // 1000 bytes/s
  ASSERT_TRUE(core::write_all(fd.get(), encode_command(cmd), milliseconds(1000)));
  Bytes4 ok{};
  ASSERT_TRUE(core::read_exact(fd.get(), ok, milliseconds(2000)));
  ASSERT_EQ(decode_reply(ok).kind, ReplyKind::kOk);

  const double cpu0 = process_cpu_seconds();
  uint64_t received = 0;
  const auto end = std::chrono::steady_clock::now() + milliseconds(2000);
  std::array<std::byte, 4096> buf{};
  while (std::chrono::steady_clock::now() < end) {
    auto left = std::chrono::duration_cast<core::Millis>(end - std::chrono::steady_clock::now());
    auto readable = core::wait_readable(fd.get(), left);
    if (!readable || !*readable) {
      break;
    }
    ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
    ASSERT_GT(n, 0);
    received += static_cast<uint64_t>(n);
  }
  const double cpu_used = process_cpu_seconds() - cpu0;
  // 2 s at 1000 B/s is ~2000 bytes; allow one extra second of slack.
  EXPECT_GT(received, 500U);
  EXPECT_LT(received, 3100U);
  // A spinning sender would burn ~2 s of CPU here; pacing uses next to none.
  EXPECT_LT(cpu_used, 0.8);
  fd.reset();
  expect_normal_test_passes(h);
}

TEST(BtestHostile, PeerVanishingMidTestEndsItsSessionOnly) {
  ServerHarness h(short_timeouts());
  const std::size_t fds = open_fd_count();
  {
    core::Fd fd = raw_connect(h.port());
    read_hello(fd.get());
    Command cmd;
    cmd.direction = Direction::kBoth;
    ASSERT_TRUE(core::write_all(fd.get(), encode_command(cmd), milliseconds(1000)));
    Bytes4 ok{};
    ASSERT_TRUE(core::read_exact(fd.get(), ok, milliseconds(2000)));
    // Reset the connection abruptly (SO_LINGER 0) without reading the data.
    linger lg{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  auto recs = h.wait_records(1);
  ASSERT_EQ(recs.size(), 1U);
  expect_normal_test_passes(h);
  wait_idle(h, fds);
}

}  // namespace
}  // namespace linerate::btest::testing
