// tests/integration/btest_pro_serve_test.cpp — the btest-pro server end to end, the
// same suite on both backends (a temp SQLite file and a real PostgreSQL server).
//
// Each test runs pro::run_server in this process on 127.0.0.1 and drives it with
// the real btest client (btest::run_client) over loopback sockets; the database is
// then read through a separate Store::open on the same URL, after the server has
// stopped (its writer's last flush) or by polling with a bound. The durability test
// runs the btest-pro binary as a child process and SIGKILLs it mid-test.
//
// What is asserted and why the bounds hold (pro_server.cpp, file comment):
//   - TCP send: ByteBudget::take_out(len) comes before each write of at most
//     kTcpWriteBytes (256 KiB) and a refused batch is not sent, so one session
//     sends limit - 256 KiB < bytes_out < limit; N sessions of one principal
//     share one budget and overshoot it by at most one batch each.
//   - TCP receive: take_in comes after each recv of at most 256 KiB, so
//     limit <= bytes_in < limit + 256 KiB.
//   - Loopback moves GB/s, so quotas of tens of MB are reached in milliseconds:
//     "duration < 5 s" of a 10 s test is a functional bound (the test stopped at
//     the quota), not a benchmark.
//
// The in-process server binds port 0 and reports it through
// ServeConfig::on_ready (pro_in_process.hpp). The btest-pro binary cannot, so
// for it the fixture picks a free port (bind 127.0.0.1:0, read it, close),
// retries with a new one if the server cannot bind it, and takes the btest
// HELLO on a probe connection as readiness, which also proves that the
// listener is ours and not another program's.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "btest/client.hpp"
#include "btest/ecsrp5.hpp"
#include "btest/pro/pro_server.hpp"
#include "btest/pro/store.hpp"
#include "btest/pro/windows.hpp"
#include "btest/tcp_transfer.hpp"
#include "btest/udp_batch.hpp"
#include "core/interrupt.hpp"
#include "pro_backends.hpp"
#include "pro_in_process.hpp"

#ifndef LR_BTEST_PRO_BIN
#error "LR_BTEST_PRO_BIN must name the btest-pro binary"
#endif

namespace linerate::btest::pro {
namespace {

using linerate::testing::InProcessServer;
using linerate::testing::kSigpipeIgnored;
using linerate::testing::TempDir;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kMB = 1'000'000;
constexpr uint64_t kTcpBatch = kTcpWriteBytes;  // 256 KiB: one send or receive batch
const std::string kServerName = "serve-test";
const std::string kLoopback = "127.0.0.1";

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

// Connect to 127.0.0.1:port and read the btest HELLO (01 00 00 00, spec A.1)
// within 1 s. The probe then closes: the server drops a peer that sends no
// command, before any policy decision (no slot, no rejection row).
bool btest_hello(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0) {
    std::array<unsigned char, 4> hello{};
    std::size_t got = 0;
    const auto deadline = SteadyClock::now() + seconds(1);
    while (got < hello.size() && SteadyClock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) {
        continue;
      }
      ssize_t n = ::recv(fd, hello.data() + got, hello.size() - got, 0);
      if (n <= 0) {
        break;
      }
      got += static_cast<std::size_t>(n);
    }
    ok = got == 4 && hello == std::array<unsigned char, 4>{1, 0, 0, 0};
  }
  ::close(fd);
  return ok;
}

/// Poll `pred` every 20 ms for at most `limit`.
bool eventually(const std::function<bool()>& pred, milliseconds limit = milliseconds(5000)) {
  return linerate::testing::poll_until(pred, limit, milliseconds(20));
}

User make_user(const std::string& name, const std::string& password, const Limits& limits = {}, bool md5 = false,
               bool enabled = true) {
  User u;
  u.name = name;
  u.enabled = enabled;
  u.allow_md5 = md5;
  if (md5) {
    u.md5_password = password;
  }
  u.verifier = ecsrp5::to_text(ecsrp5::derive_verifier(name, password).value());
  u.limits = limits;
  return u;
}

Limits day_limits(uint64_t total, uint64_t in, uint64_t out) {
  Limits l;
  l.day = DirLimits{total, in, out};
  return l;
}

