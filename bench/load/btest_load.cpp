// bench/load/btest_load.cpp — load generator for the btest server.
//
// Runs N short btest tests (default 500) against HOST:PORT, C at a time (default
// all at once), and reports how many worked, sessions per second, the bytes moved
// and the spread of setup latency. bench/e2e/btest_load.sh runs it against a fresh
// server and checks that the server returns to its idle RSS, fd and thread counts.
//
// Why the library client (btest::run_client) in a pool of C worker threads rather
// than a raw-socket epoll client: every test then speaks exactly what `btest -c`
// speaks (HELLO, command, MD5 auth, multi-connection joins, status records inside
// the data, the half-close ending of spec §15), so a failure here is one a user
// would see, and the generator cannot drift from the protocol. The price is
// threads: a running test holds its worker plus one or two TcpTransfer threads
// per connection (about 1000-1500 threads at C = 500), the same shape as the
// server's and mostly asleep in recv/send. The bytes cost the same syscalls
// whichever client moves them; a raw client would save only that scheduling
// overhead, at the cost of a second protocol implementation to keep correct.
//
// Bounds (every test ends, and so does the run):
//   - each test is bounded by run_client's own timeouts (connect 5 s, each
//     handshake read 10 s, idle 30 s) and its duration;
//   - --deadline (default 60 s, counted from the start of the run): no test starts
//     after it, running tests are asked to stop through the shared Interrupt and
//     count as failures ("unfinished at the deadline");
//   - --grace (default 15 s) after that: workers still stuck in a handshake are
//     abandoned; the report is written and the process leaves with _Exit.
//   SIGINT/SIGTERM act like the deadline (a second one exits at once, 130).
//
// A test is ok when the handshake worked, the test ran its whole duration (the
// server did not end it), every requested connection joined, and data flowed in
// each direction the test asked for. Everything else is a failure with a one-line
// reason. Setup latency is from calling run_client (before connect) to the test's
// start stamp (TestRecord::start_unix_ms, set once the handshake and secondary
// joins are done); both are wall-clock readings, so its resolution is 1 ms.
//
// Exit status: 0 every test ok; 1 a test failed, was unfinished or never started;
// 2 usage error.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "btest/client.hpp"
#include "btest/protocol.hpp"
#include "core/interrupt.hpp"
#include "core/units.hpp"
#include "stats.hpp"

