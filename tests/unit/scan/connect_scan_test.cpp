// tests/unit/scan/connect_scan_test.cpp — the TCP connect scan engine, on loopback only.
//
// Every connect goes to 127.0.0.0/8 or ::1. Open ports are listeners bound to port 0;
// closed ports are low ports (below the ephemeral range, so a connect can never
// self-connect to its own local port) that we verified nobody has bound. The
// "filtered" state normally needs a firewall (the lab covers ICMP-unreachable
// cases); here a no-response is made by a listener whose accept queue is full,
// which makes the kernel drop further SYNs.
#include "scan/connect_scan.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <vector>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/address.hpp"
#include "core/interrupt.hpp"
#include "core/socket.hpp"
#include "scan/permutation.hpp"

namespace linerate::scan {
namespace {

constexpr uint32_t kLo1 = 0x7f000001;  // 127.0.0.1

struct Listener {
  core::Fd fd;
  uint16_t port = 0;
};

Listener listen_on(const char* ip, int backlog = 128) {
  auto addr = core::parse_ip(ip, 0);
  EXPECT_TRUE(addr.has_value());
  auto fd = core::tcp_listen(*addr, backlog, true);
  EXPECT_TRUE(fd.has_value()) << (fd ? "" : fd.error().message());
  auto local = core::local_address(fd->get());
  EXPECT_TRUE(local.has_value());
  return Listener{std::move(*fd), local->port()};
}

bool can_bind(uint32_t ip_host_order, uint16_t port) {
  core::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(ip_host_order);
  return ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0;
}

/// `n` ports in [20000, 32000) that no socket has bound on any of 127.0.0.1..127.0.0.<hosts>.
std::vector<uint16_t> closed_ports(size_t n, uint32_t hosts = 1, uint16_t from = 20000) {
  std::vector<uint16_t> out;
  for (uint32_t p = from; p < 32000 && out.size() < n; ++p) {
    bool ok = true;
    for (uint32_t h = 0; h < hosts && ok; ++h) {
      ok = can_bind(kLo1 + h, static_cast<uint16_t>(p));
    }
    if (ok) {
      out.push_back(static_cast<uint16_t>(p));
    }
  }
  EXPECT_EQ(out.size(), n);
  return out;
}

TargetSet loopback_hosts(uint32_t count) {
  TargetSet t;
  t.add_range(Range4{kLo1, kLo1 + count - 1});
  return t;
}

ConnectScanConfig fast_config() {
  ConnectScanConfig cfg;
  cfg.max_parallelism = 64;
  cfg.initial_rtt_timeout = std::chrono::milliseconds(500);
  cfg.min_rtt_timeout = std::chrono::milliseconds(100);
  cfg.max_rtt_timeout = std::chrono::milliseconds(1000);
  cfg.seed = 42;
  return cfg;
}

using Key = std::tuple<uint32_t, uint16_t>;  // IPv4 (host order), port

struct Collected {
  std::vector<PortResult> results;
  std::map<Key, int> count;
  ScanProgress progress;
};

Collected run_scan(const TargetSet& targets, const PortSet& ports, const ConnectScanConfig& cfg,
                   core::Interrupt* stop_after = nullptr, size_t stop_at = 0) {
  core::Interrupt own;
  const core::Interrupt& stop = stop_after != nullptr ? *stop_after : own;
  Collected c;
  auto r = connect_scan(targets, ports, cfg, stop,
                        [&](const PortResult& pr) {
                          c.results.push_back(pr);
                          ++c.count[Key(pr.addr.v4_value(), pr.port)];
                          if (stop_after != nullptr && c.results.size() == stop_at) {
                            stop_after->request();
                          }
                        },
                        {});
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  if (r) {
    c.progress = *r;
  }
  return c;
}

TEST(ConnectScan, OpenAndClosedOnSeveralLoopbackHosts) {
  std::vector<Listener> listeners;
  for (int k = 0; k < 3; ++k) {
    listeners.push_back(listen_on("127.0.0.1"));
  }
  std::vector<uint16_t> port_list = closed_ports(5, 3);
  std::set<uint16_t> open_ports;
  for (const auto& l : listeners) {
    port_list.push_back(l.port);
    open_ports.insert(l.port);
  }
  PortSet ports = PortSet::from_ports(port_list);
  Collected c = run_scan(loopback_hosts(3), ports, fast_config());

  ASSERT_EQ(c.results.size(), 3u * port_list.size());
  for (const PortResult& r : c.results) {
    EXPECT_EQ(c.count[Key(r.addr.v4_value(), r.port)], 1) << r.addr.to_string() << ":" << r.port;
    EXPECT_EQ(r.proto, Protocol::kTcp);
    bool expect_open = r.addr.v4_value() == kLo1 && open_ports.count(r.port) == 1;
    if (expect_open) {
      EXPECT_EQ(r.state, PortState::kOpen) << r.addr.to_string() << ":" << r.port;
      EXPECT_EQ(r.reason, Reason::kSynAck);
    } else {
      EXPECT_EQ(r.state, PortState::kClosed) << r.addr.to_string() << ":" << r.port;
      EXPECT_EQ(r.reason, Reason::kConnRefused);
    }
  }
  EXPECT_EQ(c.progress.total, 3u * port_list.size());
  EXPECT_EQ(c.progress.done, c.progress.total);
  EXPECT_EQ(c.progress.open, 3u);
  EXPECT_EQ(c.progress.probes_sent, c.progress.total);
  EXPECT_EQ(c.progress.retries_sent, 0u);
  EXPECT_EQ(c.progress.in_flight, 0u);
}

// Two workers, each with its own epoll set and share of the indices: every pair
// is still reported exactly once, with the right verdict, and the callbacks run
// on the calling thread. 3 hosts x 3003 ports is above the 4096 pairs per worker
// that the engine asks for before it splits a scan.
TEST(ConnectScan, TwoWorkersReportEveryPairOnceOnTheCallingThread) {
  std::vector<Listener> listeners;
  for (int k = 0; k < 3; ++k) {
    listeners.push_back(listen_on("127.0.0.1"));
  }
  std::vector<uint16_t> port_list = closed_ports(3000, 3);
  std::set<uint16_t> open_ports;
  for (const auto& l : listeners) {
    port_list.push_back(l.port);
    open_ports.insert(l.port);
  }
  ConnectScanConfig cfg = fast_config();
  cfg.threads = 2;
  cfg.max_parallelism = 256;
  const auto caller = std::this_thread::get_id();
  bool foreign_thread = false;
  std::map<Key, int> count;
  std::map<Key, PortState> state;
  core::Interrupt stop;
  auto r = connect_scan(
      loopback_hosts(3), PortSet::from_ports(port_list), cfg, stop,
      [&](const PortResult& pr) {
        foreign_thread |= std::this_thread::get_id() != caller;
        ++count[Key(pr.addr.v4_value(), pr.port)];
        state[Key(pr.addr.v4_value(), pr.port)] = pr.state;
      },
      [&](const ScanProgress&) { foreign_thread |= std::this_thread::get_id() != caller; });
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_FALSE(foreign_thread);
  ASSERT_EQ(count.size(), 3u * port_list.size());
  for (const auto& [key, n] : count) {
    EXPECT_EQ(n, 1);
    bool expect_open = std::get<0>(key) == kLo1 && open_ports.count(std::get<1>(key)) == 1;
    EXPECT_EQ(state[key], expect_open ? PortState::kOpen : PortState::kClosed) << std::get<1>(key);
  }
  EXPECT_EQ(r->done, r->total);
  EXPECT_EQ(r->open, 3u);
  EXPECT_EQ(r->probes_sent, r->total);
}

// --dry-run: every pair counts as generated and done, no result is reported, and
// nothing reaches the listener that sits on one of the scanned ports.
TEST(ConnectScan, DryRunSendsNothing) {
  Listener l = listen_on("127.0.0.1");
  std::vector<uint16_t> pl = closed_ports(999);
  pl.push_back(l.port);
  ConnectScanConfig cfg = fast_config();
  cfg.dry_run = true;
  Collected c = run_scan(loopback_hosts(3), PortSet::from_ports(pl), cfg);
  EXPECT_TRUE(c.results.empty());
  EXPECT_EQ(c.progress.total, 3000u);
  EXPECT_EQ(c.progress.done, 3000u);
  EXPECT_EQ(c.progress.probes_sent, 3000u);
  EXPECT_EQ(c.progress.in_flight, 0u);
  int fd = ::accept4(l.fd.get(), nullptr, nullptr, SOCK_NONBLOCK);
  int err = errno;
  EXPECT_EQ(fd, -1) << "the dry run connected to the listener";
  EXPECT_TRUE(err == EAGAIN || err == EWOULDBLOCK) << err;
  if (fd >= 0) {
    ::close(fd);
  }
}

TEST(ConnectScan, Ipv6LoopbackWorks) {
  auto addr = core::parse_ip("::1", 0);
  ASSERT_TRUE(addr.has_value());
  auto fd = core::tcp_listen(*addr, 16, true);
  if (!fd) {
    GTEST_SKIP() << "no ::1 here: " << fd.error().message();
  }
  uint16_t open_port = core::local_address(fd->get())->port();
  // A closed port: bind it on ::1 to check that nobody has it, then let it go.
  uint16_t closed_port = 0;
  for (uint16_t p = 21000; p < 32000 && closed_port == 0; ++p) {
    auto a = core::parse_ip("::1", p);
    core::Fd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (::bind(probe.get(), a->get(), a->len()) == 0) {
      closed_port = p;
    }
  }
  ASSERT_NE(closed_port, 0);
  TargetSet targets;
  targets.add_range(Range6{1, 1});  // ::1
  std::vector<uint16_t> pl{open_port, closed_port};
  std::map<uint16_t, PortResult> got;
  core::Interrupt stop;
  auto r = connect_scan(targets, PortSet::from_ports(pl), fast_config(), stop,
                        [&](const PortResult& pr) { got[pr.port] = pr; }, {});
  ASSERT_TRUE(r.has_value()) << r.error().message();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[open_port].addr, Address::v6(1));
  EXPECT_EQ(got[open_port].state, PortState::kOpen);
  EXPECT_EQ(got[closed_port].state, PortState::kClosed);
  EXPECT_EQ(got[closed_port].reason, Reason::kConnRefused);
}

std::vector<uint16_t> order_of(const std::vector<PortResult>& rs) {
  std::vector<uint16_t> out;
  for (const auto& r : rs) {
    out.push_back(r.port);
  }
  return out;
}

TEST(ConnectScan, OrderIsPermutedAndReproducibleWithParallelismOne) {
  std::vector<uint16_t> pl = closed_ports(40);
  PortSet ports = PortSet::from_ports(pl);
  ConnectScanConfig cfg = fast_config();
  cfg.max_parallelism = 1;  // results then arrive in probe order
  cfg.seed = 7;
  Collected a = run_scan(loopback_hosts(1), ports, cfg);
  Collected b = run_scan(loopback_hosts(1), ports, cfg);
  cfg.seed = 8;
  Collected other = run_scan(loopback_hosts(1), ports, cfg);
  ASSERT_EQ(a.results.size(), pl.size());
  ASSERT_EQ(other.results.size(), pl.size());
  std::vector<uint16_t> oa = order_of(a.results);
  EXPECT_EQ(oa, order_of(b.results));
  EXPECT_NE(oa, order_of(other.results));
  EXPECT_FALSE(std::is_sorted(oa.begin(), oa.end()));
  std::vector<uint16_t> sorted = oa;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, pl);  // every port exactly once
  // The documented mapping: result k is pair shuffle(k), port = ports.nth(x / hosts).
  Permutation perm(pl.size(), 7);
  for (uint64_t i = 0; i < pl.size(); ++i) {
    EXPECT_EQ(oa[i], ports.nth(static_cast<uint32_t>(perm.shuffle(i))));
  }
}