/// The btest-pro binary as a child process (dies with the test via PDEATHSIG).
class ServerProcess {
 public:
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  /// `btest-pro --db URL serve -P <free port> --listen 127.0.0.1 <extra...>`;
  /// "" once it greets a probe, or the error.
  std::string start(const std::string& db_url, const std::vector<std::string>& extra, const std::string& log_path) {
    for (int attempt = 0; attempt < 5; ++attempt) {
      port_ = free_port();
      std::vector<std::string> args = {LR_BTEST_PRO_BIN,      "--db",     db_url,   "serve", "-P",
                                       std::to_string(port_), "--listen", kLoopback};
      args.insert(args.end(), extra.begin(), extra.end());
      std::vector<char*> argv;
      for (auto& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      const pid_t parent = ::getpid();
      pid_ = ::fork();
      if (pid_ == 0) {
        int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
          ::dup2(fd, 1);
          ::dup2(fd, 2);
        }
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) {
          ::_exit(125);
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
      }
      if (pid_ < 0) {
        return "fork failed";
      }
      bool exited = false;
      const bool up = eventually(
          [&] {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
              exited = true;
              return true;
            }
            return btest_hello(port_);
          },
          milliseconds(15'000));
      if (up && !exited) {
        return {};
      }
      if (!exited) {
        kill_now();
      }
      pid_ = -1;
    }
    return "btest-pro did not start (see " + log_path + ")";
  }

  void kill_now() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  /// SIGTERM (a clean stop) and the exit code, or -1 if it had to be killed.
  int terminate() {
    if (pid_ <= 0) {
      return -1;
    }
    ::kill(pid_, SIGTERM);
    int status = 0;
    const bool gone = eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, milliseconds(15'000));
    if (!gone) {
      kill_now();
      return -1;
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  [[nodiscard]] uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

template <typename Backend>
class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kSigpipeIgnored);
    // What btest-pro's main does before serving; the default zone (UTC) keeps
    // the windows the server writes and the ones we read identical.
    ASSERT_TRUE(set_time_zone("UTC"));
    LR_NEW_DB_URL(Backend, dir_, url_);
    auto s = Store::open(url_);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }
  void TearDown() override { (void)server_.stop(); }

  void add_user(const User& u) { ASSERT_TRUE(store_->add_user(u)) << u.name; }

  ServeConfig serve_config(AuthMethod method = AuthMethod::kEcSrp5) const {
    ServeConfig cfg;
    cfg.db_url = url_;
    cfg.server.listen = {kLoopback};
    cfg.server.port = 0;  // the kernel picks; InProcessServer learns it from on_ready
    cfg.server.auth_method = method;
    cfg.server.quiet = true;
    cfg.server_name = kServerName;
    cfg.flush_interval = milliseconds(200);
    return cfg;
  }

  void start(const ServeConfig& cfg) {
    std::string err = server_.start(cfg);
    ASSERT_EQ(err, "");
  }

  ClientConfig client(const std::string& user, const std::string& password, Proto proto, Direction dir,
                      milliseconds duration) const {
    ClientConfig c;
    c.host = kLoopback;
    c.port = server_.btest_port();
    c.proto = proto;
    c.direction = dir;
    c.duration = duration;
    c.connect_timeout = milliseconds(3000);
    c.handshake_timeout = milliseconds(5000);
    c.auth = Credentials{user, password};
    return c;
  }

  static ClientOutcome run(const ClientConfig& c) {
    core::Interrupt never;
    return run_client(c, never, {});
  }

  /// A fresh connection, as an operator's tool would open it.
  std::unique_ptr<Store> reopen() {
    auto s = Store::open(url_);
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }

  /// The user's sessions, newest first.
  static std::vector<SessionRow> sessions_of(Store& s, const std::string& user) {
    auto all = s.recent_sessions("", 1000);
    EXPECT_TRUE(all) << all.error().message();
    std::vector<SessionRow> out;
    for (const auto& row : all ? *all : std::vector<SessionRow>{}) {
      if (row.user == user) {
        out.push_back(row);
      }
    }
    return out;
  }

  static std::vector<RejectionRow> rejections_of(Store& s, const std::string& user, const std::string& reason) {
    auto all = s.recent_rejections(1000);
    EXPECT_TRUE(all) << all.error().message();
    std::vector<RejectionRow> out;
    for (const auto& row : all ? *all : std::vector<RejectionRow>{}) {
      if (row.user == user && row.reason == reason) {
        out.push_back(row);
      }
    }
    return out;
  }

  static Usage day_usage(Store& s, PrincipalKind kind, const std::string& key) {
    auto u = s.usage(Principal{kind, key}, window_starts(std::chrono::system_clock::now()));
    EXPECT_TRUE(u) << u.error().message();
    return u ? u->day : Usage{};
  }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
  InProcessServer server_;
};

using Backends = ::testing::Types<linerate::testing::SqliteBackend, linerate::testing::PostgresBackend>;
TYPED_TEST_SUITE(ServeTest, Backends, linerate::testing::BackendNames);

// 1. A daily "out" quota (server -> client) ends a receive test at the quota;
//    usage out = bytes sent, in = 0; an out quota does not limit the other direction.
TYPED_TEST(ServeTest, DailyOutQuotaEndsReceiveTestAtTheLimit) {
  constexpr uint64_t kLimit = 40 * kMB;
  this->add_user(make_user("alice", "pw-a", day_limits(0, 0, kLimit)));
  this->add_user(make_user("olga", "pw-o", day_limits(0, 0, 1 * kMB)));
  this->start(this->serve_config());

  ClientOutcome out = this->run(this->client("alice", "pw-a", Proto::kTcp, Direction::kClientRx, seconds(10)));
  ASSERT_TRUE(out.started) << out.error;
  const uint64_t rx = out.record.rx_bytes;
  EXPECT_LT(out.record.duration_s, 5.0) << "the test did not stop at the quota";
  EXPECT_LE(rx, kLimit);
  EXPECT_GE(rx, kLimit - 2 * kTcpBatch);

  // A user whose "out" is capped may still transmit as much as it likes (no swap).
  ClientOutcome tx = this->run(this->client("olga", "pw-o", Proto::kTcp, Direction::kClientTx, seconds(1)));
  ASSERT_TRUE(tx.started) << tx.error;
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "alice");
  ASSERT_EQ(rows.size(), 1u);
  const SessionRow& s = rows[0];
  EXPECT_EQ(s.status, "quota_daily_user_out");
  EXPECT_EQ(s.server, kServerName);
  EXPECT_EQ(s.ip, kLoopback);
  EXPECT_EQ(s.proto, "tcp");
  EXPECT_EQ(s.direction, "receive");
  EXPECT_LE(s.bytes_out, kLimit);
  EXPECT_GT(s.bytes_out, kLimit - kTcpBatch);
  EXPECT_EQ(s.bytes_in, 0u);
  EXPECT_EQ(s.bytes_out, rx) << "server sent vs client received";
  Usage u = this->day_usage(*db, PrincipalKind::kUser, "alice");
  EXPECT_EQ(u.out, s.bytes_out);
  EXPECT_EQ(u.in, 0u);

  auto olga = this->sessions_of(*db, "olga");
  ASSERT_EQ(olga.size(), 1u);
  EXPECT_EQ(olga[0].status, "ok");
  EXPECT_EQ(olga[0].direction, "transmit");
  EXPECT_GT(olga[0].bytes_in, 10 * kMB) << "an out quota must not cap client -> server";
  EXPECT_EQ(this->day_usage(*db, PrincipalKind::kUser, "olga").in, olga[0].bytes_in);
}

// 2. A daily "in" quota (client -> server) ends a transmit test: the server
//    charges after each read, so it may read one batch past the limit.
TYPED_TEST(ServeTest, DailyInQuotaEndsTransmitTestAtTheLimit) {
  constexpr uint64_t kLimit = 40 * kMB;
  this->add_user(make_user("ivan", "pw-i", day_limits(0, kLimit, 0)));
  this->add_user(make_user("bob", "pw-b", day_limits(0, 1 * kMB, 0)));
  this->start(this->serve_config());

  ClientOutcome out = this->run(this->client("ivan", "pw-i", Proto::kTcp, Direction::kClientTx, seconds(10)));
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_LT(out.record.duration_s, 5.0) << "the test did not stop at the quota";

  // An "in" quota does not limit what the server sends (no swap).
  ClientOutcome rx = this->run(this->client("bob", "pw-b", Proto::kTcp, Direction::kClientRx, seconds(1)));
  ASSERT_TRUE(rx.started) << rx.error;
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "ivan");
  ASSERT_EQ(rows.size(), 1u);
  const SessionRow& s = rows[0];
  EXPECT_EQ(s.status, "quota_daily_user_in");
  EXPECT_EQ(s.direction, "transmit");
  EXPECT_GE(s.bytes_in, kLimit);
  EXPECT_LE(s.bytes_in, kLimit + kTcpBatch);
  EXPECT_LE(s.bytes_in, out.record.tx_bytes) << "the server cannot read more than the client wrote";
  Usage u = this->day_usage(*db, PrincipalKind::kUser, "ivan");
  EXPECT_EQ(u.in, s.bytes_in);
  EXPECT_EQ(u.out, s.bytes_out);
  EXPECT_EQ(s.bytes_out, 0u) << "status records are not data";

