// tests/integration/btest_udp_test.cpp — UDP tests (spec §11, §12, §13) between
// our client and our server over real loopback sockets: every direction × tx
// sizes × {1, 4} connections with datagram counts checked exactly on both sides,
// rate accuracy, authentication, port recycling, a client that vanishes, hostile
// datagrams, and an unlimited (adaptive) run.
//
// Ports. CTest runs these cases as parallel processes, next to other test
// binaries, so every server gets its own block of UDP ports: a block is claimed
// by binding a TCP socket on its first port (TCP and UDP port spaces are
// separate, so the claim occupies no UDP port, and a second process cannot claim
// the same block). Blocks lie in 20000-31999, below the kernel's ephemeral range;
// within each 512-port stretch the first 256 ports hold server blocks and the
// next 256 their clients' ports (server port + 256, §11.1).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "btest/protocol.hpp"
#include "btest/udp_transfer.hpp"
#include "btest_harness.hpp"

namespace linerate::btest::testing {
namespace {

using std::chrono::milliseconds;

// A block of kWidth server UDP ports (plus their client ports) held for one test.
class UdpPortBlock {
 public:
  static constexpr unsigned kWidth = 8;          // server ports per block
  static constexpr unsigned kBlocksPerRun = 16;  // 16 blocks of 16 ports in each 256-port half
  static constexpr unsigned kLow = 20000;
  static constexpr unsigned kRuns = (32000 - kLow) / 512;

