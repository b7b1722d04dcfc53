// tests/integration/btest_features_test.cpp — client and server features over
// real loopback sockets: spec wire vectors byte for byte, speed caps in the right
// fields, CSV rows, syslog events, session and duration limits, Ctrl-C, IPv6.
#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include "btest/protocol.hpp"
#include "btest_harness.hpp"

namespace linerate::btest::testing {
namespace {

using std::chrono::milliseconds;

std::array<std::byte, 16> from_hex16(const char* hex_text) {
  std::array<std::byte, 16> out{};
  for (std::size_t i = 0; i < 16; ++i) {
    unsigned v = 0;
    std::sscanf(hex_text + 2 * i, "%2x", &v);
    out[i] = static_cast<std::byte>(v);
  }
  return out;
}

// A scripted fake server on 127.0.0.1: sends HELLO, records the client's command,
// then runs `script` on the connection.
class FakeServer {
 public:
  explicit FakeServer(std::function<void(int fd, const Bytes16& cmd)> script) {
    auto addr = core::parse_ip("127.0.0.1", 0);
    auto l = core::tcp_listen(*addr, 4, true);
    EXPECT_TRUE(l.has_value());
    listener_ = std::move(*l);
    port_ = core::local_address(listener_.get())->port();
    thread_ = std::thread([this, script = std::move(script)] {
      auto ready = core::wait_readable(listener_.get(), milliseconds(5000));
      if (!ready || !*ready) {
        return;
      }
      core::SockAddr peer;
      auto fd = core::tcp_accept(listener_.get(), peer);
      if (!fd) {
        return;
      }
      (void)core::write_all(fd->get(), kHello, milliseconds(1000));
      Bytes16 cmd{};
      if (core::read_exact(fd->get(), cmd, milliseconds(2000))) {
        command_ = cmd;
        script(fd->get(), cmd);
      }
    });
  }
  ~FakeServer() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  [[nodiscard]] uint16_t port() const { return port_; }
  void join() { thread_.join(); }
  Bytes16 command_{};