  auto bob = this->sessions_of(*db, "bob");
  ASSERT_EQ(bob.size(), 1u);
  EXPECT_EQ(bob[0].status, "ok");
  EXPECT_GT(bob[0].bytes_out, 10 * kMB) << "an in quota must not cap server -> client";
  EXPECT_EQ(this->day_usage(*db, PrincipalKind::kUser, "bob").out, bob[0].bytes_out);
}

// 3. Four concurrent tests of one user share one budget: together they exceed the
//    limit by at most one batch each, and all end with the quota reason. Each
//    test is paced (160 Mbit/s) so all four are running when the quota is hit.
TYPED_TEST(ServeTest, ParallelSessionsOfOneUserShareTheBudget) {
  constexpr uint64_t kLimit = 80 * kMB;
  constexpr int kClients = 4;
  this->add_user(make_user("pat", "pw-p", day_limits(kLimit, 0, 0)));
  this->start(this->serve_config());

  std::vector<ClientOutcome> outs(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    ClientConfig c = this->client("pat", "pw-p", Proto::kTcp, Direction::kClientRx, seconds(10));
    c.remote_tx_speed = 160'000'000;
    threads.emplace_back([c, &out = outs[static_cast<std::size_t>(i)]] { out = TestFixture::run(c); });
  }
  for (auto& t : threads) {
    t.join();
  }
  uint64_t client_rx = 0;
  for (const auto& o : outs) {
    ASSERT_TRUE(o.started) << o.error;
    EXPECT_LT(o.record.duration_s, 5.0);
    client_rx += o.record.rx_bytes;
  }
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "pat");
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kClients));
  uint64_t sent = 0;
  int64_t last_start = 0;
  int64_t first_end = INT64_MAX;
  for (const auto& s : rows) {
    EXPECT_EQ(s.status, "quota_daily_user") << "session " << s.id;
    sent += s.bytes_out;
    last_start = std::max(last_start, s.started_unix_ms);
    first_end = std::min(first_end, s.ended_unix_ms);
  }
  EXPECT_LT(last_start, first_end) << "the four tests did not run concurrently";
  EXPECT_LE(sent, kLimit + kClients * kTcpBatch);
  EXPECT_GE(sent, kLimit - kClients * kTcpBatch);
  EXPECT_LE(client_rx, sent);
  Usage u = this->day_usage(*db, PrincipalKind::kUser, "pat");
  EXPECT_EQ(u.out, sent);
  EXPECT_EQ(u.in, 0u);
}