  UdpPortBlock() {
    static std::atomic<unsigned> counter{0};
    const unsigned slots = kRuns * kBlocksPerRun;
    const unsigned start = (static_cast<unsigned>(::getpid()) * 37U + counter.fetch_add(1) * 5U) % slots;
    for (unsigned i = 0; i < slots; ++i) {
      const unsigned slot = (start + i) % slots;
      const auto first = static_cast<uint16_t>(kLow + (slot / kBlocksPerRun) * 512 + (slot % kBlocksPerRun) * 16);
      core::Fd claim(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(first);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (claim && ::bind(claim.get(), reinterpret_cast<const sockaddr*>(&a), sizeof(a)) == 0) {
        claim_ = std::move(claim);
        first_ = first;
        return;
      }
    }
    ADD_FAILURE() << "no free UDP port block in " << kLow << "-31999";
  }

  [[nodiscard]] uint16_t first() const { return first_; }
  [[nodiscard]] uint16_t last() const { return static_cast<uint16_t>(first_ + kWidth - 1); }

  /// Server config using this block (optionally fewer ports).
  [[nodiscard]] ServerConfig server_config(unsigned ports = kWidth) const {
    ServerConfig c;
    c.udp_port_first = first_;
    c.udp_port_last = static_cast<uint16_t>(first_ + std::min(ports, kWidth) - 1);
    return c;
  }

 private:
  core::Fd claim_;
  uint16_t first_ = 0;
};

// On-wire size of a datagram for a configured tx size (payload clamped to 4, §11.4).
unsigned wire_size(unsigned tx_size) {
  return static_cast<unsigned>(udp_payload_bytes(tx_size, kUdpOverheadIpv4) + kUdpOverheadIpv4);
}

ClientConfig udp_client(const ServerHarness& h, Direction dir, milliseconds duration, unsigned size, uint64_t cap_bps) {
  ClientConfig c = h.client_config(dir, duration);
  c.proto = Proto::kUdp;
  c.udp_tx_size = size;
  c.udp_remote_tx_size = size;
  c.local_tx_speed = cap_bps;
  c.remote_tx_speed = cap_bps;
  return c;
}

// Run one client test and fetch the server's record of it (the n-th).
struct Pair {
  ClientOutcome client;
  TestRecord server;
  bool have_server = false;
};
Pair run_pair(ServerHarness& h, const ClientConfig& c, std::size_t n = 1) {
  Pair p;
  p.client = run(c);
  if (!p.client.started) {
    return p;
  }
  auto recs = h.wait_records(n);
  if (recs.size() >= n) {
    p.server = recs[n - 1];
    p.have_server = true;
  }
  return p;
}

// What one side sent, the other received or counted lost (§11.5), and byte counts
// are datagrams × on-wire size (§11.4). Exact: loopback, capped, every datagram
// in flight is drained before either side closes its socket.
// One direction of a test: what `from` sent is exactly what `to` received plus
// what it counted lost, and the bytes are datagrams x wire size (§11.4). When
// that direction is idle, neither side counts anything.
void expect_one_way(const TestRecord& from, const TestRecord& to, bool active, unsigned wire, const char* from_name,
                    const char* to_name) {
  if (!active) {
    EXPECT_EQ(from.udp.tx_datagrams, 0U) << from_name;
    EXPECT_EQ(from.tx_bytes, 0U) << from_name;
    EXPECT_EQ(to.udp.rx_datagrams, 0U) << to_name;
    EXPECT_EQ(to.rx_bytes, 0U) << to_name;
    return;
  }
  EXPECT_GT(from.udp.tx_datagrams, 0U);
  EXPECT_GT(to.udp.rx_datagrams, 0U);
  EXPECT_EQ(from.udp.tx_datagrams, to.udp.rx_datagrams + to.udp.lost)
      << from_name << " sent " << from.udp.tx_datagrams << ", " << to_name << " received " << to.udp.rx_datagrams
      << " + lost " << to.udp.lost;
  EXPECT_EQ(from.tx_bytes, from.udp.tx_datagrams * wire);
  EXPECT_EQ(to.udp.duplicates, 0U);
  EXPECT_EQ(to.rx_bytes, (to.udp.rx_datagrams + to.udp.duplicates) * wire);
}

void expect_counts_agree(const Pair& p, Direction dir, unsigned client_wire, unsigned server_wire) {
  const TestRecord& cl = p.client.record;
  const TestRecord& sv = p.server;
  ASSERT_TRUE(p.have_server) << "the server recorded no test";
  EXPECT_EQ(cl.proto, Proto::kUdp);
  EXPECT_EQ(sv.proto, Proto::kUdp);
  EXPECT_EQ(cl.udp.tx_size, client_wire);
  EXPECT_EQ(sv.udp.tx_size, server_wire);
  EXPECT_EQ(cl.udp.overhead, kUdpOverheadIpv4);
  EXPECT_EQ(sv.udp.overhead, kUdpOverheadIpv4);
  EXPECT_EQ(cl.udp.port, sv.udp.port);

  expect_one_way(cl, sv, client_sends(dir), client_wire, "client", "server");
  expect_one_way(sv, cl, server_sends(dir), server_wire, "server", "client");
  EXPECT_EQ(cl.udp.malformed, 0U);
  EXPECT_EQ(sv.udp.malformed, 0U);
  EXPECT_EQ(cl.udp.foreign, 0U);
  EXPECT_EQ(sv.udp.foreign, 0U);

  // Per-second figures add up to the totals on both sides.
  EXPECT_EQ(sum_tx(cl), cl.tx_bytes);
  EXPECT_EQ(sum_rx(cl), cl.rx_bytes);
  EXPECT_EQ(sum_tx(sv), sv.tx_bytes);
  EXPECT_EQ(sum_rx(sv), sv.rx_bytes);
}

// Mean bit/s over the whole intervals (at least half a second long) of a record.
double interval_rate_bps(const TestRecord& r, bool tx) {
  uint64_t bytes = 0;
  double secs = 0;
  for (const auto& i : r.intervals) {
    if (i.seconds >= 0.5) {
      bytes += tx ? i.tx_bytes : i.rx_bytes;
      secs += i.seconds;
    }
  }
  return secs > 0 ? static_cast<double>(bytes) * 8 / secs : 0;
}

// ---------------------------------------------------------------------------
// The matrix: direction × tx size × connections.
// ---------------------------------------------------------------------------

using MatrixParam = std::tuple<Direction, unsigned, unsigned>;

class UdpMatrix : public ::testing::TestWithParam<MatrixParam> {};

TEST_P(UdpMatrix, EveryDatagramIsReceivedOrCountedLost) {
  const auto [dir, size, conns] = GetParam();
  constexpr uint64_t kCap = 20'000'000;
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  ClientConfig c = udp_client(h, dir, milliseconds(1000), size, kCap);
  c.connections = conns;

  Pair p = run_pair(h, c);
  ASSERT_TRUE(p.client.started) << p.client.error;
  const TestRecord& cl = p.client.record;
  EXPECT_TRUE(cl.ok) << cl.end_reason;
  EXPECT_EQ(cl.end_reason, "duration reached");
  EXPECT_LT(cl.duration_s, 4.0) << "the test did not end promptly after its duration";
  EXPECT_TRUE(p.client.warnings.empty()) << p.client.warnings.front();
  EXPECT_EQ(cl.connections, conns);
  ASSERT_TRUE(p.have_server);
  EXPECT_TRUE(p.server.ok) << p.server.end_reason;
  EXPECT_EQ(p.server.connections, conns);
  EXPECT_EQ(p.server.direction, dir);
  EXPECT_GE(p.server.udp.port, ports.first());
  EXPECT_LE(p.server.udp.port, ports.last());

  const unsigned wire = wire_size(size);
  expect_counts_agree(p, dir, wire, wire);

  // The caps hold: never more than cap × elapsed time plus one grant.
  const double slack_bits = 8.0 * 64 * std::max(wire, 1500U) * 2;
  EXPECT_LE(static_cast<double>(cl.tx_bytes) * 8, kCap * cl.duration_s + slack_bits);
  EXPECT_LE(static_cast<double>(p.server.tx_bytes) * 8, kCap * p.server.duration_s + slack_bits);
  EXPECT_EQ(h.server().udp_ports_in_use(), 0U);
}

INSTANTIATE_TEST_SUITE_P(
    AllDirectionsSizes, UdpMatrix,
    ::testing::Combine(::testing::Values(Direction::kClientTx, Direction::kClientRx, Direction::kBoth),
                       ::testing::Values(28U, 512U, 1500U, 9000U, 64000U), ::testing::Values(1U, 4U)),
    [](const ::testing::TestParamInfo<MatrixParam>& p) {
      return std::string(direction_name(std::get<0>(p.param))) + "_" + std::to_string(std::get<1>(p.param)) + "B_" +
             std::to_string(std::get<2>(p.param)) + "conn";
    });

TEST(BtestUdp, DifferentSizesPerDirection) {
  // local-udp-tx-size and remote-udp-tx-size differ: each side sends its own size,
  // and the client's receiver expects the server's (only the remote one is on the wire).
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  ClientConfig c = udp_client(h, Direction::kBoth, milliseconds(1000), 600, 20'000'000);
  c.udp_remote_tx_size = 1200;
  Pair p = run_pair(h, c);
  ASSERT_TRUE(p.client.started) << p.client.error;
  expect_counts_agree(p, Direction::kBoth, 600, 1200);
}

TEST(BtestUdp, SizeAbove64000IsRefusedClearly) {
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  for (auto [local, remote] : {std::pair{64001U, 1500U}, std::pair{1500U, 64001U}, std::pair{65535U, 65535U}}) {
    ClientConfig c = udp_client(h, Direction::kBoth, milliseconds(500), 1500, 1'000'000);
    c.udp_tx_size = local;
    c.udp_remote_tx_size = remote;
    ClientOutcome out = run(c);
    EXPECT_FALSE(out.started);
    EXPECT_EQ(out.failure, ClientFailure::kUnsupported);
    EXPECT_NE(out.error.find("64000"), std::string::npos) << out.error;
  }
  // Nothing reached the server.
  EXPECT_EQ(h.server().stats().accepted, 0U);
}

// ---------------------------------------------------------------------------
// Rate accuracy (§13.1).
// ---------------------------------------------------------------------------

TEST(BtestUdp, TenMegabitCapIsMetWithinTenPercent) {
  constexpr uint64_t kRate = 10'000'000;
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  ClientConfig c = udp_client(h, Direction::kBoth, milliseconds(3000), 1500, kRate);
  Pair p = run_pair(h, c);
  ASSERT_TRUE(p.client.started) << p.client.error;
  expect_counts_agree(p, Direction::kBoth, 1500, 1500);
  const double client_tx = interval_rate_bps(p.client.record, true);
  const double client_rx = interval_rate_bps(p.client.record, false);
  const double server_rx = interval_rate_bps(p.server, false);
  EXPECT_NEAR(client_tx, kRate, kRate * 0.10);
  EXPECT_NEAR(client_rx, kRate, kRate * 0.10);  // what the server sent, as received
  EXPECT_NEAR(server_rx, kRate, kRate * 0.10);
  // The server's status records (§12) reached the client and report what it received.
  EXPECT_GT(p.client.record.peer_rx_bytes, 0U);
  EXPECT_LE(p.client.record.peer_rx_bytes, p.server.rx_bytes);
}

TEST(BtestUdp, UnlimitedRunAdaptsAndAccountsForAlmostEverything) {
  // No cap: the sender adapts to the peer's reports (§13.2). Loss is possible
  // (socket buffers overflow); datagrams dropped after the last one received are
  // invisible to the receiver, so received + lost may fall short of sent, but only
  // by a little, and can never exceed it.
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  ClientConfig c = udp_client(h, Direction::kBoth, milliseconds(2000), 1500, 0);
  Pair p = run_pair(h, c);
  ASSERT_TRUE(p.client.started) << p.client.error;
  ASSERT_TRUE(p.have_server);
  const TestRecord& cl = p.client.record;
  const TestRecord& sv = p.server;
  EXPECT_TRUE(cl.ok) << cl.end_reason;
  auto check = [](const char* what, uint64_t sent, uint64_t received, uint64_t lost) {
    EXPECT_GT(sent, 1000U) << what;
    EXPECT_GT(received, 0U) << what;
    EXPECT_LE(received + lost, sent) << what;
    const uint64_t unseen = sent - std::min(sent, received + lost);
    EXPECT_LE(unseen, std::max<uint64_t>(sent / 50, 512))
        << what << ": sent " << sent << ", received " << received << ", lost " << lost;
  };
  check("client to server", cl.udp.tx_datagrams, sv.udp.rx_datagrams, sv.udp.lost);
  check("server to client", sv.udp.tx_datagrams, cl.udp.rx_datagrams, cl.udp.lost);
  EXPECT_EQ(cl.tx_bytes, cl.udp.tx_datagrams * 1500);
  EXPECT_EQ(sv.tx_bytes, sv.udp.tx_datagrams * 1500);
  EXPECT_EQ(h.server().udp_ports_in_use(), 0U);
}

// ---------------------------------------------------------------------------
// Authentication before the UDP port is announced.
// ---------------------------------------------------------------------------

class UdpAuth : public ::testing::TestWithParam<AuthMethod> {};

TEST_P(UdpAuth, CorrectPasswordRunsTheTestWrongOneFails) {
  const AuthMethod method = GetParam();
  UdpPortBlock ports;
  ServerConfig scfg = ports.server_config();
  scfg.auth = Credentials{"tester", "s3cret"};
  scfg.auth_method = method;
  ServerHarness h(scfg);

  ClientConfig c = udp_client(h, Direction::kBoth, milliseconds(1000), 1500, 20'000'000);
  c.auth = Credentials{"tester", "s3cret"};
  Pair p = run_pair(h, c);
  ASSERT_TRUE(p.client.started) << p.client.error;
  const std::string want_auth = method == AuthMethod::kMd5 ? "md5" : "ecsrp5";
  EXPECT_EQ(p.client.record.auth, want_auth);
  ASSERT_TRUE(p.have_server);
  EXPECT_EQ(p.server.auth, want_auth);
  EXPECT_EQ(p.server.user, "tester");
  expect_counts_agree(p, Direction::kBoth, 1500, 1500);

  c.auth = Credentials{"tester", "wrong"};
  ClientOutcome bad = run(c);
  EXPECT_FALSE(bad.started);
  EXPECT_EQ(bad.failure, ClientFailure::kAuthFailed);
  EXPECT_EQ(h.server().stats().auth_failures, 1U);
  EXPECT_EQ(h.server().stats().tests_started, 1U);
  EXPECT_EQ(h.server().udp_ports_in_use(), 0U);  // no port leased for a failed login
}

INSTANTIATE_TEST_SUITE_P(Methods, UdpAuth, ::testing::Values(AuthMethod::kMd5, AuthMethod::kEcSrp5),
                         [](const ::testing::TestParamInfo<AuthMethod>& p) {
                           return p.param == AuthMethod::kMd5 ? std::string("Md5") : std::string("EcSrp5");
                         });

// ---------------------------------------------------------------------------
// Ports (§11.1).
// ---------------------------------------------------------------------------

TEST(BtestUdp, PortsAreRecycledAcrossSequentialTests) {
  // A range of two ports serves five tests in a row (btest-rs's counter would
  // have run out after two).
  UdpPortBlock ports;
  ServerHarness h(ports.server_config(2));
  for (std::size_t i = 1; i <= 5; ++i) {
    ClientConfig c =
        udp_client(h, i % 2 == 0 ? Direction::kClientTx : Direction::kBoth, milliseconds(400), 512, 10'000'000);
    Pair p = run_pair(h, c, i);
    ASSERT_TRUE(p.client.started) << "test " << i << ": " << p.client.error;
    EXPECT_TRUE(p.client.record.ok) << "test " << i << ": " << p.client.record.end_reason;
    ASSERT_TRUE(p.have_server) << "test " << i;
    EXPECT_GE(p.server.udp.port, ports.first()) << "test " << i;
    EXPECT_LE(p.server.udp.port, ports.first() + 1) << "test " << i;
    EXPECT_EQ(h.server().udp_ports_in_use(), 0U) << "test " << i;
  }
  EXPECT_EQ(h.server().stats().tests_finished, 5U);
  EXPECT_EQ(h.server().stats().dropped, 0U);
}

TEST(BtestUdp, FullRangeRefusesTheNextTestAndServesAgainAfterwards) {
  // One port: a second concurrent test gets no port and a clean refusal.
  UdpPortBlock ports;
  ServerHarness h(ports.server_config(1));
  auto first = std::async(std::launch::async, [&] {
    return run(udp_client(h, Direction::kClientTx, milliseconds(1500), 1500, 5'000'000));
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (h.server().udp_ports_in_use() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(h.server().udp_ports_in_use(), 1U);
  ClientOutcome second = run(udp_client(h, Direction::kClientTx, milliseconds(500), 1500, 5'000'000));
  EXPECT_FALSE(second.started);
  EXPECT_NE(second.failure, ClientFailure::kNone);
  ClientOutcome one = first.get();
  EXPECT_TRUE(one.started) << one.error;
  EXPECT_TRUE(one.record.ok) << one.record.end_reason;
  (void)h.wait_records(1);
  EXPECT_EQ(h.server().udp_ports_in_use(), 0U);
  Pair again = run_pair(h, udp_client(h, Direction::kClientTx, milliseconds(400), 1500, 5'000'000), 2);
  EXPECT_TRUE(again.client.started) << again.client.error;
  EXPECT_TRUE(again.have_server);
}

// ---------------------------------------------------------------------------
// A client that vanishes: raw control connection, then close (§11.7, §15).
// ---------------------------------------------------------------------------

// Receive whatever arrives on `fd` for `period`; returns the datagram count.
std::size_t drain_udp(int fd, milliseconds period) {
  std::size_t n = 0;
  std::array<std::byte, 65536> buf{};
  const auto end = std::chrono::steady_clock::now() + period;
  for (int i = 0; i < 1'000'000; ++i) {
    const auto left = std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    while (::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) >= 0) {
      ++n;
    }
  }
  return n;
}

TEST(BtestUdp, VanishedClientEndsTheTestAndTheServerStopsSending) {
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  core::Fd ctl = raw_connect(h.port());
  Bytes4 hello{};
  ASSERT_TRUE(core::read_exact(ctl.get(), hello, milliseconds(2000)));
  ASSERT_EQ(hello, kHello);
  // §3.2 "UDP receive, 1500 B", with the server capped at 5 Mbit/s.
  Command cmd;
  cmd.proto = Proto::kUdp;
  cmd.direction = Direction::kClientRx;
  cmd.tx_size = 1500;
  cmd.remote_tx_speed = 5'000'000;
  const Bytes16 wire = encode_command(cmd);
  EXPECT_EQ(hex(wire), "00 02 01 00 dc 05 00 00 40 4b 4c 00 00 00 00 00");
  ASSERT_TRUE(core::write_all(ctl.get(), wire, milliseconds(1000)));
  Bytes4 ok{};
  ASSERT_TRUE(core::read_exact(ctl.get(), ok, milliseconds(2000)));
  EXPECT_EQ(hex(ok), "01 00 00 00");
  std::array<std::byte, 2> port_be{};
  ASSERT_TRUE(core::read_exact(ctl.get(), port_be, milliseconds(2000)));
  const auto udp_port =
      static_cast<uint16_t>((static_cast<unsigned>(port_be[0]) << 8) | static_cast<unsigned>(port_be[1]));
  EXPECT_GE(udp_port, ports.first());
  EXPECT_LE(udp_port, ports.last());

  auto me = core::parse_ip("127.0.0.1", static_cast<uint16_t>(udp_port + 256));  // §11.1
  ASSERT_TRUE(me);
  auto sock = core::udp_bind(*me, 1 << 20);
  ASSERT_TRUE(sock) << sock.error().message();
  // Datagrams of 1472 payload bytes arrive, numbered (§11.2).
  std::array<std::byte, 2048> buf{};
  std::size_t got = 0;
  for (int i = 0; i < 200 && got < 20; ++i) {
    pollfd p{sock->get(), POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) {
      continue;
    }
    const ssize_t n = ::recv(sock->get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (n >= 0) {
      EXPECT_EQ(n, 1472);
      ++got;
    }
  }
  ASSERT_GE(got, 20U) << "no datagrams from the server";
  EXPECT_EQ(h.server().udp_ports_in_use(), 1U);

  ctl.reset();  // the client vanishes
  const auto closed_at = std::chrono::steady_clock::now();
  auto recs = h.wait_records(1, milliseconds(5000));
  ASSERT_EQ(recs.size(), 1U) << "the server did not end the test";
  EXPECT_LT(std::chrono::steady_clock::now() - closed_at, std::chrono::seconds(3));
  EXPECT_EQ(recs[0].proto, Proto::kUdp);
  EXPECT_GT(recs[0].udp.tx_datagrams, 0U);
  EXPECT_EQ(h.server().udp_ports_in_use(), 0U);
  // Whatever was in flight arrives now; from 2 s after the close, nothing more.
  (void)drain_udp(sock->get(), std::chrono::duration_cast<milliseconds>(closed_at + std::chrono::seconds(2) -
                                                                        std::chrono::steady_clock::now()));
  EXPECT_EQ(drain_udp(sock->get(), milliseconds(700)), 0U) << "the server is still sending";
}

// ---------------------------------------------------------------------------
// Hostile datagrams while a test runs.
// ---------------------------------------------------------------------------

core::Fd udp_from(const char* ip) {
  auto a = core::parse_ip(ip, 0);
  EXPECT_TRUE(a);
  auto fd = core::udp_bind(*a, 0);
  EXPECT_TRUE(fd) << (fd ? "" : fd.error().message());
  return fd ? std::move(*fd) : core::Fd();
}

void send_to(int fd, uint16_t port, std::span<const std::byte> data) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::sendto(fd, data.data(), data.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof(a)),
            static_cast<ssize_t>(data.size()));
}

TEST(BtestUdp, ForeignAndMalformedDatagramsAreCountedAndIgnored) {
  UdpPortBlock ports;
  ServerHarness h(ports.server_config());
  core::Fd stranger = udp_from("127.0.0.2");  // another address: not the test's peer
  core::Fd shorty = udp_from("127.0.0.1");    // the client's address, another port
  ASSERT_TRUE(stranger.valid() && shorty.valid());

  constexpr int kForeign = 10;
  ClientConfig c = udp_client(h, Direction::kClientTx, milliseconds(2500), 1500, 10'000'000);
  uint16_t attacked = 0;
  auto on_interval = [&](const TestRecord& r, const IntervalSample& s) {
    if (s.index != 1) {
      return;
    }
    attacked = r.udp.port;
    std::array<std::byte, 1472> junk{};
    junk.fill(std::byte{0xEE});  // a sequence number far ahead: would be huge loss if accepted
    for (int i = 0; i < kForeign; ++i) {
      send_to(stranger.get(), attacked, junk);
    }
    for (std::size_t n = 1; n <= 3; ++n) {
      send_to(shorty.get(), attacked, std::span(junk).first(n));
    }
  };
  core::Interrupt never;
  ClientOutcome out = run_client(c, never, on_interval);
  ASSERT_TRUE(out.started) << out.error;
  ASSERT_NE(attacked, 0U) << "the test ended before its first interval";
  EXPECT_TRUE(out.record.ok) << out.record.end_reason;
  auto recs = h.wait_records(1);
  ASSERT_EQ(recs.size(), 1U);
  const TestRecord& sv = recs[0];
  EXPECT_EQ(sv.udp.port, attacked);
  EXPECT_EQ(sv.udp.foreign, static_cast<uint64_t>(kForeign));
  EXPECT_EQ(sv.udp.malformed, 3U);
  // The test's own accounting is untouched.
  EXPECT_EQ(out.record.udp.tx_datagrams, sv.udp.rx_datagrams + sv.udp.lost);
  EXPECT_EQ(sv.udp.lost, 0U);
  EXPECT_EQ(sv.rx_bytes, sv.udp.rx_datagrams * 1500);

  // The server keeps serving.
  Pair next = run_pair(h, udp_client(h, Direction::kBoth, milliseconds(800), 1500, 10'000'000), 2);
  ASSERT_TRUE(next.client.started) << next.client.error;
  expect_counts_agree(next, Direction::kBoth, 1500, 1500);
  EXPECT_EQ(h.server().udp_ports_in_use(), 0U);
}

}  // namespace
}  // namespace linerate::btest::testing