 private:
  core::Fd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
};

ClientConfig fake_client(uint16_t port, Direction dir) {
  ClientConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.direction = dir;
  c.duration = milliseconds(300);
  c.handshake_timeout = milliseconds(2000);
  return c;
}

TEST(BtestWire, ClientSendsCapsInTheRightFields) {
  // Spec §3: remote_tx_speed (bytes 8-11) caps the server, local_tx_speed (12-15)
  // the client. btest-rs swaps them; we must not.
  FakeServer fake([](int fd, const Bytes16&) { (void)core::write_all(fd, encode_ok(0), milliseconds(500)); });
  ClientConfig c = fake_client(fake.port(), Direction::kClientRx);
  c.remote_tx_speed = 100'000'000;
  c.local_tx_speed = 50'000'000;
  (void)run(c);
  fake.join();
  EXPECT_EQ(hex(fake.command_), "01 02 01 00 00 80 00 00 00 e1 f5 05 80 f0 fa 02");
}

TEST(BtestWire, MultiConnectionCommandMatchesThePublishedCapture) {
  // §3.2: "01 03 01 14 00 80 ..." = TCP both, connection-count=20.
  FakeServer fake([](int fd, const Bytes16&) { (void)core::write_all(fd, kReplyAuthFailed, milliseconds(500)); });
  ClientConfig c = fake_client(fake.port(), Direction::kBoth);
  c.connections = 20;
  (void)run(c);
  fake.join();
  EXPECT_EQ(fake.command_, from_hex16("01030114008000000000000000000000"));
}

TEST(BtestWire, Md5ResponseMatchesVectorM1ByteForByte) {
  // §19.1 M1: user test / password test, challenge ad32d6f9..., response 3c9685...
  std::array<std::byte, 48> got{};
  FakeServer fake([&got](int fd, const Bytes16&) {
    std::array<std::byte, 20> msg{};
    msg[0] = std::byte{2};
    auto ch = from_hex16("ad32d6f94d28161625f2f390bb895637");
    std::copy(ch.begin(), ch.end(), msg.begin() + 4);
    (void)core::write_all(fd, msg, milliseconds(500));
    (void)core::read_exact(fd, got, milliseconds(2000));
    (void)core::write_all(fd, encode_ok(0), milliseconds(500));
  });
  ClientConfig c = fake_client(fake.port(), Direction::kClientRx);
  c.auth = Credentials{"test", "test"};
  (void)run(c);
  fake.join();
  EXPECT_EQ(hex(got),
            "3c 96 85 65 bc 03 14 f2 81 a6 da 15 71 cf 72 55 74 65 73 74 00 00 00 00 00 00 00 00 00 00 00 00 "
            "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
}

TEST(BtestWire, ClientReportsMissingCredentialsAndFailedLoginsClearly) {
  {
    FakeServer fake([](int fd, const Bytes16&) {
      std::array<std::byte, 20> msg{};
      msg[0] = std::byte{2};
      (void)core::write_all(fd, msg, milliseconds(500));
    });
    ClientOutcome out = run(fake_client(fake.port(), Direction::kClientRx));
    EXPECT_EQ(out.failure, ClientFailure::kAuthRequired);
    EXPECT_NE(out.error.find("-a USER -p PASSWORD"), std::string::npos);
  }
  {
    // EC-SRP5 demanded (RouterOS 6.43+) and no credentials given.
    FakeServer fake([](int fd, const Bytes16&) { (void)core::write_all(fd, kReplyEcSrp5, milliseconds(500)); });
    ClientOutcome out = run(fake_client(fake.port(), Direction::kClientRx));
    EXPECT_EQ(out.failure, ClientFailure::kAuthRequired);
    EXPECT_NE(out.error.find("-a USER -p PASSWORD"), std::string::npos);
  }
  {
    // EC-SRP5 server that closes after MSG1 (e.g. an unknown user): authentication failed.
    FakeServer fake([](int fd, const Bytes16&) {
      (void)core::write_all(fd, kReplyEcSrp5, milliseconds(500));
      std::array<std::byte, 64> msg1{};
      (void)core::read_exact(fd, std::span(msg1).first(1), milliseconds(2000));
    });
    ClientConfig c = fake_client(fake.port(), Direction::kClientRx);
    c.auth = Credentials{"nobody", "pw"};
    ClientOutcome out = run(c);
    EXPECT_EQ(out.failure, ClientFailure::kAuthFailed);
    EXPECT_EQ(out.error, "authentication failed");
  }
  {
    // Multi-connection asked, plain OK answered: RouterOS says "test unsupported".
    FakeServer fake([](int fd, const Bytes16&) { (void)core::write_all(fd, encode_ok(0), milliseconds(500)); });
    ClientConfig c = fake_client(fake.port(), Direction::kClientRx);
    c.connections = 4;
    ClientOutcome out = run(c);
    EXPECT_EQ(out.failure, ClientFailure::kUnsupported);
  }
}

TEST(BtestWire, ServerStatusRecordsCarryPerIntervalDeltas) {
  // Transmit 1.6 s to our server, reading its status stream raw: aligned 12-byte
  // records, sequence from 1, CPU bit set, byte counts are deltas (§12.2).
  ServerHarness h;
  core::Fd fd = raw_connect(h.port());
  Bytes4 hello{};
  ASSERT_TRUE(core::read_exact(fd.get(), hello, milliseconds(1000)));
  Command cmd;
  cmd.direction = Direction::kClientTx;
  cmd.local_tx_speed = 8'000'000;
  ASSERT_TRUE(core::write_all(fd.get(), encode_command(cmd), milliseconds(1000)));
  Bytes4 ok{};
  ASSERT_TRUE(core::read_exact(fd.get(), ok, milliseconds(1000)));
  // Send 100 KB per 100 ms (8 Mbit/s) and collect status records.
  std::vector<Status> got;
  std::array<std::byte, 100'000> chunk{};
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(core::write_all(fd.get(), chunk, milliseconds(1000)));
    std::this_thread::sleep_for(milliseconds(100));
    while (*core::wait_readable(fd.get(), milliseconds(0))) {
      Bytes12 rec{};
      ASSERT_TRUE(core::read_exact(fd.get(), rec, milliseconds(1000)));
      auto s = decode_status(rec);
      ASSERT_TRUE(s.has_value()) << hex(rec);
      got.push_back(*s);
    }
  }
  ASSERT_GE(got.size(), 2U);
  uint64_t reported = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].seq, i + 1);
    EXPECT_TRUE(got[i].cpu_percent.has_value());
    EXPECT_GT(got[i].bytes, 0U);
    reported += got[i].bytes;
  }
  // Deltas, not running totals: together they never exceed what we sent (running
  // totals over >= 2 intervals would add up to more than the 2.5 MB sent).
  EXPECT_LE(reported, 25U * chunk.size());
}

// Reads `n` bytes of test data from a raw connection after a command.
std::vector<std::byte> data_after_command(uint16_t port, const Command& cmd, std::size_t n) {
  core::Fd fd = raw_connect(port);
  Bytes4 hello{};
  EXPECT_TRUE(core::read_exact(fd.get(), hello, milliseconds(1000)));
  EXPECT_TRUE(core::write_all(fd.get(), encode_command(cmd), milliseconds(1000)));
  Bytes4 ok{};
  EXPECT_TRUE(core::read_exact(fd.get(), ok, milliseconds(1000)));
  std::vector<std::byte> data(n);
  EXPECT_TRUE(core::read_exact(fd.get(), data, milliseconds(3000)));
  return data;
}