// 4. A per-IP limit applies to users that have no limit of their own, and then
//    refuses every user from that IP.
TYPED_TEST(ServeTest, PerIpLimitAppliesToUnlimitedUsers) {
  constexpr uint64_t kLimit = 30 * kMB;
  this->add_user(make_user("uma", "pw-u"));
  this->add_user(make_user("vic", "pw-v"));
  ServeConfig cfg = this->serve_config();
  cfg.ip_limits.day.out = kLimit;
  this->start(cfg);

  ClientOutcome out = this->run(this->client("uma", "pw-u", Proto::kTcp, Direction::kClientRx, seconds(10)));
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_LT(out.record.duration_s, 5.0) << "the test did not stop at the per-IP quota";
  EXPECT_LE(out.record.rx_bytes, kLimit);

  ClientOutcome again = this->run(this->client("vic", "pw-v", Proto::kTcp, Direction::kClientRx, seconds(2)));
  EXPECT_FALSE(again.started) << "another user from the same IP must be refused";
  EXPECT_EQ(again.record.rx_bytes, 0u);
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "uma");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "quota_daily_ip_out");
  EXPECT_LE(rows[0].bytes_out, kLimit);
  EXPECT_GT(rows[0].bytes_out, kLimit - kTcpBatch);
  Usage ip = this->day_usage(*db, PrincipalKind::kIp, kLoopback);
  EXPECT_EQ(ip.out, rows[0].bytes_out);
  EXPECT_EQ(ip.in, 0u);
  EXPECT_TRUE(this->sessions_of(*db, "vic").empty());
  EXPECT_EQ(this->rejections_of(*db, "vic", "quota_daily_ip_out").size(), 1u);
}