TEST(ConnectScan, HostVariesFastest) {
  std::vector<uint16_t> pl = closed_ports(10, 4);
  ConnectScanConfig cfg = fast_config();
  cfg.max_parallelism = 1;
  Collected c = run_scan(loopback_hosts(4), PortSet::from_ports(pl), cfg);
  ASSERT_EQ(c.results.size(), 40u);
  Permutation perm(40, cfg.seed);
  PortSet ports = PortSet::from_ports(pl);
  for (uint64_t i = 0; i < 40; ++i) {
    uint64_t x = perm.shuffle(i);
    EXPECT_EQ(c.results[i].addr.v4_value(), kLo1 + static_cast<uint32_t>(x % 4));
    EXPECT_EQ(c.results[i].port, ports.nth(static_cast<uint32_t>(x / 4)));
  }
}

TEST(ConnectScan, StopRequestEndsEarly) {
  std::vector<uint16_t> pl = closed_ports(200);
  ConnectScanConfig cfg = fast_config();
  cfg.max_parallelism = 1;
  core::Interrupt stop;
  Collected c = run_scan(loopback_hosts(1), PortSet::from_ports(pl), cfg, &stop, 10);
  EXPECT_GE(c.results.size(), 10u);
  EXPECT_LT(c.results.size(), pl.size());
  EXPECT_EQ(c.progress.done, c.results.size());
  for (const auto& [key, n] : c.count) {
    EXPECT_EQ(n, 1);
  }
}