std::size_t nonzero(const std::vector<std::byte>& v) {
  return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](std::byte b) { return b != std::byte{0}; }));
}

TEST(BtestWire, RandomDataFlagIsHonouredWhereNoStatusIsInterleaved) {
  ServerHarness h;
  Command cmd;
  cmd.direction = Direction::kClientRx;
  cmd.random_payload = true;  // wire byte 2 = 00
  EXPECT_GT(nonzero(data_after_command(h.port(), cmd, 200'000)), 150'000U);
  cmd.random_payload = false;  // wire byte 2 = 01: zeros (RouterOS default)
  EXPECT_EQ(nonzero(data_after_command(h.port(), cmd, 200'000)), 0U);
  // "both": the server's stream carries status records, so it stays zeros apart
  // from those records (spec §9).
  cmd.direction = Direction::kBoth;
  cmd.random_payload = true;
  EXPECT_LT(nonzero(data_after_command(h.port(), cmd, 200'000)), 100U);
}

TEST(BtestFeatures, SpeedCapsAreHonouredInBothDirections) {
  ServerHarness h;
  ClientConfig c = h.client_config(Direction::kBoth, milliseconds(2000));
  c.remote_tx_speed = 8'000'000;  // server → client
  c.local_tx_speed = 4'000'000;   // client → server
  ClientOutcome out = run(c);
  ASSERT_TRUE(out.started) << out.error;
  const TestRecord& r = out.record;
  // Over 2 s: ~2 MB from the server, ~1 MB from us (one 10 ms chunk of slack each way).
  EXPECT_NEAR(static_cast<double>(r.rx_bytes), 2'000'000.0, 300'000.0);
  EXPECT_NEAR(static_cast<double>(r.tx_bytes), 1'000'000.0, 150'000.0);
}

TEST(BtestFeatures, CsvRowsFromServerAndClientUseTheSameWords) {
  auto dir = std::filesystem::temp_directory_path() / ("btest_csv_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto server_csv = (dir / "server.csv").string();
  ServerConfig cfg;
  cfg.csv_path = server_csv;
  ServerHarness h(cfg);
  (void)run(h.client_config(Direction::kClientTx, milliseconds(400)));
  (void)run(h.client_config(Direction::kBoth, milliseconds(400)));
  h.wait_records(2);
  std::ifstream in(server_csv);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    lines.push_back(l);
  }
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0].rfind("start,mode,peer,user,protocol,direction,connections", 0), 0U);
  EXPECT_NE(lines[1].find(",server,127.0.0.1:"), std::string::npos);
  EXPECT_NE(lines[1].find(",tcp,transmit,1,"), std::string::npos);
  EXPECT_NE(lines[2].find(",tcp,both,1,"), std::string::npos);
  // Reopening appends without a second header.
  {
    ServerHarness h2(cfg);
    (void)run(h2.client_config(Direction::kClientRx, milliseconds(300)));
    h2.wait_records(1);
  }
  std::ifstream in2(server_csv);
  int headers = 0;
  int rows = 0;
  for (std::string l; std::getline(in2, l);) {
    (l.rfind("start,", 0) == 0 ? headers : rows)++;
  }
  EXPECT_EQ(headers, 1);
  EXPECT_EQ(rows, 3);
  std::filesystem::remove_all(dir);
}

TEST(BtestFeatures, SyslogEventsCarryAccurateFields) {
  auto addr = core::parse_ip("127.0.0.1", 0);
  core::Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(sock.get(), addr->get(), addr->len()), 0);
  uint16_t port = core::local_address(sock.get())->port();

  ServerConfig cfg;
  cfg.auth = Credentials{"alice", "pw"};
  cfg.syslog_target = "127.0.0.1:" + std::to_string(port);
  ServerHarness h(cfg);
  ClientConfig bad = h.client_config(Direction::kClientTx, milliseconds(300));
  bad.auth = Credentials{"alice", "nope"};
  EXPECT_EQ(run(bad).failure, ClientFailure::kAuthFailed);
  ClientConfig good = h.client_config(Direction::kClientTx, milliseconds(300));
  good.auth = Credentials{"alice", "pw"};
  ClientOutcome out = run(good);
  ASSERT_TRUE(out.started);
  h.wait_records(1);

  std::vector<std::string> msgs;
  char buf[2048];
  while (msgs.size() < 4 && *core::wait_readable(sock.get(), milliseconds(2000))) {
    ssize_t n = ::recv(sock.get(), buf, sizeof(buf), 0);
    ASSERT_GT(n, 0);
    msgs.emplace_back(buf, static_cast<std::size_t>(n));
  }
  ASSERT_EQ(msgs.size(), 4U);
  EXPECT_NE(msgs[0].find(" AUTH_FAILURE - peer=127.0.0.1:"), std::string::npos) << msgs[0];
  EXPECT_EQ(msgs[0].rfind("<28>1 ", 0), 0U) << "daemon.warning in RFC 5424";
  EXPECT_NE(msgs[1].find(" AUTH_SUCCESS - "), std::string::npos) << msgs[1];
  EXPECT_NE(msgs[1].find("user=alice"), std::string::npos);
  EXPECT_NE(msgs[2].find(" TEST_START - "), std::string::npos) << msgs[2];
  EXPECT_NE(msgs[2].find("direction=transmit connections=1"), std::string::npos);
  EXPECT_NE(msgs[3].find(" TEST_END - "), std::string::npos) << msgs[3];
  EXPECT_NE(msgs[3].find("rx_bytes=" + std::to_string(out.record.tx_bytes)), std::string::npos) << msgs[3];
}

TEST(BtestFeatures, MaxSessionsRefusesTheExtraTestOnly) {
  ServerConfig cfg;
  cfg.max_sessions = 1;
  ServerHarness h(cfg);
  auto first =
      std::async(std::launch::async, [&] { return run(h.client_config(Direction::kClientRx, milliseconds(1500))); });
  // Wait (bounded) until the first test is running.
  for (int i = 0; i < 100 && h.server().active_sessions() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(h.server().active_sessions(), 1U);
  ClientOutcome second = run(h.client_config(Direction::kClientRx, milliseconds(300)));
  EXPECT_FALSE(second.started);
  EXPECT_EQ(second.failure, ClientFailure::kProtocol);
  ClientOutcome one = first.get();
  EXPECT_TRUE(one.started && one.record.ok);
  // The client is done when it has closed; the server's session may still be
  // draining. Its slot is free once the server has recorded the test.
  ASSERT_EQ(h.wait_records(1).size(), 1U);
  ClientOutcome third = run(h.client_config(Direction::kClientRx, milliseconds(300)));
  EXPECT_TRUE(third.started && third.record.ok) << third.error;
}

TEST(BtestFeatures, MaxDurationEndsTheTestAndTheClientSaysSo) {
  ServerConfig cfg;
  cfg.max_duration = milliseconds(700);
  ServerHarness h(cfg);
  ClientOutcome out = run(h.client_config(Direction::kBoth, milliseconds(5000)));
  ASSERT_TRUE(out.started);
  EXPECT_FALSE(out.record.ok);
  EXPECT_NE(out.record.end_reason.find("server ended the test"), std::string::npos) << out.record.end_reason;
  EXPECT_LT(out.record.duration_s, 4.0);
  auto recs = h.wait_records(1);
  ASSERT_EQ(recs.size(), 1U);
  EXPECT_EQ(recs[0].end_reason, "max duration reached");
}

TEST(BtestFeatures, InterruptEndsTheTestCleanlyWithASummary) {
  ServerHarness h;
  core::Interrupt stop;
  std::thread ctrl_c([&] {
    std::this_thread::sleep_for(milliseconds(600));
    stop.request();
  });
  std::vector<IntervalSample> lines;
  ClientOutcome out = run_client(h.client_config(Direction::kClientTx, milliseconds(0)), stop,
                                 [&](const TestRecord&, const IntervalSample& s) { lines.push_back(s); });
  ctrl_c.join();
  ASSERT_TRUE(out.started);
  EXPECT_TRUE(out.record.ok);
  EXPECT_EQ(out.record.end_reason, "interrupted");
  auto recs = h.wait_records(1);
  ASSERT_EQ(recs.size(), 1U);
  EXPECT_EQ(recs[0].rx_bytes, out.record.tx_bytes);
}

TEST(BtestFeatures, WorksOverIpv6) {
  ServerConfig cfg;
  cfg.port = 0;
  cfg.listen = {"::1"};
  cfg.quiet = true;
  auto server = Server::create(cfg);
  if (!server) {
    GTEST_SKIP() << "no IPv6 loopback here: " << server.error().message();
  }
  core::Interrupt stop;
  std::thread t([&] { (*server)->run(stop); });
  ClientConfig c;
  c.host = "::1";
  c.port = (*server)->port();
  c.direction = Direction::kBoth;
  c.connections = 4;
  c.duration = milliseconds(500);
  ClientOutcome out = run(c);
  stop.request();
  t.join();
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_TRUE(out.record.ok);
  EXPECT_EQ(out.record.peer.rfind("[::1]:", 0), 0U);
  EXPECT_GT(out.record.rx_bytes, 0U);
}

}  // namespace
}  // namespace linerate::btest::testing