// 5. A user who used up a quota is refused at admission, both while the server
//    still holds the usage in memory (its writer's pending deltas) and after a
//    restart (usage from the database); in both directions. Out: the sender
//    never sends a batch it cannot pay for, so the user ends up to one batch
//    short of the limit; that remainder buys nothing and must not admit a test.
TYPED_TEST(ServeTest, UserOverQuotaIsRefusedAtAdmission) {
  struct Case {
    const char* user;
    Direction dir;
    Limits limits;
    const char* reason;
  };
  const std::array<Case, 2> cases = {{
      {"alice", Direction::kClientRx, day_limits(0, 0, 20 * kMB), "quota_daily_user_out"},
      {"ivan", Direction::kClientTx, day_limits(0, 20 * kMB, 0), "quota_daily_user_in"},
  }};
  for (const Case& c : cases) {
    this->add_user(make_user(c.user, "pw", c.limits));
  }
  this->start(this->serve_config());
  for (const Case& c : cases) {
    ClientOutcome first = this->run(this->client(c.user, "pw", Proto::kTcp, c.dir, seconds(10)));
    ASSERT_TRUE(first.started) << c.user << ": " << first.error;
    EXPECT_LT(first.record.duration_s, 5.0) << c.user;
  }

  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      ASSERT_TRUE(this->server_.stop());
      this->start(this->serve_config());
    }
    for (const Case& c : cases) {
      ClientOutcome next = this->run(this->client(c.user, "pw", Proto::kTcp, c.dir, seconds(2)));
      EXPECT_FALSE(next.started) << c.user << " round " << round;
      EXPECT_EQ(next.record.rx_bytes, 0u) << c.user << " round " << round;
      // RouterOS has no refusal message: the server closes after the login,
      // which the client cannot tell from a failed login.
      EXPECT_NE(next.failure, ClientFailure::kNone) << c.user << " round " << round;
    }
  }
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  for (const Case& c : cases) {
    auto rows = this->sessions_of(*db, c.user);
    ASSERT_FALSE(rows.empty()) << c.user;
    EXPECT_EQ(rows.size(), 1u) << c.user << ": a refused test must not be recorded as a session (newest: status "
                               << rows[0].status << ", bytes in/out " << rows[0].bytes_in << "/" << rows[0].bytes_out
                               << ")";
    const SessionRow& first = rows.back();
    EXPECT_EQ(first.status, c.reason) << c.user;
    auto rej = this->rejections_of(*db, c.user, c.reason);
    EXPECT_EQ(rej.size(), 2u) << c.user;
    for (const auto& r : rej) {
      EXPECT_EQ(r.ip, kLoopback);
      EXPECT_EQ(r.server, kServerName);
    }
    Usage u = this->day_usage(*db, PrincipalKind::kUser, c.user);
    EXPECT_EQ(u.in, first.bytes_in) << c.user;
    EXPECT_EQ(u.out, first.bytes_out) << c.user;
  }
}

// 6. --max-conn-per-ip 1: a second concurrent test from the IP is refused; then
//    seven sequential 4-connection tests all run, so every multi-connection test
//    released its slot (the old bug locked an IP out after five).
TYPED_TEST(ServeTest, MaxConnPerIpRefusesConcurrentAndReleasesMultiConnectionSlots) {
  this->add_user(make_user("max", "pw-m"));
  ServeConfig cfg = this->serve_config();
  cfg.max_conn_per_ip = 1;
  this->start(cfg);

  ClientOutcome longer;
  ClientConfig lc = this->client("max", "pw-m", Proto::kTcp, Direction::kClientRx, seconds(3));
  lc.remote_tx_speed = 100'000'000;
  std::thread t([&] { longer = TestFixture::run(lc); });
  {
    auto db = this->reopen();
    ASSERT_NE(db, nullptr);
    const bool running = eventually([&] {
      auto rows = this->sessions_of(*db, "max");
      return rows.size() == 1 && rows[0].status == "running";
    });
    if (!running) {
      t.join();
      FAIL() << "the first test was not recorded as running within 5 s";
    }
  }
  ClientOutcome second = this->run(this->client("max", "pw-m", Proto::kTcp, Direction::kClientRx, seconds(1)));
  t.join();
  EXPECT_FALSE(second.started) << "a second concurrent test from 127.0.0.1 must be refused";
  ASSERT_TRUE(longer.started) << longer.error;
  EXPECT_GT(longer.record.duration_s, 2.5);

  constexpr int kSequential = 7;
  for (int i = 0; i < kSequential; ++i) {
    ClientConfig c = this->client("max", "pw-m", Proto::kTcp, Direction::kClientRx, seconds(1));
    c.connections = 4;
    c.remote_tx_speed = 100'000'000;
    ClientOutcome o = this->run(c);
    ASSERT_TRUE(o.started) << "sequential multi-connection test " << i + 1 << ": " << o.error;
    EXPECT_EQ(o.record.connections, 4u) << "test " << i + 1;
    EXPECT_TRUE(o.warnings.empty()) << "test " << i + 1 << ": " << o.warnings.front();
  }
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "max");
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(1 + kSequential));
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].status, "ok") << "session " << rows[i].id;
    EXPECT_EQ(rows[i].connections, i + 1 < rows.size() ? 4u : 1u) << "session " << rows[i].id;  // newest first
  }
  EXPECT_EQ(this->rejections_of(*db, "max", "ip_limit").size(), 1u);
}

