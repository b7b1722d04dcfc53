// bench/load/btest_auth.cpp — login rate of the btest server: complete handshakes per second.
//
// Performs N complete logins (default 5000 for MD5, 2000 for EC-SRP5) against
// HOST:PORT with C worker threads (default 4), each doing one login after the
// other. A login is everything a client does before a test starts:
//
//   connect, read HELLO (01 00 00 00), send a TCP command (direction receive,
//   conn_count 0; --direction transmit for a server that only reads), read the
//   4-byte reply, then
//     md5:    read the 16-byte challenge, send encode_md5_response(), read OK;
//     ecsrp5: ClientHandshake: MSG1, read [len] MSG2, on_msg2 -> MSG3, read
//             [len] MSG4, on_msg4, read OK;
//   close at once (the server has started the test; it sees the close and ends it).
//
// The handshake is written out here on raw sockets rather than through
// btest::run_client, because run_client would go on to run a test (threads, a
// ticker, a timed end) and its latency could not be split from the login. The
// codec (protocol.hpp, ecsrp5.hpp) is the library's, so the bytes are those of
// `btest -c`.
//
// Reported: logins/s (ok logins / wall time from start to the last login's end),
// per-login latency connect -> OK (p50/p99/max, steady clock, µs resolution) and its
// phases (connect; HELLO; command -> reply; auth: reply -> OK), failures with a
// one-line reason, the client's own CPU time per login (getrusage RUSAGE_SELF:
// the client's EC-SRP5 math, ~0.85 ms a login, runs on the same cores as the
// server, so a loopback run understates what the server could do alone), and,
// with --server-pid, the server's CPU time per login from /proc/PID/stat
// (utime+stime of every thread, live or exited, over the run; read again 0.3 s
// after the last login so the ends of the last sessions are counted).
//
// Bounds: each login step waits at most --timeout (default 5 s) in all, so a
// login ends within it; no login starts after --deadline (default 60 s) and the
// ones not started count as failures; SIGINT/SIGTERM act like the deadline.
// The run therefore ends within deadline + timeout.
//
// Exit status: 0 every login ok; 1 a login failed or was not started; 2 usage error.
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "btest/ecsrp5.hpp"
#include "btest/protocol.hpp"
#include "core/address.hpp"
#include "core/interrupt.hpp"
#include "core/socket.hpp"
#include "core/units.hpp"
#include "stats.hpp"