TEST(ConnectScan, StopRequestedBeforeStartReportsNothing) {
  std::vector<uint16_t> pl = closed_ports(20);
  core::Interrupt stop;
  stop.request();
  Collected c = run_scan(loopback_hosts(1), PortSet::from_ports(pl), fast_config(), &stop, 0);
  EXPECT_TRUE(c.results.empty());
  EXPECT_EQ(c.progress.total, 20u);
  EXPECT_EQ(c.progress.done, 0u);
}

TEST(ConnectScan, EmptyTargetsFinishAtOnce) {
  std::vector<uint16_t> pl{1};
  Collected c = run_scan(TargetSet{}, PortSet::from_ports(pl), fast_config());
  EXPECT_TRUE(c.results.empty());
  EXPECT_EQ(c.progress.total, 0u);
}

TEST(ConnectScan, TooManyPairsIsAnError) {
  TargetSet huge;
  huge.add_range(Range6{0, ~U128{0}});  // size saturates at 2^64-1; never probed
  std::vector<uint16_t> pl{1, 2};
  core::Interrupt stop;
  auto r = connect_scan(huge, PortSet::from_ports(pl), fast_config(), stop, [](const PortResult&) { FAIL(); }, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("pairs"), std::string::npos);
}

TEST(ConnectScan, RateLimitPacesConnects) {
  std::vector<uint16_t> pl = closed_ports(100);
  ConnectScanConfig cfg = fast_config();
  cfg.max_rate_pps = 200;
  int progress_calls = 0;
  core::Interrupt stop;
  auto t0 = std::chrono::steady_clock::now();
  size_t n = 0;
  auto r = connect_scan(
      loopback_hosts(1), PortSet::from_ports(pl), cfg, stop, [&](const PortResult&) { ++n; },
      [&](const ScanProgress& p) {
        ++progress_calls;
        EXPECT_LE(p.done, p.total);
      });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(n, 100u);
  EXPECT_EQ(r->probes_sent, 100u);
  EXPECT_GE(secs, 0.4);  // 100 connects at 200/s: ~0.5 s (no upper bound: STYLE §5)
  EXPECT_GE(r->elapsed_s, 0.4);
  EXPECT_GE(progress_calls, 1);
}