// 7. Logins: a wrong password, an unknown and a disabled user are refused and
//    recorded; the MD5 method admits only users allowed MD5.
TYPED_TEST(ServeTest, AuthRefusalsAndMd5OnlyForAllowedUsers) {
  this->add_user(make_user("ecsrp", "pw-e"));
  this->add_user(make_user("oldie", "pw-o", {}, /*md5=*/true));
  this->add_user(make_user("gone", "pw-g", {}, false, /*enabled=*/false));
  this->start(this->serve_config(AuthMethod::kEcSrp5));

  auto short_rx = [&](const std::string& user, const std::string& pw) {
    return this->run(this->client(user, pw, Proto::kTcp, Direction::kClientRx, milliseconds(300)));
  };
  ClientOutcome wrong = short_rx("ecsrp", "not-the-password");
  EXPECT_FALSE(wrong.started);
  EXPECT_EQ(wrong.failure, ClientFailure::kAuthFailed) << wrong.error;
  ClientOutcome unknown = short_rx("nobody", "pw");
  EXPECT_EQ(unknown.failure, ClientFailure::kAuthFailed) << unknown.error;
  ClientOutcome disabled = short_rx("gone", "pw-g");
  EXPECT_FALSE(disabled.started);
  EXPECT_EQ(disabled.failure, ClientFailure::kAuthFailed) << disabled.error;
  ClientOutcome good = short_rx("ecsrp", "pw-e");
  EXPECT_TRUE(good.started) << good.error;
  ClientOutcome md5_user_by_ecsrp5 = short_rx("oldie", "pw-o");
  EXPECT_TRUE(md5_user_by_ecsrp5.started) << md5_user_by_ecsrp5.error;
  ASSERT_TRUE(this->server_.stop());

  this->start(this->serve_config(AuthMethod::kMd5));
  ClientOutcome verifier_only = short_rx("ecsrp", "pw-e");
  EXPECT_FALSE(verifier_only.started) << "MD5 must be refused for a verifier-only user";
  EXPECT_EQ(verifier_only.failure, ClientFailure::kAuthFailed) << verifier_only.error;
  ClientOutcome md5_wrong = short_rx("oldie", "wrong");
  EXPECT_EQ(md5_wrong.failure, ClientFailure::kAuthFailed) << md5_wrong.error;
  ClientOutcome md5_ok = short_rx("oldie", "pw-o");
  EXPECT_TRUE(md5_ok.started) << md5_ok.error;
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  // ecsrp5 wrong password + md5 verifier-only.
  EXPECT_EQ(this->rejections_of(*db, "ecsrp", "auth_failed").size(), 2u);
  EXPECT_EQ(this->rejections_of(*db, "nobody", "auth_failed").size(), 1u);
  EXPECT_EQ(this->rejections_of(*db, "oldie", "auth_failed").size(), 1u);
  EXPECT_EQ(
      this->rejections_of(*db, "gone", "auth_failed").size() + this->rejections_of(*db, "gone", "user_disabled").size(),
      1u);
  EXPECT_EQ(this->sessions_of(*db, "ecsrp").size(), 1u);
  EXPECT_EQ(this->sessions_of(*db, "oldie").size(), 2u);
  EXPECT_TRUE(this->sessions_of(*db, "gone").empty());
  EXPECT_TRUE(this->sessions_of(*db, "nobody").empty());
}

