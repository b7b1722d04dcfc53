// btest/server.cpp — see server.hpp for the threading model. Section numbers
// refer to ../shared/spec/btest-protocol.md.
#include "btest/server.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <openssl/rand.h>
#include <poll.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "btest/ecsrp5.hpp"
#include "btest/interval_meter.hpp"
#include "btest/protocol.hpp"
#include "btest/tcp_transfer.hpp"
#include "btest/udp_ports.hpp"
#include "btest/udp_session.hpp"
#include "btest/udp_transfer.hpp"
#include "core/cpu.hpp"
#include "core/csv.hpp"
#include "core/thread_cache.hpp"

namespace linerate::btest {

namespace {

using SteadyClock = std::chrono::steady_clock;

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Poll a set of eventfd-style fds; returns the index of the first readable one,
// or -1 on timeout.
int wait_any(std::initializer_list<int> fds, core::Millis timeout) {
  pollfd p[4];
  nfds_t n = 0;
  for (int fd : fds) {
    p[n++] = pollfd{fd, POLLIN, 0};
  }
  int ms = static_cast<int>(std::max<int64_t>(0, timeout.count()));
  int rc = ::poll(p, n, ms);
  if (rc <= 0) {
    return -1;
  }
  for (nfds_t i = 0; i < n; ++i) {
    if ((p[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// A multi-connection test waiting for (or running with) its secondaries.
// Shared by the primary's handler thread and secondaries' handler threads, which
// may outlive each other: hence shared_ptr.
struct MultiSession {
  std::mutex mu;
  std::string peer_ip;
  uint16_t token = 0;
  unsigned expected = 1;            // total connections including the primary
  unsigned joined = 1;              // the primary
  TcpTransfer* transfer = nullptr;  // set while the test runs
  bool primary_added = false;
  bool closed = false;
  std::vector<core::Fd> early;  // secondaries that beat the primary's own add()
  core::Interrupt all_joined;
};

}  // namespace

core::Result<std::pair<uint16_t, uint16_t>> parse_udp_port_range(std::string_view text) {
  auto bad = [&] {
    return core::fail("--udp-ports: '" + std::string(text) +
                      "' is not FIRST-LAST with 1 <= FIRST <= LAST <= 65279 (clients use port + 256)");
  };
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    return bad();
  }
  unsigned first = 0;
  unsigned last = 0;
  const char* a = text.data();
  const char* b = text.data() + dash + 1;
  const char* end = text.data() + text.size();
  auto r1 = std::from_chars(a, b - 1, first);
  auto r2 = std::from_chars(b, end, last);
  if (dash == 0 || r1.ec != std::errc() || r1.ptr != b - 1 || r2.ec != std::errc() || r2.ptr != end || b == end ||
      first == 0 || first > last || last > 65535 - 256) {
    return bad();
  }
  return std::pair{static_cast<uint16_t>(first), static_cast<uint16_t>(last)};
}

core::Result<std::vector<std::string>> listen_addresses(const std::vector<std::string>& v4,
                                                        const std::vector<std::string>& v6) {
  for (const auto& a : v4) {
    auto ip = core::parse_ip(a, 0);
    if (!ip || ip->family() != AF_INET) {
      return core::fail("--listen: '" + a + "' is not an IPv4 address");
    }
  }
  for (const auto& a : v6) {
    auto ip = core::parse_ip(a, 0);
    if (!ip || ip->family() != AF_INET6) {
      return core::fail("--listen6: '" + a + "' is not an IPv6 address");
    }
  }
  if (v4.empty() && v6.empty()) {
    return std::vector<std::string>{"0.0.0.0", "::"};
  }
  std::vector<std::string> out = v4;
  out.insert(out.end(), v6.begin(), v6.end());
  return out;
}

std::string_view auth_method_name(AuthMethod m) {
  switch (m) {
    case AuthMethod::kNone:
      return "none";
    case AuthMethod::kMd5:
      return "md5";
    case AuthMethod::kEcSrp5:
      return "ecsrp5";
  }
  return "?";
}

struct Server::Impl {
  ~Impl() {
    if (log) {
      spdlog::drop(log->name());  // loggers are registered globally by name
    }
  }
  ServerConfig cfg;
  std::vector<core::Fd> listeners;
  uint16_t port = 0;
  std::shared_ptr<spdlog::logger> log;
  std::optional<core::SyslogSender> syslog;
  std::optional<core::CsvAppender> csv;
  std::optional<ecsrp5::Verifier> verifier;  // EC-SRP5: what we keep instead of the password
  std::array<std::byte, 32> fake_secret{};   // §6.9: keys fake verifiers for unknown users
  std::unique_ptr<UdpPortPool> udp_ports;

  mutable std::mutex mu;
  std::map<uint16_t, std::shared_ptr<MultiSession>> tokens;
  std::set<int> handshaking;  // fds in handshake, shut down on stop
  std::atomic<unsigned> active{0};
  std::atomic<uint64_t> accepted{0}, started{0}, finished{0}, auth_failures{0}, dropped{0};
  const core::Interrupt* stop = nullptr;

  std::list<core::ThreadCache::Task> workers;  // one per accepted connection, on cached threads

  void event(core::SyslogSeverity sev, std::string_view id, const std::string& fields) {
    if (sev <= core::SyslogSeverity::kWarning) {
      log->warn("{} {}", id, fields);
    } else {
      log->info("{} {}", id, fields);
    }
    if (syslog) {
      (void)syslog->send(sev, id, fields);
    }
  }

  void drop(const core::SockAddr& peer, const std::string& why) {
    dropped.fetch_add(1);
    log->warn("drop {}: {}", peer.to_string(), why);
  }

  void handle(core::Fd fd, core::SockAddr peer);
  // Authenticate per cfg.auth_method; the user name on success, nullopt after the
  // peer was told (or found out) that it failed, all within the handshake deadline.
  std::optional<std::string> authenticate_md5(int fd, const core::SockAddr& peer, const core::Deadline& deadline);
  std::optional<std::string> authenticate_ecsrp5(int fd, const core::SockAddr& peer, const core::Deadline& deadline);
  void auth_failed(int fd, const core::SockAddr& peer, const std::string& user, std::string_view method,
                   const std::string& why);
  void run_test(core::Fd fd, const core::SockAddr& peer, const Command& cmd, const std::string& user,
                std::string_view auth, std::shared_ptr<MultiSession> multi, std::unique_ptr<TestGrant> grant);
  void run_udp_test(core::Fd fd, const core::SockAddr& peer, const Command& cmd, const std::string& user,
                    std::string_view auth, UdpPortLease lease, std::unique_ptr<TestGrant> grant);
  TestRecord new_record(const core::SockAddr& peer, const Command& cmd, const std::string& user,
                        std::string_view auth) const;
  // The 1-second ticker of a running test: on_tick(now) once a second until the
  // client ends the test (`ended` readable, reason from ended_reason()), the
  // server stops, or the maximum duration passes. Returns why it ended.
  std::string tick_until_end(SteadyClock::time_point start, const core::Interrupt& ended,
                             const std::function<std::string()>& ended_reason,
                             const std::function<void(SteadyClock::time_point)>& on_tick,
                             const TestGrant* grant = nullptr);
  // Close the record (end reason, result) and report it everywhere.
  // `end` defaults to now; UDP passes the moment the client ended the test, so the
  // drain of datagrams in flight does not stretch the averages.
  void test_ended(TestRecord& rec, SteadyClock::time_point start, const std::string& reason,
                  std::optional<SteadyClock::time_point> end = std::nullopt, TestGrant* grant = nullptr);
  std::shared_ptr<MultiSession> register_token(const core::SockAddr& peer, unsigned expected);
  bool join_secondary(uint16_t token, const core::SockAddr& peer, core::Fd& fd);
  void release_token(const std::shared_ptr<MultiSession>& m);
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

core::Result<std::unique_ptr<Server>> Server::create(ServerConfig cfg) {
  auto impl = std::make_unique<Impl>();
  impl->cfg = std::move(cfg);
  static std::atomic<int> logger_seq{0};
  impl->log = spdlog::stderr_color_mt("btest-server-" + std::to_string(logger_seq.fetch_add(1)));
  impl->log->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  impl->log->set_level(impl->cfg.quiet ? spdlog::level::warn : spdlog::level::info);
  if (impl->cfg.listen.empty()) {
    return core::fail("no listen address given");
  }
  if (impl->cfg.policy && impl->cfg.auth_method == AuthMethod::kNone) {
    return core::fail("a server with a user policy needs an authentication method (md5 or ecsrp5)");
  }
  if (impl->cfg.auth_method != AuthMethod::kNone && !impl->cfg.auth && !impl->cfg.policy) {
    return core::fail("authentication method " + std::string(auth_method_name(impl->cfg.auth_method)) +
                      " needs a user and password (-a USER -p PASS)");
  }
  if (impl->cfg.auth_method == AuthMethod::kNone && impl->cfg.auth) {
    impl->cfg.auth_method = AuthMethod::kMd5;  // credentials without a method: the classic default
  }
  if (impl->cfg.auth_method == AuthMethod::kEcSrp5 && impl->cfg.auth) {
    if (impl->cfg.auth->user.size() > ecsrp5::kMaxUserLen) {
      return core::fail("user name longer than " + std::to_string(ecsrp5::kMaxUserLen) + " bytes (EC-SRP5 limit)");
    }
    auto v = ecsrp5::derive_verifier(impl->cfg.auth->user, impl->cfg.auth->password);
    if (!v) {
      return tl::unexpected(v.error());
    }
    impl->verifier = *v;
    impl->cfg.auth->password.assign(impl->cfg.auth->password.size(), '\0');
    impl->cfg.auth->password.clear();  // §6.4: the verifier is all we need from here on
  }
  if (impl->cfg.udp_port_first == 0 || impl->cfg.udp_port_first > impl->cfg.udp_port_last ||
      impl->cfg.udp_port_last > 65535 - 256) {
    return core::fail("UDP port range " + std::to_string(impl->cfg.udp_port_first) + "-" +
                      std::to_string(impl->cfg.udp_port_last) +
                      " is invalid: it must be FIRST-LAST with 1 <= FIRST <= LAST <= 65279 (clients use port + 256)");
  }
  if (impl->cfg.udp_ipv6_overhead != kUdpOverheadIpv4 && impl->cfg.udp_ipv6_overhead != kUdpOverheadIpv6) {
    return core::fail("IPv6 UDP header overhead must be 28 or 48 bytes");
  }
  (void)core::system_cpu_percent();  // the baseline for the first test's first second
  impl->udp_ports = std::make_unique<UdpPortPool>(impl->cfg.udp_port_first, impl->cfg.udp_port_last);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(impl->fake_secret.data()), 32) != 1) {
    return core::fail("no randomness for the server secret");
  }
  uint16_t port = impl->cfg.port;
  for (const auto& text : impl->cfg.listen) {
    auto addr = core::parse_ip(text, port);
    if (!addr) {
      return tl::unexpected(core::Error{{}, "listen address: " + addr.error().message()});
    }
    auto fd = core::tcp_listen(*addr, 4096, /*v6only=*/true);  // the kernel caps it at somaxconn
    if (!fd) {
      return tl::unexpected(fd.error());
    }
    if (port == 0) {
      auto local = core::local_address(fd->get());
      if (!local) {
        return tl::unexpected(local.error());
      }
      port = local->port();
    }
    impl->listeners.push_back(std::move(*fd));
  }
  impl->port = port;
  if (!impl->cfg.syslog_target.empty()) {
    auto s = core::SyslogSender::open(impl->cfg.syslog_target, impl->cfg.syslog_format, "btest");
    if (!s) {
      return tl::unexpected(core::Error{{}, "syslog: " + s.error().message()});
    }
    impl->syslog.emplace(std::move(*s));
  }
  if (!impl->cfg.csv_path.empty()) {
    auto c = core::CsvAppender::open(impl->cfg.csv_path, csv_header());
    if (!c) {
      return tl::unexpected(c.error());
    }
    impl->csv.emplace(std::move(*c));
  }
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->port; }

unsigned Server::active_sessions() const { return impl_->active.load(); }

std::size_t Server::udp_ports_in_use() const { return impl_->udp_ports->in_use(); }

ServerStats Server::stats() const {
  return {impl_->accepted.load(), impl_->started.load(), impl_->finished.load(), impl_->auth_failures.load(),
          impl_->dropped.load()};
}

void Server::run(const core::Interrupt& stop) {
  Impl& s = *impl_;
  s.stop = &stop;
  for (const auto& l : s.listeners) {
    if (auto a = core::local_address(l.get())) {
      s.log->info("listening on {}", a->to_string());
    }
  }
  std::vector<pollfd> pfds;
  pfds.push_back(pollfd{stop.fd(), POLLIN, 0});
  for (const auto& l : s.listeners) {
    pfds.push_back(pollfd{l.get(), POLLIN, 0});
  }
  while (!stop.requested()) {
    for (auto& p : pfds) {
      p.revents = 0;
    }
    int rc = ::poll(pfds.data(), pfds.size(), 1000);
    // Forget finished handlers (bounded: at most one pass per wakeup).
    for (auto it = s.workers.begin(); it != s.workers.end();) {
      if (it->done()) {
        it = s.workers.erase(it);
      } else {
        ++it;
      }
    }
    if (rc <= 0 || stop.requested()) {
      continue;
    }
    for (std::size_t i = 1; i < pfds.size(); ++i) {
      if ((pfds[i].revents & POLLIN) == 0) {
        continue;
      }
      // Accept the whole backlog in one wake-up: under load this thread competes
      // with every data thread for a CPU, so each wake-up must count.
      for (int batch = 0; batch < 256; ++batch) {
        core::SockAddr peer;
        auto fd = core::tcp_accept(pfds[i].fd, peer);
        if (!fd) {
          if (fd.error().code != std::errc::resource_unavailable_try_again &&
              fd.error().code != std::errc::operation_would_block) {
            // EMFILE and friends: log and keep serving; the poll timeout paces retries.
            s.log->warn("{}", fd.error().message());
          }
          break;
        }
        s.accepted.fetch_add(1);
        // A cached thread when one is parked: creating a thread per login was a
        // third of the server's CPU per login.
        s.workers.push_back(core::ThreadCache::shared().run(
            [&s, f = std::make_shared<core::Fd>(std::move(*fd)), peer]() { s.handle(std::move(*f), peer); }));
      }
    }
  }
  s.log->info("shutting down: {} test(s) running", s.active.load());
  {
    std::lock_guard lock(s.mu);
    for (int fd : s.handshaking) {
      ::shutdown(fd, SHUT_RDWR);
    }
  }
  for (auto& w : s.workers) {
    w.join();
  }
  s.workers.clear();
}

std::shared_ptr<MultiSession> Server::Impl::register_token(const core::SockAddr& peer, unsigned expected) {
  auto m = std::make_shared<MultiSession>();
  m->peer_ip = peer.ip();
  m->expected = expected;
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    unsigned char r[2];
    if (RAND_bytes(r, 2) != 1) {
      r[0] = static_cast<unsigned char>(attempt);
      r[1] = static_cast<unsigned char>(attempt >> 8);
    }
    // §10: first byte >= 0x02 so a token never looks like a command (proto 0/1);
    // second byte non-zero.
    uint16_t hi = static_cast<uint16_t>(0x02 + r[0] % 0xFE);
    uint16_t lo = static_cast<uint16_t>(1 + r[1] % 0xFF);
    uint16_t token = static_cast<uint16_t>((hi << 8) | lo);
    if (tokens.count(token) == 0) {
      m->token = token;
      tokens[token] = m;
      return m;
    }
  }
  return nullptr;
}

void Server::Impl::release_token(const std::shared_ptr<MultiSession>& m) {
  std::lock_guard lock(mu);
  auto it = tokens.find(m->token);
  if (it != tokens.end() && it->second == m) {
    tokens.erase(it);
  }
}

bool Server::Impl::join_secondary(uint16_t token, const core::SockAddr& peer, core::Fd& fd) {
  std::shared_ptr<MultiSession> m;
  {
    std::lock_guard lock(mu);
    auto it = tokens.find(token);
    if (it == tokens.end() || it->second->peer_ip != peer.ip()) {
      return false;
    }
    m = it->second;
  }
  if (!core::write_all(fd.get(), encode_ok(token), cfg.handshake_timeout)) {
    return true;  // it was ours; the peer vanished
  }
  std::lock_guard lock(m->mu);
  if (m->closed) {
    return true;  // the test ended meanwhile: the fd closes here
  }
  if (m->primary_added) {
    m->transfer->add(std::move(fd));
  } else {
    m->early.push_back(std::move(fd));
  }
  ++m->joined;
  if (m->joined >= m->expected) {
    m->all_joined.request();
  }
  return true;
}

void Server::Impl::handle(core::Fd fd, core::SockAddr peer) {
  const core::Deadline deadline(cfg.handshake_timeout);
  struct Tracked {
    Impl& s;
    int fd;
    Tracked(Impl& si, int f) : s(si), fd(f) {
      std::lock_guard lock(s.mu);
      s.handshaking.insert(fd);
    }
    ~Tracked() { untrack(); }
    void untrack() {
      std::lock_guard lock(s.mu);
      s.handshaking.erase(fd);
    }
  } tracked(*this, fd.get());
  if (stop->requested()) {
    return;
  }
  (void)core::set_nodelay(fd.get());

  // §2 HELLO, §3 command.
  if (auto r = core::write_all(fd.get(), kHello, deadline.left()); !r) {
    drop(peer, "sending HELLO: " + r.error().message());
    return;
  }
  Bytes16 raw{};
  if (auto r = core::read_exact(fd.get(), raw, deadline.left()); !r) {
    if (r.error().context == "connection closed by peer" || r.error().code == std::errc::connection_reset) {
      // Port probes and health checks connect and leave: not worth a warning.
      dropped.fetch_add(1);
      log->info("peer {} closed the connection before sending a command", peer.to_string());
      return;
    }
    drop(peer, "reading command: " + r.error().message());
    return;
  }
  // §10: a secondary connection announces itself with a pending token.
  auto token = static_cast<uint16_t>((static_cast<unsigned>(raw[0]) << 8) | static_cast<unsigned>(raw[1]));
  if (static_cast<uint8_t>(raw[0]) >= 0x02) {
    tracked.untrack();
    if (!join_secondary(token, peer, fd)) {
      drop(peer, "bad command: " + hex(raw) + " (not a command and no pending test with that token)");
    }
    return;
  }
  auto cmd = decode_command(raw);
  if (!cmd) {
    drop(peer, cmd.error().message() + " in " + hex(raw));
    return;
  }
  if (cfg.max_sessions != 0 && active.load() >= cfg.max_sessions) {
    drop(peer, "server busy: max-sessions " + std::to_string(cfg.max_sessions) + " reached");
    if (cfg.policy) {
      cfg.policy->rejected(peer, "", "max_sessions");
    }
    return;
  }

  // §4/§5 authentication.
  std::string user;
  std::string_view auth = "none";
  if (cfg.auth_method != AuthMethod::kNone) {
    auth = auth_method_name(cfg.auth_method);
    auto who = cfg.auth_method == AuthMethod::kMd5 ? authenticate_md5(fd.get(), peer, deadline)
                                                   : authenticate_ecsrp5(fd.get(), peer, deadline);
    if (!who) {
      return;
    }
    user = *who;
    event(core::SyslogSeverity::kInfo, "AUTH_SUCCESS",
          "peer=" + peer.to_string() + " user=" + user + " method=" + std::string(auth));
  }

  // The policy admits the test (quotas, per-IP limits) before anything is leased.
  // A refusal closes the connection after the login: the client sees the test end
  // at once (spec §15; RouterOS has no refusal message).
  std::unique_ptr<TestGrant> grant;
  if (cfg.policy) {
    auto g = cfg.policy->admit(TestRequest{peer, user, auth, *cmd});
    if (!g) {
      event(core::SyslogSeverity::kWarning, "TEST_REFUSED",
            "peer=" + peer.to_string() + " user=" + (user.empty() ? "-" : user) + " reason=" + g.error().message());
      dropped.fetch_add(1);
      return;
    }
    grant = std::move(*g);
  }

  if (cmd->proto == Proto::kUdp) {
    // §11.1: lease the port before the OK so a full range ends the handshake
    // cleanly; the data socket is bound on the address the client connected to.
    auto local = core::local_address(fd.get());
    if (!local) {
      drop(peer, "UDP test: " + local.error().message());
      return;
    }
    auto lease = udp_ports->acquire([&](uint16_t p) {
      core::SockAddr a = *local;
      a.set_port(p);
      return core::udp_bind(a, kUdpSocketBufferBytes);
    });
    if (!lease) {
      drop(peer, "UDP test refused: " + lease.error().message());
      return;
    }
    const uint16_t udp_port = lease->port();
    const std::array<std::byte, 2> port_be{std::byte(udp_port >> 8), std::byte(udp_port & 0xFF)};
    if (auto r = core::write_all(fd.get(), encode_ok(0), deadline.left()); !r) {
      drop(peer, "sending OK: " + r.error().message());
      return;
    }
    if (auto r = core::write_all(fd.get(), port_be, deadline.left()); !r) {
      drop(peer, "sending UDP port: " + r.error().message());
      return;
    }
    tracked.untrack();
    run_udp_test(std::move(fd), peer, *cmd, user, auth, std::move(*lease), std::move(grant));
    return;
  }

  // §10: register the token before the OK goes out, so a fast secondary finds it.
  std::shared_ptr<MultiSession> multi;
  uint16_t ok_token = 0;
  if (cmd->proto == Proto::kTcp && cmd->conn_count > 1) {
    multi = register_token(peer, cmd->connections());
    if (!multi) {
      drop(peer, "no free multi-connection token");
      return;
    }
    ok_token = multi->token;
  }
  if (auto r = core::write_all(fd.get(), encode_ok(ok_token), deadline.left()); !r) {
    if (multi) {
      release_token(multi);
    }
    drop(peer, "sending OK: " + r.error().message());
    return;
  }
  tracked.untrack();
  run_test(std::move(fd), peer, *cmd, user, auth, std::move(multi), std::move(grant));
}

void Server::Impl::auth_failed(int fd, const core::SockAddr& peer, const std::string& user, std::string_view method,
                               const std::string& why) {
  auth_failures.fetch_add(1);
  if (cfg.policy) {
    cfg.policy->rejected(peer, user, "auth_failed");
  }
  event(core::SyslogSeverity::kWarning, "AUTH_FAILURE",
        "peer=" + peer.to_string() + " user=" + (user.empty() ? "-" : user) + " method=" + std::string(method) +
            " reason=\"" + why + "\"");
  (void)core::write_all(fd, kReplyAuthFailed, core::Millis(1000));
}

// §5: 02 00 00 00 + 16-byte challenge, 48-byte answer.
std::optional<std::string> Server::Impl::authenticate_md5(int fd, const core::SockAddr& peer,
                                                          const core::Deadline& deadline) {
  Bytes16 challenge{};
  if (RAND_bytes(reinterpret_cast<unsigned char*>(challenge.data()), 16) != 1) {
    drop(peer, "no randomness for the MD5 challenge");
    return std::nullopt;
  }
  std::array<std::byte, 20> hello{};
  std::copy(kReplyMd5.begin(), kReplyMd5.end(), hello.begin());
  std::copy(challenge.begin(), challenge.end(), hello.begin() + 4);
  if (auto r = core::write_all(fd, hello, deadline.left()); !r) {
    drop(peer, "sending MD5 challenge: " + r.error().message());
    return std::nullopt;
  }
  Bytes48 resp{};
  if (auto r = core::read_exact(fd, resp, deadline.left()); !r) {
    drop(peer, "reading MD5 response: " + r.error().message());
    return std::nullopt;
  }
  Md5Response parsed = decode_md5_response(resp);
  std::optional<std::string> password;
  std::string expected_user = parsed.user;
  if (cfg.policy) {
    password = cfg.policy->md5_password(parsed.user);
  } else {
    password = cfg.auth->password;
    expected_user = cfg.auth->user;
  }
  if (!password || !md5_response_valid(parsed, expected_user, *password, challenge)) {
    auth_failed(fd, peer, parsed.user, "md5", "wrong user or password");
    return std::nullopt;
  }
  return parsed.user;
}

// §6.5-§6.7: 03 00 00 00, then [len][payload] messages MSG1..MSG4.
std::optional<std::string> Server::Impl::authenticate_ecsrp5(int fd, const core::SockAddr& peer,
                                                             const core::Deadline& deadline) {
  if (auto r = core::write_all(fd, kReplyEcSrp5, deadline.left()); !r) {
    drop(peer, "sending EC-SRP5 request: " + r.error().message());
    return std::nullopt;
  }
  auto hs = ecsrp5::ServerHandshake::create(fake_secret);
  if (!hs) {
    drop(peer, "EC-SRP5: " + hs.error().message());
    return std::nullopt;
  }
  std::vector<std::byte> msg;
  if (auto r = core::read_u8_prefixed(fd, msg, deadline.left()); !r) {
    drop(peer, "reading EC-SRP5 MSG1: " + r.error().message());
    return std::nullopt;
  }
  auto user = hs->on_msg1(msg);
  if (!user) {
    drop(peer, "bad EC-SRP5 MSG1: " + user.error().message());
    return std::nullopt;
  }
  // Unknown users get a deterministic fake verifier and fail at MSG3 (§6.9).
  std::optional<ecsrp5::Verifier> v;
  if (cfg.policy) {
    v = cfg.policy->ecsrp5_verifier(*user);
  } else if (*user == cfg.auth->user) {
    v = verifier;
  }
  auto msg2 = hs->msg2(v);
  if (!msg2) {
    drop(peer, "EC-SRP5 MSG2: " + msg2.error().message());
    return std::nullopt;
  }
  if (auto r = core::write_all(fd, *msg2, deadline.left()); !r) {
    drop(peer, "sending EC-SRP5 MSG2: " + r.error().message());
    return std::nullopt;
  }
  if (auto r = core::read_u8_prefixed(fd, msg, deadline.left()); !r) {
    // A client that gives up after MSG2 (wrong server proof expected, or gone).
    drop(peer, "reading EC-SRP5 MSG3: " + r.error().message());
    return std::nullopt;
  }
  auto msg4 = hs->on_msg3(msg);
  if (!msg4) {
    // §6.9 (uncertain on RouterOS): we answer AUTH_FAILED instead of MSG4 and close.
    auth_failed(fd, peer, *user, "ecsrp5", hs->user_known() ? "wrong password" : "unknown user");
    return std::nullopt;
  }
  if (auto r = core::write_all(fd, *msg4, deadline.left()); !r) {
    drop(peer, "sending EC-SRP5 MSG4: " + r.error().message());
    return std::nullopt;
  }
  return *user;
}

TestRecord Server::Impl::new_record(const core::SockAddr& peer, const Command& cmd, const std::string& user,
                                    std::string_view auth) const {
  TestRecord rec;
  rec.mode = "server";
  rec.peer = peer.to_string();
  rec.user = user;
  rec.auth = std::string(auth);
  rec.proto = cmd.proto;
  rec.direction = cmd.direction;
  rec.tx_speed_cap_bps = cmd.remote_tx_speed;  // §3: the server's cap is remote_tx_speed (not local!)
  rec.connections = cmd.connections();
  return rec;
}

std::string Server::Impl::tick_until_end(SteadyClock::time_point start, const core::Interrupt& ended,
                                         const std::function<std::string()>& ended_reason,
                                         const std::function<void(SteadyClock::time_point)>& on_tick,
                                         const TestGrant* grant) {
  auto next_tick = start + std::chrono::seconds(1);
  const bool capped = cfg.max_duration.count() > 0;
  const auto hard_end = start + cfg.max_duration;
  const core::Interrupt* exhausted = grant != nullptr ? grant->exhausted() : nullptr;
  for (;;) {
    auto wake = capped ? std::min(next_tick, hard_end) : next_tick;
    auto timeout = std::chrono::duration_cast<core::Millis>(wake - SteadyClock::now()) + core::Millis(1);
    int which = exhausted != nullptr ? wait_any({stop->fd(), ended.fd(), exhausted->fd()}, timeout)
                                     : wait_any({stop->fd(), ended.fd()}, timeout);
    // The budget comes first (its fd is readable, so the wait returned at once):
    // a data thread that ran out also ends its connection, and the quota is the
    // reason worth reporting.
    if (exhausted != nullptr && exhausted->requested()) {
      return grant->exhausted_reason();
    }
    if (which == 0) {
      return "server shutting down";
    }
    if (which == 1) {
      return ended_reason();
    }
    auto now = SteadyClock::now();
    if (capped && now >= hard_end) {
      return "max duration reached";
    }
    if (now < next_tick) {
      continue;
    }
    on_tick(now);
    next_tick += std::chrono::seconds(1);
    if (next_tick < now) {
      next_tick = now + std::chrono::seconds(1);  // the machine stalled: re-anchor
    }
  }
}

void Server::Impl::test_ended(TestRecord& rec, SteadyClock::time_point start, const std::string& reason,
                              std::optional<SteadyClock::time_point> end, TestGrant* grant) {
  rec.duration_s = std::chrono::duration<double>(end.value_or(SteadyClock::now()) - start).count();
  rec.end_reason = reason.empty() ? "ended" : reason;
  // The client closing is the normal end (spec §15); policy ends are not errors.
  rec.ok = rec.end_reason == kPeerClosed || rec.end_reason == kPeerReset || rec.end_reason == "server shutting down" ||
           rec.end_reason == "max duration reached" ||
           (grant != nullptr && grant->exhausted() != nullptr && grant->exhausted()->requested());
  if (grant != nullptr) {
    grant->ended(rec);
  }
  event(core::SyslogSeverity::kInfo, "TEST_END", end_fields(rec));
  if (csv) {
    if (auto r = csv->append(csv_row(rec)); !r) {
      log->warn("{}", r.error().message());
    }
  }
  finished.fetch_add(1);
  active.fetch_sub(1);
  if (cfg.on_test_end) {
    cfg.on_test_end(rec);
  }
}

void Server::Impl::run_test(core::Fd fd, const core::SockAddr& peer, const Command& cmd, const std::string& user,
                            std::string_view auth, std::shared_ptr<MultiSession> multi,
                            std::unique_ptr<TestGrant> grant) {
  active.fetch_add(1);
  started.fetch_add(1);
  const bool server_rx = client_sends(cmd.direction);
  TransferConfig tc;
  tc.send = server_sends(cmd.direction);
  // Random payload only where our stream carries no status records (dir 02): in
  // dir 03 the client must find our records inside the data (spec §9), so zeros.
  tc.random_payload = cmd.random_payload && cmd.direction == Direction::kClientRx;
  tc.peer_sends = server_rx;
  tc.tx_rate_bps = cmd.remote_tx_speed;
  tc.expected_connections = cmd.connections();
  tc.idle_timeout = cfg.idle_timeout;
  tc.idle_armed = false;  // armed when the test starts, after the secondaries
  tc.budget = grant ? grant->budget() : nullptr;
  TcpTransfer transfer(tc);
  TestRecord rec = new_record(peer, cmd, user, auth);

  transfer.add(std::move(fd));
  if (multi) {
    std::lock_guard lock(multi->mu);
    multi->transfer = &transfer;
    multi->primary_added = true;
    for (auto& f : multi->early) {
      transfer.add(std::move(f));
    }
    multi->early.clear();
    if (multi->joined >= multi->expected) {
      multi->all_joined.request();
    }
  }
  if (multi && !multi->all_joined.requested()) {
    // Start the clock the moment the last secondary joins (no polling), or after
    // the secondary timeout with whatever has arrived (§10).
    int which = wait_any({stop->fd(), multi->all_joined.fd(), transfer.primary_ended().fd()}, cfg.secondary_timeout);
    if (which == -1) {
      std::lock_guard lock(multi->mu);
      log->warn("peer {}: only {} of {} connections joined within {} ms; testing with those", rec.peer, multi->joined,
                multi->expected, cfg.secondary_timeout.count());
    }
  }
  if (multi) {
    std::lock_guard lock(multi->mu);
    rec.connections = multi->joined;
  }
  rec.start_unix_ms = unix_ms_now();
  transfer.arm_idle_timeout();
  event(core::SyslogSeverity::kInfo, "TEST_START", start_fields(rec));
  if (grant) {
    grant->started(rec);
  }

  // Status to the client when we receive (§8, §12), records for our own report.
  const auto start = SteadyClock::now();
  IntervalMeter meter(start);
  std::string reason = tick_until_end(
      start, transfer.primary_ended(), [&] { return transfer.end_reason(); },
      [&](SteadyClock::time_point now) {
        IntervalSample s =
            meter.take(now, transfer.rx_bytes(), transfer.tx_bytes(), static_cast<int>(core::system_cpu_percent()));
        if (server_rx) {
          transfer.send_status(encode_status(s.index, static_cast<unsigned>(s.local_cpu), s.rx_bytes));
        }
        rec.intervals.push_back(s);
        if (grant) {
          grant->interval(rec, s);
        }
      },
      grant.get());

  if (multi) {
    std::lock_guard lock(multi->mu);
    multi->closed = true;
  }
  if (grant) {
    grant->finishing();
  }
  transfer.finish(core::Millis(2000));
  if (multi) {
    release_token(multi);
    std::lock_guard lock(multi->mu);
    multi->transfer = nullptr;
    multi->early.clear();
  }
  rec.tx_bytes = transfer.tx_bytes();
  rec.rx_bytes = transfer.rx_bytes();
  rec.status_sent = transfer.status_records_sent();
  if (meter.moved(rec.rx_bytes, rec.tx_bytes)) {
    // The final partial interval, so the intervals sum to the totals.
    rec.intervals.push_back(
        meter.take(SteadyClock::now(), rec.rx_bytes, rec.tx_bytes, static_cast<int>(core::system_cpu_percent())));
    if (grant) {
      grant->interval(rec, rec.intervals.back());
    }
  }
  test_ended(rec, start, reason, std::nullopt, grant.get());
}

// §11: datagrams on the leased port, status both ways on the control connection
// every second (§8: in UDP mode unconditionally, whether or not we receive).
void Server::Impl::run_udp_test(core::Fd fd, const core::SockAddr& peer, const Command& cmd, const std::string& user,
                                std::string_view auth, UdpPortLease lease, std::unique_ptr<TestGrant> grant) {
  active.fetch_add(1);
  started.fetch_add(1);
  TestRecord rec = new_record(peer, cmd, user, auth);
  const bool v6 = peer.family() == AF_INET6;
  const unsigned overhead = v6 ? cfg.udp_ipv6_overhead : kUdpOverheadIpv4;

  UdpTransferConfig uc = udp_transfer_config(server_sends(cmd.direction), client_sends(cmd.direction), cfg.udp_offload,
                                             cmd.random_payload, overhead, cmd.tx_size, cmd.remote_tx_speed);
  core::SockAddr dest = peer;
  dest.set_port(static_cast<uint16_t>(lease.port() + 256));  // §11.1: the +256 rule
  uc.dest = dest;
  uc.peer_ports = cmd.connections();  // §11.6: a client with N connections sends from N ports
  uc.wait_for_peer = core::Millis(200);
  uc.budget = grant ? grant->budget() : nullptr;
  std::vector<core::Fd> socks;
  socks.push_back(std::move(lease.fd()));
  // The control connection now carries only status records; its silence for
  // idle_timeout ends the test (§15).
  UdpSession session(std::move(fd), cfg.idle_timeout, uc, std::move(socks));

  record_udp_setup(rec, uc, lease.port());
  rec.start_unix_ms = unix_ms_now();
  event(core::SyslogSeverity::kInfo, "TEST_START", start_fields(rec) + " udp_port=" + std::to_string(lease.port()));
  if (grant) {
    grant->started(rec);
  }
  const auto start = SteadyClock::now();
  session.start(start);
  std::string reason = tick_until_end(
      start, session.control().primary_ended(), [&] { return session.control().end_reason(); },
      [&](SteadyClock::time_point now) {
        rec.intervals.push_back(session.tick(now, rec));
        if (grant) {
          grant->interval(rec, rec.intervals.back());
        }
      },
      grant.get());

  const auto end = SteadyClock::now();
  // §15: the client is gone (or we stop): no more datagrams, then count what was
  // still in flight, close the socket and give the port back.
  const std::size_t ticked = rec.intervals.size();
  if (grant) {
    grant->finishing();
  }
  session.finish(rec, core::Millis(500), core::Millis(50), core::Millis(500));
  for (std::size_t i = ticked; grant && i < rec.intervals.size(); ++i) {
    grant->interval(rec, rec.intervals[i]);  // the final partial interval
  }
  if (std::string e = session.udp().error(); !e.empty()) {
    log->warn("peer {}: {}", rec.peer, e);
  }
  const uint64_t foreign = rec.udp.foreign;
  if (foreign > 0) {
    log->warn("peer {}: ignored {} datagram(s) from other addresses on UDP port {}", rec.peer, foreign, lease.port());
  }
  lease.release();
  test_ended(rec, start, reason, end, grant.get());
}

}  // namespace linerate::btest