// A rate below one per second (nmap's -T2 is one probe per 0.4 s, -T1 one per
// 15 s) is honoured, not rounded up: 3 connects at 2.5/s need at least 0.8 s
// (the bucket starts with one token).
TEST(ConnectScan, FractionalRateIsHonoured) {
  std::vector<uint16_t> pl = closed_ports(3);
  ConnectScanConfig cfg = fast_config();
  cfg.max_rate_pps = 2.5;
  Collected c;
  auto t0 = std::chrono::steady_clock::now();
  c = run_scan(loopback_hosts(1), PortSet::from_ports(pl), cfg);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(c.results.size(), 3u);
  EXPECT_GE(secs, 0.75);  // lower bound only (STYLE §5)
}

// A listener whose accept queue is full makes the kernel drop new SYNs: a real
// "no answer" on loopback. backlog 0 holds one connection; we fill it and never accept.
struct BlackHole {
  Listener listener;
  core::Fd client;
};

BlackHole make_black_hole() {
  BlackHole bh{listen_on("127.0.0.1", 0), {}};
  auto addr = core::parse_ip("127.0.0.1", bh.listener.port);
  auto c = core::tcp_connect(*addr, std::chrono::milliseconds(2000));
  EXPECT_TRUE(c.has_value());
  if (c) {
    bh.client = std::move(*c);
  }
  return bh;
}