// 8. A 3 s two-way test is recorded completely: status, times, the byte totals
//    both sides saw, and one interval row per second summing to the totals.
TYPED_TEST(ServeTest, SessionAndPerSecondIntervalsMatchTheTest) {
  this->add_user(make_user("rec", "pw-r"));
  this->start(this->serve_config());

  ClientConfig c = this->client("rec", "pw-r", Proto::kTcp, Direction::kBoth, seconds(3));
  c.local_tx_speed = 200'000'000;
  c.remote_tx_speed = 200'000'000;
  ClientOutcome out = this->run(c);
  ASSERT_TRUE(out.started) << out.error;
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "rec");
  ASSERT_EQ(rows.size(), 1u);
  const SessionRow& s = rows[0];
  EXPECT_EQ(s.status, "ok");
  EXPECT_EQ(s.direction, "both");
  EXPECT_EQ(s.connections, 1u);
  EXPECT_GT(s.started_unix_ms, 0);
  EXPECT_GT(s.ended_unix_ms, s.started_unix_ms);
  EXPECT_GE(s.ended_unix_ms - s.started_unix_ms, 2500);
  EXPECT_GT(s.bytes_in, 10 * kMB);
  EXPECT_GT(s.bytes_out, 10 * kMB);
  // The client half-closes after its last complete write and drains the server
  // (client.cpp), so every byte one side wrote is read by the other.
  EXPECT_EQ(s.bytes_in, out.record.tx_bytes) << "client -> server";
  // The server's interleaved status records (12 bytes each, spec §9) are bytes
  // the client reads but not payload the server counts as sent.
  EXPECT_GE(out.record.rx_bytes, s.bytes_out);
  EXPECT_EQ((out.record.rx_bytes - s.bytes_out) % 12, 0u) << "client rx " << out.record.rx_bytes;
  EXPECT_LE(out.record.rx_bytes - s.bytes_out, 12u * 5);

  auto iv = db->intervals(s.id);
  ASSERT_TRUE(iv) << iv.error().message();
  ASSERT_GE(iv->size(), 3u);
  ASSERT_LE(iv->size(), 4u);
  uint64_t in = 0;
  uint64_t out_bytes = 0;
  for (std::size_t i = 0; i < iv->size(); ++i) {
    EXPECT_EQ((*iv)[i].session_id, s.id);
    EXPECT_EQ((*iv)[i].second, i);
    in += (*iv)[i].bytes_in;
    out_bytes += (*iv)[i].bytes_out;
  }
  EXPECT_EQ(in, s.bytes_in);
  EXPECT_EQ(out_bytes, s.bytes_out);
  Usage u = this->day_usage(*db, PrincipalKind::kUser, "rec");
  EXPECT_EQ(u.in, s.bytes_in);
  EXPECT_EQ(u.out, s.bytes_out);
}

// 9. UDP: a daily "out" quota ends a UDP receive test. The sender charges each
//    sendmmsg batch (at most UdpBatch::kMaxBatchBytes of payload, plus 28 header
//    bytes per datagram) before sending it and does not send a refused one.
TYPED_TEST(ServeTest, UdpReceiveStopsAtTheOutQuota) {
  constexpr uint64_t kLimit = 20 * kMB;
  constexpr uint64_t kUdpBatch = UdpBatch::kMaxBatchBytes * 1500 / 1472 + 1500;
  this->add_user(make_user("udp", "pw-u", day_limits(0, 0, kLimit)));
  this->start(this->serve_config());

  ClientConfig c = this->client("udp", "pw-u", Proto::kUdp, Direction::kClientRx, seconds(10));
  c.remote_tx_speed = 1'000'000'000;
  ClientOutcome out = this->run(c);
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_LT(out.record.duration_s, 5.0) << "the UDP test did not stop at the quota";
  EXPECT_LE(out.record.rx_bytes, kLimit + kUdpBatch);
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  auto rows = this->sessions_of(*db, "udp");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "quota_daily_user_out");
  EXPECT_EQ(rows[0].proto, "udp");
  EXPECT_LE(rows[0].bytes_out, kLimit + kUdpBatch);
  EXPECT_GT(rows[0].bytes_out, kLimit - kUdpBatch);
  Usage u = this->day_usage(*db, PrincipalKind::kUser, "udp");
  EXPECT_EQ(u.out, rows[0].bytes_out);
}

// 10. kill -9 of the btest-pro process mid-test: the usage that survives is what
//     was committed (> 0, <= what the client received); a restart marks the
//     session "interrupted" and counts nothing twice.
TYPED_TEST(ServeTest, KillDuringTestKeepsCommittedUsageAndRestartDoesNotDoubleCount) {
  this->add_user(make_user("kim", "pw-k"));
  const std::string log = this->dir_.path() + "/btest-pro.log";
  const std::vector<std::string> extra = {"--server-name", "kill-test", "-q"};
  ServerProcess proc;
  ASSERT_EQ(proc.start(this->url_, extra, log), "");

  ClientConfig c = this->client("kim", "pw-k", Proto::kTcp, Direction::kClientRx, seconds(10));
  c.port = proc.port();
  c.remote_tx_speed = 400'000'000;  // 50 MB/s: the kill lands mid-test, not at a quota
  ClientOutcome out;
  std::thread t([&] { out = TestFixture::run(c); });
  std::this_thread::sleep_for(seconds(3));
  proc.kill_now();
  t.join();
  ASSERT_TRUE(out.started) << out.error;
  EXPECT_LT(out.record.duration_s, 8.0) << "the client did not notice the server's death";

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  const Usage after_kill = this->day_usage(*db, PrincipalKind::kUser, "kim");
  EXPECT_GT(after_kill.out, 0u) << "nothing committed in 3 s (the writer flushes at least every 2 s)";
  EXPECT_LE(after_kill.out, out.record.rx_bytes);
  auto rows = this->sessions_of(*db, "kim");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].status, "running");
  EXPECT_EQ(rows[0].server, "kill-test");

  ServerProcess again;
  ASSERT_EQ(again.start(this->url_, extra, log), "");
  auto row = db->session(rows[0].id);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->status, "interrupted");
  EXPECT_GE((*row)->ended_unix_ms, (*row)->started_unix_ms);
  const Usage after_restart = this->day_usage(*db, PrincipalKind::kUser, "kim");
  EXPECT_EQ(after_restart.out, after_kill.out);
  EXPECT_EQ(after_restart.in, after_kill.in);
  EXPECT_EQ(again.terminate(), 0);
  const Usage after_stop = this->day_usage(*db, PrincipalKind::kUser, "kim");
  EXPECT_EQ(after_stop.out, after_kill.out);
  EXPECT_EQ(this->sessions_of(*db, "kim").size(), 1u);
}