namespace {

using linerate::bench::spread;

namespace btest = linerate::btest;
namespace core = linerate::core;
using SteadyClock = std::chrono::steady_clock;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct LoadConfig {
  std::string host = "127.0.0.1";
  uint16_t port = btest::kDefaultPort;
  unsigned tests = 500;
  unsigned concurrency = 500;
  core::Millis duration{1000};
  std::string direction = "alternate";  // or transmit / receive / both (client's words)
  unsigned connections = 1;
  uint64_t bandwidth_bps = 0;  // cap for each sending side, 0 = unlimited
  std::optional<btest::Credentials> auth;
  core::Millis deadline{60'000};
  core::Millis grace{15'000};
  std::string json_path;
  unsigned show_failures = 5;
  bool quiet = false;
};

// One test's outcome. Written once by the worker that ran it, under Run::mu.
struct Slot {
  bool attempted = false;
  bool done = false;
  bool started = false;  // the handshake completed and the test ran
  bool ok = false;
  btest::Direction direction = btest::Direction::kClientTx;
  double setup_ms = 0;  // run_client called -> test started
  double test_s = 0;    // run_client called -> returned
  uint64_t tx_bytes = 0;
  uint64_t rx_bytes = 0;
  std::string error;      // one line when !ok
  uint64_t done_seq = 0;  // completion order, for "the first few failures"
};

struct Run {
  Run(const LoadConfig& c, core::Interrupt& s) : cfg(c), stop(s), slots(c.tests) {}
  const LoadConfig& cfg;
  core::Interrupt& stop;
  SteadyClock::time_point deadline_at;
  std::atomic<unsigned> next{0};

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  std::vector<Slot> slots;
  unsigned workers_alive = 0;
  uint64_t done_count = 0;
  SteadyClock::time_point last_end;
};

btest::Direction direction_for(const std::string& plan, unsigned index) {
  if (plan == "transmit") {
    return btest::Direction::kClientTx;
  }
  if (plan == "receive") {
    return btest::Direction::kClientRx;
  }
  if (plan == "both") {
    return btest::Direction::kBoth;
  }
  static constexpr btest::Direction kCycle[3] = {btest::Direction::kClientTx, btest::Direction::kClientRx,
                                                 btest::Direction::kBoth};
  return kCycle[index % 3];
}

const char* failure_name(btest::ClientFailure f) {
  switch (f) {
    case btest::ClientFailure::kNone:
      return "failed";
    case btest::ClientFailure::kConnect:
      return "connect";
    case btest::ClientFailure::kProtocol:
      return "protocol";
    case btest::ClientFailure::kAuthRequired:
      return "auth required";
    case btest::ClientFailure::kAuthFailed:
      return "auth failed";
    case btest::ClientFailure::kUnsupported:
      return "unsupported";
  }
  return "failed";
}

int64_t unix_us_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Judge one finished run_client call (see the file comment for what "ok" means).
void classify(const LoadConfig& cfg, const btest::ClientOutcome& out, Slot& s) {
  s.started = out.started;
  if (!out.started) {
    s.error = std::string(failure_name(out.failure)) + ": " + out.error;
    return;
  }
  const btest::TestRecord& r = out.record;
  s.tx_bytes = r.tx_bytes;
  s.rx_bytes = r.rx_bytes;
  if (r.end_reason == "interrupted") {
    s.error = "unfinished at the deadline (test stopped)";
  } else if (!r.ok) {
    s.error = "ended early: " + r.end_reason;
  } else if (!out.warnings.empty()) {
    s.error = out.warnings.front();
  } else if (r.connections < cfg.connections) {
    s.error =
        "only " + std::to_string(r.connections) + " of " + std::to_string(cfg.connections) + " connections joined";
  } else if (btest::client_sends(r.direction) && r.tx_bytes == 0) {
    s.error = "sent no data";
  } else if (btest::server_sends(r.direction) && r.rx_bytes == 0) {
    s.error = "received no data from the server";
  } else {
    s.ok = true;
  }
}

void worker(Run& run) {
  const LoadConfig& cfg = run.cfg;
  btest::ClientConfig base;
  base.host = cfg.host;
  base.port = cfg.port;
  base.connections = cfg.connections;
  base.local_tx_speed = cfg.bandwidth_bps;
  base.remote_tx_speed = cfg.bandwidth_bps;
  base.duration = cfg.duration;
  base.auth = cfg.auth;
  const std::function<void(const btest::TestRecord&, const btest::IntervalSample&)> no_lines;
  for (;;) {
    if (run.stop.requested() || SteadyClock::now() >= run.deadline_at) {
      break;
    }
    const unsigned i = run.next.fetch_add(1, std::memory_order_relaxed);
    if (i >= cfg.tests) {
      break;
    }
    btest::ClientConfig cc = base;
    cc.direction = direction_for(cfg.direction, i);
    {
      std::lock_guard lock(run.mu);
      run.slots[i].attempted = true;
      run.slots[i].direction = cc.direction;
    }
    Slot s;
    s.attempted = true;
    s.direction = cc.direction;
    const auto t0 = SteadyClock::now();
    const int64_t t0_unix_us = unix_us_now();
    btest::ClientOutcome out;
    try {
      out = btest::run_client(cc, run.stop, no_lines);
    } catch (const std::exception& e) {
      // std::thread creation inside TcpTransfer throws when the process runs out
      // of threads; that is a result of the load, not a reason to abort the run.
      out = btest::ClientOutcome{};
      out.failure = btest::ClientFailure::kProtocol;
      out.error = std::string("exception in the client: ") + e.what();
    }
    const auto t1 = SteadyClock::now();
    s.test_s = std::chrono::duration<double>(t1 - t0).count();
    classify(cfg, out, s);
    if (out.started) {
      s.setup_ms = std::max(0.0, static_cast<double>(out.record.start_unix_ms * 1000 - t0_unix_us) / 1000.0);
    }
    s.done = true;
    {
      std::lock_guard lock(run.mu);
      s.done_seq = ++run.done_count;
      run.last_end = std::max(run.last_end, t1);
      run.slots[i] = std::move(s);
    }
    run.cv.notify_all();
  }
  {
    std::lock_guard lock(run.mu);
    --run.workers_alive;
  }
  run.cv.notify_all();
}

std::optional<LoadConfig> parse_args(int argc, char** argv, int& exit_code) {
  LoadConfig cfg;
  CLI::App app{"btest_load — many short btest tests against one server, C at a time (load test)", "btest_load"};
  app.footer(
      "Exit status: 0 every test ok; 1 a test failed, was unfinished at the deadline or never started; 2 usage "
      "error.\nDurations take 1, 2.5, 500ms, 30s, 5m; speeds 500K, 100M (decimal bit/s).");
  std::string duration = "1";
  std::string deadline = "60";
  std::string grace = "15";
  std::string bandwidth = "0";
  std::string user;
  std::string password;
  app.add_option("host", cfg.host, "Server address (default 127.0.0.1)");
  app.add_option("-P,--port", cfg.port, "Server TCP port (default 2000)")->check(CLI::Range(1, 65535));
  app.add_option("-n,--tests", cfg.tests, "Number of tests to run (default 500)")->check(CLI::Range(1U, 1'000'000U));
  app.add_option("-c,--concurrency", cfg.concurrency, "Tests running at once (default 500)")
      ->check(CLI::Range(1U, 10'000U));
  app.add_option("-d,--duration", duration, "Length of each test (default 1 s)");
  app.add_option("--direction", cfg.direction,
                 "alternate (default: transmit, receive, both in turn), transmit, "
                 "receive or both")
      ->check(CLI::IsMember({"alternate", "transmit", "receive", "both"}));
  app.add_option("--connections", cfg.connections, "TCP connections per test, 1-255 (default 1)")
      ->check(CLI::Range(1, 255));
  app.add_option("-b,--bandwidth", bandwidth, "Speed cap for each sending side of each test (default 0 = unlimited)");
  auto* a_opt = app.add_option("-a,--user", user, "User name for MD5 authentication");
  auto* p_opt = app.add_option("-p,--password", password, "Password (with -a)");
  a_opt->needs(p_opt);
  p_opt->needs(a_opt);
  app.add_option("--deadline", deadline, "Start no test after this long; unfinished tests fail (default 60 s)");
  app.add_option("--grace", grace, "After the deadline, wait this long for running tests (default 15 s)");
  app.add_option("--json", cfg.json_path, "Also write the report as JSON to FILE");
  app.add_option("--show-failures", cfg.show_failures, "Failure messages to print (default 5)");
  app.add_flag("-q,--quiet", cfg.quiet, "Only the summary (no start line, no progress)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    if (exit_code != 0) {
      exit_code = kExitUsage;
    }
    return std::nullopt;
  }
  auto usage = [&exit_code](const std::string& msg) -> std::optional<LoadConfig> {
    std::fprintf(stderr, "btest_load: %s\n", msg.c_str());
    exit_code = kExitUsage;
    return std::nullopt;
  };
  auto ms = [](const std::string& text) { return core::parse_duration_ms(text); };
  auto d = ms(duration);
  if (!d || *d == 0) {
    return usage("-d: " + (d ? std::string("must be above 0") : d.error().message()));
  }
  auto dl = ms(deadline);
  if (!dl || *dl == 0) {
    return usage("--deadline: " + (dl ? std::string("must be above 0") : dl.error().message()));
  }
  auto gr = ms(grace);
  if (!gr) {
    return usage("--grace: " + gr.error().message());
  }
  auto bw = core::parse_bandwidth(bandwidth);
  if (!bw || *bw > 0xFFFFFFFFULL) {
    return usage("-b: " + (bw ? std::string("above 4294967295 bit/s") : bw.error().message()));
  }
  cfg.duration = core::Millis(static_cast<int64_t>(*d));
  cfg.deadline = core::Millis(static_cast<int64_t>(*dl));
  cfg.grace = core::Millis(static_cast<int64_t>(*gr));
  cfg.bandwidth_bps = *bw;
  if (a_opt->count() > 0) {
    if (user.empty()) {
      return usage("-a needs a non-empty user name");
    }
    cfg.auth = btest::Credentials{user, password};
  }
  cfg.concurrency = std::min(cfg.concurrency, cfg.tests);
  return cfg;
}

}  // namespace

int main(int argc, char** argv) {
  int exit_code = kExitOk;
  auto parsed = parse_args(argc, argv, exit_code);
  if (!parsed) {
    return exit_code;
  }
  const LoadConfig& cfg = *parsed;
  core::Interrupt stop;
  core::install_signal_stop(stop);

  const double duration_s = static_cast<double>(cfg.duration.count()) / 1000.0;
  if (!cfg.quiet) {
    std::fprintf(stderr,
                 "btest_load: %u tests against %s:%u, %u at a time, %.3g s each, direction %s, %u connection%s%s, "
                 "deadline %.3g s\n",
                 cfg.tests, cfg.host.c_str(), cfg.port, cfg.concurrency, duration_s, cfg.direction.c_str(),
                 cfg.connections, cfg.connections == 1 ? "" : "s", cfg.auth ? ", MD5 auth" : "",
                 static_cast<double>(cfg.deadline.count()) / 1000.0);
  }

  Run run(cfg, stop);
  const auto started_at = SteadyClock::now();
  run.deadline_at = started_at + cfg.deadline;
  run.last_end = started_at;

  std::vector<std::thread> workers;
  workers.reserve(cfg.concurrency);
  std::string spawn_error;
  for (unsigned k = 0; k < cfg.concurrency; ++k) {
    {
      std::lock_guard lock(run.mu);
      ++run.workers_alive;
    }
    try {
      workers.emplace_back(worker, std::ref(run));
    } catch (const std::system_error& e) {
      std::lock_guard lock(run.mu);
      --run.workers_alive;
      spawn_error =
          "could start only " + std::to_string(k) + " of " + std::to_string(cfg.concurrency) + " workers: " + e.what();
      break;
    }
  }
  if (!spawn_error.empty()) {
    std::fprintf(stderr, "btest_load: warning: %s\n", spawn_error.c_str());
  }

  // Wait for the workers, bounded by the deadline and then the grace period.
  std::unique_lock lock(run.mu);
  bool stopping = false;
  auto stop_at = SteadyClock::time_point::max();
  auto next_progress = started_at + std::chrono::seconds(5);
  while (run.workers_alive > 0) {
    const auto now = SteadyClock::now();
    if (!stopping && (now >= run.deadline_at || stop.requested())) {
      stopping = true;
      stop_at = now;
      stop.request();  // wakes every running test; none starts after this
      if (!cfg.quiet) {
        std::fprintf(stderr, "btest_load: %s: stopping %u running worker(s)\n",
                     now >= run.deadline_at ? "deadline reached" : "interrupted", run.workers_alive);
      }
    }
    if (stopping && now >= stop_at + cfg.grace) {
      break;
    }
    if (!cfg.quiet && now >= next_progress) {
      std::fprintf(stderr, "btest_load: %.0f s: %llu/%u done, %u worker(s) busy\n",
                   std::chrono::duration<double>(now - started_at).count(),
                   static_cast<unsigned long long>(run.done_count), cfg.tests, run.workers_alive);
      next_progress += std::chrono::seconds(5);
    }
    run.cv.wait_for(lock, std::chrono::milliseconds(200));
  }
  const unsigned stuck_workers = run.workers_alive;
  const auto report_at = SteadyClock::now();
  const std::vector<Slot> slots = run.slots;
  const auto last_end = run.last_end;
  lock.unlock();

  // Tally.
  uint64_t attempted = 0, ok = 0, failed = 0, unfinished = 0, not_started = 0;
  uint64_t tx_bytes = 0, rx_bytes = 0;
  std::vector<double> setup_ms;
  std::vector<double> test_s;
  std::map<std::string, uint64_t> failure_counts;
  std::vector<std::pair<uint64_t, std::string>> failures;             // (done_seq, "test #i (dir): msg")
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_direction;  // ok, failed
  for (std::size_t i = 0; i < slots.size(); ++i) {
    const Slot& s = slots[i];
    if (!s.attempted) {
      ++not_started;
      continue;
    }
    ++attempted;
    auto& dir = by_direction[std::string(btest::direction_name(s.direction))];
    std::string msg;
    uint64_t seq = 0;
    if (!s.done) {
      ++unfinished;
      msg = "unfinished: still running " + std::to_string(cfg.grace.count()) + " ms after the deadline";
      seq = UINT64_MAX;
    } else {
      tx_bytes += s.tx_bytes;
      rx_bytes += s.rx_bytes;
      test_s.push_back(s.test_s);
      if (s.started) {
        setup_ms.push_back(s.setup_ms);
      }
      if (s.ok) {
        ++ok;
        ++dir.first;
        continue;
      }
      msg = s.error;
      seq = s.done_seq;
    }
    ++failed;
    ++dir.second;
    ++failure_counts[msg];
    failures.emplace_back(
        seq, "test #" + std::to_string(i) + " (" + std::string(btest::direction_name(s.direction)) + "): " + msg);
  }
  std::sort(failures.begin(), failures.end());
  const auto end = (unfinished > 0 || stuck_workers > 0) ? report_at : last_end;
  const double wall_s = std::max(1e-9, std::chrono::duration<double>(end - started_at).count());
  const double sessions_per_s = static_cast<double>(ok) / wall_s;

  nlohmann::ordered_json doc;
  doc["benchmark"] = "btest_load";
  doc["host"] = cfg.host;
  doc["port"] = cfg.port;
  doc["tests_requested"] = cfg.tests;
  doc["concurrency"] = cfg.concurrency;
  doc["duration_s"] = duration_s;
  doc["direction"] = cfg.direction;
  doc["connections"] = cfg.connections;
  doc["bandwidth_bps"] = cfg.bandwidth_bps;
  doc["auth"] = cfg.auth ? "md5" : "none";
  doc["deadline_s"] = static_cast<double>(cfg.deadline.count()) / 1000.0;
  doc["attempted"] = attempted;
  doc["ok"] = ok;
  doc["failed"] = failed;
  doc["unfinished"] = unfinished;
  doc["not_started"] = not_started;
  doc["wall_s"] = wall_s;
  doc["sessions_per_s"] = sessions_per_s;
  doc["tx_bytes"] = tx_bytes;
  doc["rx_bytes"] = rx_bytes;
  doc["total_bytes"] = tx_bytes + rx_bytes;
  doc["setup_ms"] = spread(setup_ms);
  doc["setup_ms"]["resolution_ms"] = 1;
  doc["test_s"] = spread(test_s);
  nlohmann::ordered_json dirs = nlohmann::ordered_json::object();
  for (const auto& [name, counts] : by_direction) {
    dirs[name] = {{"ok", counts.first}, {"failed", counts.second}};
  }
  doc["by_direction"] = dirs;
  nlohmann::ordered_json first = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < failures.size() && i < cfg.show_failures; ++i) {
    first.push_back(failures[i].second);
  }
  doc["first_failures"] = first;
  doc["failure_counts"] = failure_counts;
  if (!spawn_error.empty()) {
    doc["warning"] = spawn_error;
  }
  doc["stuck_workers"] = stuck_workers;

  const bool all_ok = ok == cfg.tests;
  if (!cfg.json_path.empty()) {
    std::ofstream f(cfg.json_path);
    f << doc.dump(2) << "\n";
    if (!f) {
      std::fprintf(stderr, "btest_load: cannot write %s\n", cfg.json_path.c_str());
      exit_code = kExitFailure;
    }
  }
  const auto& sm = doc["setup_ms"];
  const auto& ts = doc["test_s"];
  std::printf("btest_load: %u tests, %u at a time, %.3g s each (%s) against %s:%u\n", cfg.tests, cfg.concurrency,
              duration_s, cfg.direction.c_str(), cfg.host.c_str(), cfg.port);
  std::printf("  attempted %llu  ok %llu  failed %llu (unfinished %llu)  not started %llu\n",
              static_cast<unsigned long long>(attempted), static_cast<unsigned long long>(ok),
              static_cast<unsigned long long>(failed), static_cast<unsigned long long>(unfinished),
              static_cast<unsigned long long>(not_started));
  std::printf("  wall %.2f s  sessions/s %.1f  bytes %s (tx %s, rx %s)\n", wall_s, sessions_per_s,
              core::format_bytes(tx_bytes + rx_bytes).c_str(), core::format_bytes(tx_bytes).c_str(),
              core::format_bytes(rx_bytes).c_str());
  std::printf("  setup latency ms  p50 %.0f  p99 %.0f  max %.0f   test time s  p50 %.2f  p99 %.2f  max %.2f\n",
              sm["p50"].get<double>(), sm["p99"].get<double>(), sm["max"].get<double>(), ts["p50"].get<double>(),
              ts["p99"].get<double>(), ts["max"].get<double>());
  for (std::size_t i = 0; i < failures.size() && i < cfg.show_failures; ++i) {
    std::printf("  failure: %s\n", failures[i].second.c_str());
  }
  if (failures.size() > cfg.show_failures) {
    std::printf("  ... %zu more failure(s); by message:\n", failures.size() - cfg.show_failures);
    for (const auto& [msg, n] : failure_counts) {
      std::printf("    %6llu  %s\n", static_cast<unsigned long long>(n), msg.c_str());
    }
  }
  if (stuck_workers > 0) {
    std::printf("  %u worker(s) still stuck after the grace period: abandoned\n", stuck_workers);
  }
  if (!all_ok) {
    exit_code = kExitFailure;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  if (stuck_workers > 0) {
    // Joining would wait on a stuck handshake; destroying a joinable std::thread
    // would abort. The report is out: leave without running destructors.
    std::_Exit(exit_code);
  }
  for (auto& w : workers) {
    w.join();
  }
  return exit_code;
}