TEST(ConnectScan, UnansweredPortIsRetriedThenFiltered) {
  BlackHole bh = make_black_hole();
  std::vector<uint16_t> pl{bh.listener.port};
  ConnectScanConfig cfg = fast_config();
  cfg.initial_rtt_timeout = std::chrono::milliseconds(150);
  cfg.min_rtt_timeout = std::chrono::milliseconds(100);
  cfg.max_retries = 2;
  Collected c = run_scan(loopback_hosts(1), PortSet::from_ports(pl), cfg);
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.results[0].state, PortState::kFiltered);
  EXPECT_EQ(c.results[0].reason, Reason::kNoResponse);
  EXPECT_EQ(c.results[0].rtt_us, 0u);
  // max_retries is a ceiling: no answered probe ever needed a re-probe here, so
  // the port gets one (nmap's rule, ConnectScanConfig::max_retries).
  EXPECT_EQ(c.progress.probes_sent, 2u);
  EXPECT_EQ(c.progress.retries_sent, 1u);

  cfg.max_retries = 0;
  Collected once = run_scan(loopback_hosts(1), PortSet::from_ports(pl), cfg);
  ASSERT_EQ(once.results.size(), 1u);
  EXPECT_EQ(once.results[0].state, PortState::kFiltered);
  EXPECT_EQ(once.progress.probes_sent, 1u);
}

// --min-rate lets connects exceed the congestion window. 512 pairs that never
// answer (127.0.2.0/23 to a port whose wildcard listener has a full accept queue:
// the kernel drops the SYNs) keep the window at its initial 256, so without a
// floor at most 256 are ever in flight; with a floor far above what is reached,
// the window stops limiting after the first second and all 512 go out. The scan
// is stopped at 1.6 s, long before the 5 s timeout.
uint64_t max_in_flight_with_min_rate(double min_rate) {
  BlackHole bh{listen_on("0.0.0.0", 0), {}};
  auto addr = core::parse_ip("127.0.0.1", bh.listener.port);
  auto c = core::tcp_connect(*addr, std::chrono::milliseconds(2000));
  EXPECT_TRUE(c.has_value());
  if (c) {
    bh.client = std::move(*c);
  }
  TargetSet targets;
  targets.add_range(Range4{0x7F000200u, 0x7F0003FFu});
  std::vector<uint16_t> pl{bh.listener.port};
  ConnectScanConfig cfg = fast_config();
  cfg.threads = 1;
  cfg.max_parallelism = 1024;
  cfg.initial_rtt_timeout = std::chrono::milliseconds(5000);
  cfg.min_rtt_timeout = std::chrono::milliseconds(5000);
  cfg.max_rtt_timeout = std::chrono::milliseconds(5000);
  cfg.min_rate_pps = min_rate;
  core::Interrupt stop;
  uint64_t peak = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = connect_scan(
      targets, PortSet::from_ports(pl), cfg, stop, [](const PortResult&) {},
      [&](const ScanProgress& p) {
        peak = std::max(peak, p.in_flight);
        if (std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(1600)) {
          stop.request();
        }
      });
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return peak;
}