// 11. Calendar windows roll over with the clock (injected through
//     ServeConfig::clock): a user at its daily limit late on Monday 2026-11-30
//     is refused until the day changes; at 00:00:05 on Tuesday 2026-12-01 (a new
//     day and a new month, the same ISO week) it is admitted with a fresh daily
//     budget, and the bytes land in the windows they were moved in.
TYPED_TEST(ServeTest, WindowsRollOverAtMidnightAndMonthEnd) {
  constexpr uint64_t kDay = 20 * kMB;
  Limits l = day_limits(0, 0, kDay);
  l.month.out = 100 * kMB;
  this->add_user(make_user("rita", "pw-r", l));
  constexpr int64_t kMonLate = 1'796'083'195;   // 2026-11-30 23:59:55 UTC
  constexpr int64_t kTueEarly = 1'796'083'205;  // 2026-12-01 00:00:05 UTC
  auto fake = std::make_shared<std::atomic<int64_t>>(kMonLate);
  ServeConfig cfg = this->serve_config();
  cfg.clock = [fake] { return std::chrono::system_clock::time_point(seconds(fake->load())); };
  this->start(cfg);

  ClientOutcome a = this->run(this->client("rita", "pw-r", Proto::kTcp, Direction::kClientRx, seconds(10)));
  ASSERT_TRUE(a.started) << a.error;
  EXPECT_LT(a.record.duration_s, 5.0);
  ClientOutcome refused = this->run(this->client("rita", "pw-r", Proto::kTcp, Direction::kClientRx, seconds(2)));
  EXPECT_EQ(refused.record.rx_bytes, 0u) << "still Monday: the daily quota is used up";

  // The server accounts a test's last second when the test ends, a moment after
  // the client has seen the end, at the clock of that moment. Move the clock
  // only once Monday's session is committed as ended, so its bytes stay in
  // Monday's windows (a busy CI machine once accounted them on Tuesday).
  {
    auto probe = this->reopen();
    ASSERT_NE(probe, nullptr);
    const auto deadline = std::chrono::steady_clock::now() + seconds(15);
    auto ended = [&] {
      auto rows = this->sessions_of(*probe, "rita");
      return !rows.empty() && rows.front().ended_unix_ms != 0;
    };
    while (!ended() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(ended()) << "Monday's session was never committed as ended";
  }
  fake->store(kTueEarly);
  ClientOutcome b = this->run(this->client("rita", "pw-r", Proto::kTcp, Direction::kClientRx, seconds(10)));
  ASSERT_TRUE(b.started) << b.error << " (failure " << static_cast<int>(b.failure) << ")";
  EXPECT_GE(b.record.rx_bytes, kDay - 2 * kTcpBatch) << "Tuesday: a fresh daily budget";
  EXPECT_LE(b.record.rx_bytes, kDay);
  ASSERT_TRUE(this->server_.stop());

  auto db = this->reopen();
  ASSERT_NE(db, nullptr);
  const Principal rita{PrincipalKind::kUser, "rita"};
  auto mon = db->usage(rita, WindowStarts{"2026-11-30", "2026-11-30", "2026-11-01"});
  auto tue = db->usage(rita, WindowStarts{"2026-12-01", "2026-11-30", "2026-12-01"});
  ASSERT_TRUE(mon && tue);
  EXPECT_EQ(mon->day.out, a.record.rx_bytes);
  EXPECT_EQ(mon->month.out, a.record.rx_bytes) << "November holds Monday's bytes only";
  EXPECT_EQ(tue->day.out, b.record.rx_bytes);
  EXPECT_EQ(tue->month.out, b.record.rx_bytes) << "December starts from zero";
  EXPECT_EQ(tue->week.out, a.record.rx_bytes + b.record.rx_bytes) << "one ISO week holds both days";
  EXPECT_EQ(this->rejections_of(*db, "rita", "quota_daily_user_out").size(), 1u);
}

}  // namespace
}  // namespace linerate::btest::pro