namespace {

using linerate::bench::spread;

namespace btest = linerate::btest;
namespace ecsrp5 = linerate::btest::ecsrp5;
namespace core = linerate::core;
using SteadyClock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

enum class Method { kMd5, kEcSrp5 };

struct AuthConfig {
  std::string host = "127.0.0.1";
  uint16_t port = btest::kDefaultPort;
  Method method = Method::kMd5;
  std::string method_name = "md5";
  unsigned logins = 0;  // 0 until parsed: then the method's default
  unsigned concurrency = 4;
  std::string direction = "receive";  // of the command, client's words; "transmit" to keep the server quiet
  std::string user;
  std::string password;
  unsigned users = 0;  // > 0: login i uses user "<user><i % users>" (a user database, btest-pro)
  core::Millis deadline{60'000};
  core::Millis timeout{5'000};
  int server_pid = 0;  // 0 = do not read the server's CPU time
  std::string json_path;
  unsigned show_failures = 5;
  bool quiet = false;
};

// Phase boundaries of one login, in ms since its start (connect).
struct Login {
  bool ok = false;
  double connect_ms = 0;  // connect() returned
  double hello_ms = 0;    // HELLO read
  double reply_ms = 0;    // command sent, 4-byte reply read
  double total_ms = 0;    // final OK read (== latency)
  std::string error;
};

double ms_since(SteadyClock::time_point t0) {
  return std::chrono::duration<double, std::milli>(SteadyClock::now() - t0).count();
}

// One login; fills `out`. Every wait is bounded by cfg.timeout from the start.
void do_login(const AuthConfig& cfg, const std::string& user, const core::SockAddr& addr, const btest::Bytes16& command,
              Login& out) {
  const auto t0 = SteadyClock::now();
  const auto deadline = t0 + cfg.timeout;
  auto left = [&] {
    return std::max(core::Millis(0), std::chrono::duration_cast<core::Millis>(deadline - SteadyClock::now()));
  };
  auto fail = [&](const std::string& step, const std::string& why) { out.error = step + ": " + why; };

  auto fd = core::tcp_connect(addr, left());
  if (!fd) {
    return fail("connect", fd.error().message());
  }
  out.connect_ms = ms_since(t0);
  const int s = fd->get();
  btest::Bytes4 four{};
  if (auto r = core::read_exact(s, four, left()); !r) {
    return fail("HELLO", r.error().message());
  }
  if (four != btest::kHello) {
    return fail("HELLO", "got " + btest::hex(four) + ", expected 01 00 00 00");
  }
  out.hello_ms = ms_since(t0);
  if (auto r = core::write_all(s, command, left()); !r) {
    return fail("command", r.error().message());
  }
  if (auto r = core::read_exact(s, four, left()); !r) {
    return fail("reply to the command", r.error().message());
  }
  const btest::ReplyKind want = cfg.method == Method::kMd5 ? btest::ReplyKind::kMd5 : btest::ReplyKind::kEcSrp5;
  if (btest::decode_reply(four).kind != want) {
    return fail("reply to the command", "got " + btest::hex(four) + ", the server did not ask for " + cfg.method_name);
  }
  out.reply_ms = ms_since(t0);

  if (cfg.method == Method::kMd5) {
    btest::Bytes16 challenge{};
    if (auto r = core::read_exact(s, challenge, left()); !r) {
      return fail("MD5 challenge", r.error().message());
    }
    const btest::Bytes48 resp = btest::encode_md5_response(user, cfg.password, challenge);
    if (auto r = core::write_all(s, resp, left()); !r) {
      return fail("MD5 response", r.error().message());
    }
  } else {
    auto hs = ecsrp5::ClientHandshake::start(user, cfg.password);
    if (!hs) {
      return fail("EC-SRP5 start", hs.error().message());
    }
    if (auto r = core::write_all(s, hs->msg1(), left()); !r) {
      return fail("EC-SRP5 MSG1", r.error().message());
    }
    std::vector<std::byte> payload;
    auto read_frame = [&]() -> core::Result<void> {
      std::array<std::byte, 1> len{};
      if (auto r = core::read_exact(s, len, left()); !r) {
        return r;
      }
      payload.resize(static_cast<std::size_t>(len[0]));
      return core::read_exact(s, payload, left());
    };
    if (auto r = read_frame(); !r) {
      return fail("EC-SRP5 MSG2", r.error().message());
    }
    auto msg3 = hs->on_msg2(payload);
    if (!msg3) {
      return fail("EC-SRP5 MSG2", msg3.error().message());
    }
    if (auto r = core::write_all(s, *msg3, left()); !r) {
      return fail("EC-SRP5 MSG3", r.error().message());
    }
    if (auto r = read_frame(); !r) {
      return fail("EC-SRP5 MSG4", r.error().message());
    }
    if (auto r = hs->on_msg4(payload); !r) {
      return fail("EC-SRP5 MSG4", r.error().message() + " (payload " + std::to_string(payload.size()) + " bytes)");
    }
  }
  if (auto r = core::read_exact(s, four, left()); !r) {
    return fail("final reply", r.error().message());
  }
  const btest::Reply final_reply = btest::decode_reply(four);
  if (final_reply.kind != btest::ReplyKind::kOk) {
    return fail("final reply", final_reply.kind == btest::ReplyKind::kAuthFailed
                                   ? std::string("authentication failed (00 00 00 00)")
                                   : "got " + btest::hex(four) + ", expected OK 01 .. .. 00");
  }
  out.total_ms = ms_since(t0);
  out.ok = true;
  // fd closes here: the immediate close of the issue.
}

struct Run {
  Run(const AuthConfig& c, const core::SockAddr& a, core::Interrupt& s) : cfg(c), addr(a), stop(s), logins(c.logins) {}
  const AuthConfig& cfg;
  const core::SockAddr& addr;
  core::Interrupt& stop;
  btest::Bytes16 command{};
  SteadyClock::time_point deadline_at;
  std::atomic<unsigned> next{0};

  std::mutex mu;  // guards below
  std::vector<std::optional<Login>> logins;
  std::vector<std::pair<uint64_t, unsigned>> failure_order;  // (completion seq, login index)
  uint64_t done = 0;
  SteadyClock::time_point last_end;
};

void worker(Run& run) {
  for (;;) {
    if (run.stop.requested() || SteadyClock::now() >= run.deadline_at) {
      return;
    }
    const unsigned i = run.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= run.cfg.logins) {
      return;
    }
    Login l;
    try {
      const std::string user = run.cfg.users > 0 ? run.cfg.user + std::to_string(i % run.cfg.users) : run.cfg.user;
      do_login(run.cfg, user, run.addr, run.command, l);
    } catch (const std::exception& e) {
      l = Login{};
      l.error = std::string("exception: ") + e.what();
    }
    const auto t1 = SteadyClock::now();
    std::lock_guard lock(run.mu);
    ++run.done;
    if (!l.ok) {
      run.failure_order.emplace_back(run.done, i);
    }
    run.logins[i] = std::move(l);
    run.last_end = std::max(run.last_end, t1);
  }
}

struct CpuTimes {
  double user_s = 0;
  double sys_s = 0;
};

CpuTimes self_cpu() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return {sec(ru.ru_utime), sec(ru.ru_stime)};
}

// utime and stime (fields 14, 15) of /proc/PID/stat: the whole process, exited
// threads included. nullopt when the process is gone or the file is odd.
std::optional<CpuTimes> proc_cpu(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(f, line)) {
    return std::nullopt;
  }
  const auto paren = line.rfind(')');  // the command name may hold spaces and ')'
  if (paren == std::string::npos) {
    return std::nullopt;
  }
  std::istringstream in(line.substr(paren + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ")": field 3 (state) is the first; utime is field 14, stime 15.
  for (int k = 3; k <= 15 && in >> field; ++k) {
    try {
      if (k == 14) {
        utime = std::stoull(field);
      } else if (k == 15) {
        stime = std::stoull(field);
      }
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  if (!in) {
    return std::nullopt;
  }
  const auto tck = static_cast<double>(::sysconf(_SC_CLK_TCK));
  return CpuTimes{static_cast<double>(utime) / tck, static_cast<double>(stime) / tck};
}

std::optional<AuthConfig> parse_args(int argc, char** argv, int& exit_code) {
  AuthConfig cfg;
  CLI::App app{"btest_auth — complete btest logins per second against one server (MD5 or EC-SRP5)", "btest_auth"};
  app.footer(
      "A login: connect, HELLO, TCP command (receive), auth, OK, close.\n"
      "Exit status: 0 every login ok; 1 a login failed or was not started by the deadline; 2 usage error.\n"
      "Durations take 1, 2.5, 500ms, 30s, 5m.");
  std::string deadline = "60";
  std::string timeout = "5";
  app.add_option("host", cfg.host, "Server address, numeric (default 127.0.0.1)");
  app.add_option("-P,--port", cfg.port, "Server TCP port (default 2000)")->check(CLI::Range(1, 65535));
  app.add_option("--method", cfg.method_name, "md5 (default) or ecsrp5: the server must ask for this one")
      ->check(CLI::IsMember({"md5", "ecsrp5"}));
  app.add_option("-n,--logins", cfg.logins, "Logins to perform (default 5000 for md5, 2000 for ecsrp5)")
      ->check(CLI::Range(1U, 10'000'000U));
  app.add_option("-c,--concurrency", cfg.concurrency, "Worker threads, each logging in sequentially (default 4)")
      ->check(CLI::Range(1U, 1024U));
  app.add_option("--direction", cfg.direction,
                 "Direction in the command, client's words: receive (default: the server starts sending after "
                 "OK, until it sees the close) or transmit (the server only reads)")
      ->check(CLI::IsMember({"receive", "transmit"}));
  app.add_option("-a,--user", cfg.user, "User name")->required();
  app.add_option("-p,--password", cfg.password, "Password")->required();
  app.add_option("--users", cfg.users,
                 "Spread logins over N users named <-a>0 .. <-a>N-1, all with password -p (a user database)");
  app.add_option("--deadline", deadline, "Start no login after this long; the rest fail (default 60 s)");
  app.add_option("--timeout", timeout, "Bound on one login, connect to OK (default 5 s)");
  app.add_option("--server-pid", cfg.server_pid, "Read this server process's CPU time from /proc before and after")
      ->check(CLI::Range(1, 1 << 30));
  app.add_option("--json", cfg.json_path, "Also write the report as JSON to FILE");
  app.add_option("--show-failures", cfg.show_failures, "Failure messages to print (default 5)");
  app.add_flag("-q,--quiet", cfg.quiet, "Only the summary");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    if (exit_code != 0) {
      exit_code = kExitUsage;
    }
    return std::nullopt;
  }
  auto usage = [&exit_code](const std::string& msg) -> std::optional<AuthConfig> {
    std::fprintf(stderr, "btest_auth: %s\n", msg.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  };
  auto dl = core::parse_duration_ms(deadline);
  if (!dl || *dl == 0) {
    return usage("--deadline: " + (dl ? std::string("must be above 0") : dl.error().message()));
  }
  auto to = core::parse_duration_ms(timeout);
  if (!to || *to == 0) {
    return usage("--timeout: " + (to ? std::string("must be above 0") : to.error().message()));
  }
  cfg.deadline = core::Millis(static_cast<int64_t>(*dl));
  cfg.timeout = core::Millis(static_cast<int64_t>(*to));
  cfg.method = cfg.method_name == "md5" ? Method::kMd5 : Method::kEcSrp5;
  if (cfg.logins == 0) {
    cfg.logins = cfg.method == Method::kMd5 ? 5000 : 2000;
  }
  if (cfg.user.empty()) {
    return usage("-a needs a non-empty user name");
  }
  if (cfg.method == Method::kEcSrp5) {
    // Fail here, not 2000 times in the run.
    if (auto hs = ecsrp5::ClientHandshake::start(cfg.user, cfg.password); !hs) {
      return usage("-a: " + hs.error().message());
    }
  }
  cfg.concurrency = std::min(cfg.concurrency, cfg.logins);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = kExitOk;
  auto parsed = parse_args(argc, argv, exit_code);
  if (!parsed) {
    return exit_code;
  }
  const AuthConfig& cfg = *parsed;
  auto addr = core::parse_ip(cfg.host, cfg.port);
  if (!addr) {
    std::fprintf(stderr, "btest_auth: %s\n", addr.error().message().c_str());
    return kExitUsage;
  }
  if (cfg.server_pid != 0 && !proc_cpu(cfg.server_pid)) {
    std::fprintf(stderr, "btest_auth: --server-pid %d: cannot read /proc/%d/stat\n", cfg.server_pid, cfg.server_pid);
    return kExitUsage;
  }
  core::Interrupt stop;
  core::install_signal_stop(stop);  // also ignores SIGPIPE

  if (!cfg.quiet) {
    std::fprintf(stderr, "btest_auth: %u %s logins against %s, %u worker(s), deadline %.3g s\n", cfg.logins,
                 cfg.method_name.c_str(), addr->to_string().c_str(), cfg.concurrency,
                 static_cast<double>(cfg.deadline.count()) / 1000.0);
  }

  Run run(cfg, *addr, stop);
  btest::Command cmd;
  cmd.proto = btest::Proto::kTcp;
  cmd.direction = cfg.direction == "transmit" ? btest::Direction::kClientTx : btest::Direction::kClientRx;
  cmd.conn_count = 0;
  run.command = btest::encode_command(cmd);

  const std::optional<CpuTimes> server_before = cfg.server_pid != 0 ? proc_cpu(cfg.server_pid) : std::nullopt;
  const CpuTimes self_before = self_cpu();
  const auto started_at = SteadyClock::now();
  run.deadline_at = started_at + cfg.deadline;
  run.last_end = started_at;

  std::vector<std::thread> workers;
  std::string spawn_error;
  for (unsigned k = 0; k < cfg.concurrency; ++k) {
    try {
      workers.emplace_back(worker, std::ref(run));
    } catch (const std::system_error& e) {
      spawn_error =
          "could start only " + std::to_string(k) + " of " + std::to_string(cfg.concurrency) + " workers: " + e.what();
      break;
    }
  }
  for (auto& w : workers) {
    w.join();  // each login is bounded by --timeout, each worker by the deadline
  }
  const CpuTimes self_after = self_cpu();
  std::optional<CpuTimes> server_after;
  if (server_before) {
    // Let the server finish the sessions of the last logins (it sees the close,
    // ends the test, joins the handler threads on its next poll wake-up).
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    server_after = proc_cpu(cfg.server_pid);
  }
  if (!spawn_error.empty()) {
    std::fprintf(stderr, "btest_auth: warning: %s\n", spawn_error.c_str());
  }

  // Tally.
  uint64_t attempted = 0, ok = 0, failed = 0, not_started = 0;
  std::vector<double> total, connect, hello, reply, auth;
  std::map<std::string, uint64_t> failure_counts;
  for (const auto& slot : run.logins) {
    if (!slot) {
      ++not_started;
      continue;
    }
    ++attempted;
    if (!slot->ok) {
      ++failed;
      ++failure_counts[slot->error];
      continue;
    }
    ++ok;
    total.push_back(slot->total_ms);
    connect.push_back(slot->connect_ms);
    hello.push_back(slot->hello_ms - slot->connect_ms);
    reply.push_back(slot->reply_ms - slot->hello_ms);
    auth.push_back(slot->total_ms - slot->reply_ms);
  }
  std::sort(run.failure_order.begin(), run.failure_order.end());
  std::vector<std::string> first_failures;
  for (const auto& [seq, i] : run.failure_order) {
    if (first_failures.size() >= cfg.show_failures) {
      break;
    }
    first_failures.push_back("login #" + std::to_string(i) + ": " + run.logins[i]->error);
  }
  if (not_started > 0 && first_failures.size() < cfg.show_failures) {
    first_failures.push_back(std::to_string(not_started) +
                             " login(s) not started: " + (stop.requested() ? "interrupted" : "deadline reached"));
  }
  const double wall_s = std::max(1e-9, std::chrono::duration<double>(run.last_end - started_at).count());
  const double logins_per_s = static_cast<double>(ok) / wall_s;
  const double per_login = ok > 0 ? 1000.0 / static_cast<double>(ok) : 0.0;  // s -> ms per ok login

  nlohmann::ordered_json doc;
  doc["benchmark"] = "btest_auth";
  doc["method"] = cfg.method_name;
  doc["host"] = cfg.host;
  doc["port"] = cfg.port;
  doc["logins_requested"] = cfg.logins;
  doc["concurrency"] = cfg.concurrency;
  doc["direction"] = cfg.direction;
  doc["deadline_s"] = static_cast<double>(cfg.deadline.count()) / 1000.0;
  doc["timeout_s"] = static_cast<double>(cfg.timeout.count()) / 1000.0;
  doc["attempted"] = attempted;
  doc["ok"] = ok;
  doc["failed"] = failed;
  doc["not_started"] = not_started;
  doc["failures"] = failed + not_started;
  doc["wall_s"] = wall_s;
  doc["logins_per_s"] = logins_per_s;
  doc["latency_ms"] = spread(total);
  doc["latency_ms"]["what"] = "connect() called -> final OK read, ok logins only";
  doc["phases_ms"] = {{"connect", spread(connect)},
                      {"hello", spread(hello)},
                      {"command_reply", spread(reply)},
                      {"auth_to_ok", spread(auth)}};
  const double client_user = self_after.user_s - self_before.user_s;
  const double client_sys = self_after.sys_s - self_before.sys_s;
  doc["client_cpu"] = {{"user_s", client_user},
                       {"sys_s", client_sys},
                       {"ms_per_login", (client_user + client_sys) * per_login},
                       {"what", "getrusage(RUSAGE_SELF) of btest_auth over the run, per ok login"}};
  if (server_before && server_after) {
    const double su = server_after->user_s - server_before->user_s;
    const double ss = server_after->sys_s - server_before->sys_s;
    doc["server_cpu"] = {{"pid", cfg.server_pid},
                         {"user_s", su},
                         {"sys_s", ss},
                         {"ms_per_login", (su + ss) * per_login},
                         {"resolution_s", 1.0 / static_cast<double>(::sysconf(_SC_CLK_TCK))},
                         {"what", "/proc/PID/stat utime+stime over the run (+0.3 s), per ok login"}};
  } else {
    doc["server_cpu"] = nullptr;
    if (cfg.server_pid != 0) {
      doc["server_cpu_error"] = "the server process was gone after the run";
    }
  }
  doc["first_failures"] = first_failures;
  doc["failure_counts"] = failure_counts;
  if (!spawn_error.empty()) {
    doc["warning"] = spawn_error;
  }

  if (!cfg.json_path.empty()) {
    std::ofstream f(cfg.json_path);
    f << doc.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "btest_auth: cannot write %s\n", cfg.json_path.c_str());
      exit_code = kExitFailure;
    }
  }
  const auto& lat = doc["latency_ms"];
  std::printf("btest_auth: %s, %u logins, %u worker(s) against %s\n", cfg.method_name.c_str(), cfg.logins,
              cfg.concurrency, addr->to_string().c_str());
  std::printf("  ok %llu  failed %llu  not started %llu  wall %.3f s  logins/s %.1f\n",
              static_cast<unsigned long long>(ok), static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(not_started), wall_s, logins_per_s);
  std::printf("  latency ms  p50 %.3f  p99 %.3f  max %.3f   client cpu %.3f ms/login", lat["p50"].get<double>(),
              lat["p99"].get<double>(), lat["max"].get<double>(), (client_user + client_sys) * per_login);
  if (doc["server_cpu"].is_object()) {
    std::printf("  server cpu %.3f ms/login", doc["server_cpu"]["ms_per_login"].get<double>());
  }
  std::printf("\n");
  for (const auto& f : first_failures) {
    std::printf("  failure: %s\n", f.c_str());
  }
  if (failure_counts.size() > 1 || (failed > cfg.show_failures && !failure_counts.empty())) {
    std::printf("  failures by message:\n");
    for (const auto& [msg, n] : failure_counts) {
      std::printf("    %6llu  %s\n", static_cast<unsigned long long>(n), msg.c_str());
    }
  }
  if (ok != cfg.logins) {
    exit_code = kExitFailure;
  }
  return exit_code;
}