TEST(ConnectScan, MinRateLetsConnectsExceedTheCongestionWindow) {
  EXPECT_LE(max_in_flight_with_min_rate(0), 256u);
  EXPECT_EQ(max_in_flight_with_min_rate(1e6), 512u);
}

TEST(ConnectScan, HostTimeoutStopsRetries) {
  BlackHole bh = make_black_hole();
  std::vector<uint16_t> pl{bh.listener.port};
  ConnectScanConfig cfg = fast_config();
  cfg.initial_rtt_timeout = std::chrono::milliseconds(150);
  cfg.max_retries = 5;
  cfg.host_timeout = std::chrono::milliseconds(50);
  Collected c = run_scan(loopback_hosts(1), PortSet::from_ports(pl), cfg);
  ASSERT_EQ(c.results.size(), 1u);
  EXPECT_EQ(c.results[0].state, PortState::kFiltered);
  EXPECT_EQ(c.results[0].reason, Reason::kNoResponse);
  EXPECT_EQ(c.progress.retries_sent, 0u);
}

// Filtered by silent drops is covered by tests/integration/lrscan_lab_test.sh (nft
// drops in the lab); ICMP-unreachable verdicts need routes or firewall rules
// that loopback cannot give, and have no test yet.

// RLIMIT_NOFILE = 64 in a forked child, with most of those fds taken: the scan must
// lower its parallelism (at start and on EMFILE) and still finish correctly.
TEST(ConnectScan, LowFdLimitStillCompletes) {
  std::vector<Listener> listeners;
  for (int k = 0; k < 5; ++k) {
    listeners.push_back(listen_on("127.0.0.1"));
  }
  std::vector<uint16_t> pl = closed_ports(495);
  std::set<uint16_t> open_ports;
  for (const auto& l : listeners) {
    pl.push_back(l.port);
    open_ports.insert(l.port);
  }
  PortSet ports = PortSet::from_ports(pl);
  ASSERT_EQ(ports.size(), 500u);

  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    rlimit rl{64, 64};
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) {
      ::_exit(10);
    }
    // Take all but ~6 fds, so the start-up cap (32) is more than fits: EMFILE path.
    std::vector<int> hogs;
    for (;;) {
      int fd = ::dup(0);
      if (fd < 0) {
        break;
      }
      hogs.push_back(fd);
    }
    for (int k = 0; k < 6 && !hogs.empty(); ++k) {
      ::close(hogs.back());
      hogs.pop_back();
    }
    core::Interrupt stop;  // one more fd (eventfd)
    std::map<uint16_t, int> seen;
    int bad = 0;
    auto r = connect_scan(loopback_hosts(1), ports, fast_config(), stop,
                          [&](const PortResult& pr) {
                            ++seen[pr.port];
                            bool open = open_ports.count(pr.port) == 1;
                            if (open ? pr.state != PortState::kOpen : pr.state != PortState::kClosed) {
                              ++bad;
                            }
                          },
                          {});
    if (!r) {
      ::_exit(11);
    }
    if (seen.size() != 500 || r->done != 500 || r->open != 5) {
      ::_exit(12);
    }
    for (const auto& [port, n] : seen) {
      if (n != 1) {
        ::_exit(13);
      }
    }
    ::_exit(bad == 0 ? 0 : 14);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << "child died, status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10 setrlimit, 11 scan error, 12 counts, 13 duplicate, 14 wrong state";
}

}  // namespace
}  // namespace linerate::scan
