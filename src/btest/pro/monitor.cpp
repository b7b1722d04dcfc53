// btest/pro/monitor.cpp — counters and live tests of a btest-pro server (see
// monitor.hpp), and their Prometheus text rendering.
//
// The exposition follows the text format 0.0.4: one "# HELP" and one "# TYPE"
// line per family, label values escaped (backslash, quote, newline), histogram
// buckets cumulative with le="+Inf" equal to _count.
#include "btest/pro/monitor.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace linerate::btest::pro {
namespace {

constexpr std::array<std::string_view, 2> kMethods = {"md5", "ecsrp5"};
constexpr std::array<std::string_view, 2> kResults = {"ok", "failed"};

std::string label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Monitor::Monitor() : started_(std::chrono::steady_clock::now()) {}

void Monitor::test_started(const std::shared_ptr<LiveTest>& t) {
  tests_started_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  live_.push_back(t);
}

void Monitor::test_interval(LiveTest& t, uint64_t in, uint64_t out, uint64_t lost) {
  bytes_in_.fetch_add(in, std::memory_order_relaxed);
  bytes_out_.fetch_add(out, std::memory_order_relaxed);
  t.bytes_in.fetch_add(in, std::memory_order_relaxed);
  t.bytes_out.fetch_add(out, std::memory_order_relaxed);
  t.lost.fetch_add(lost, std::memory_order_relaxed);
  t.last_in.store(in, std::memory_order_relaxed);
  t.last_out.store(out, std::memory_order_relaxed);
  t.seconds.fetch_add(1, std::memory_order_relaxed);
}

void Monitor::test_ended(const std::shared_ptr<LiveTest>& t) {
  std::lock_guard lock(mu_);
  live_.erase(std::remove(live_.begin(), live_.end(), t), live_.end());
}

std::vector<LiveTestView> Monitor::live() const {
  std::lock_guard lock(mu_);
  std::vector<LiveTestView> out;
  out.reserve(live_.size());
  for (const auto& t : live_) {
    out.push_back(LiveTestView{
        t->id.load(std::memory_order_relaxed), t->ip, t->user, t->proto, t->direction, t->connections,
        t->started_unix_ms, t->seconds.load(std::memory_order_relaxed), t->bytes_in.load(std::memory_order_relaxed),
        t->bytes_out.load(std::memory_order_relaxed), t->lost.load(std::memory_order_relaxed),
        t->last_in.load(std::memory_order_relaxed), t->last_out.load(std::memory_order_relaxed)});
  }
  return out;
}

void Monitor::login(std::string_view method, bool ok) {
  for (std::size_t m = 0; m < kMethods.size(); ++m) {
    if (method == kMethods[m]) {
      logins_[m][ok ? 0 : 1].fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Monitor::rejection(std::string_view reason) {
  std::lock_guard lock(mu_);
  auto it = rejections_.find(reason);
  if (it == rejections_.end()) {
    it = rejections_.emplace(std::string(reason), 0).first;
  }
  ++it->second;
}

void Monitor::flush(std::chrono::nanoseconds took, bool ok, int64_t unix_ms) {
  const double s = std::chrono::duration<double>(took).count();
  std::size_t b = 0;
  while (b < kFlushBuckets.size() && s > kFlushBuckets[b]) {
    ++b;
  }
  flush_buckets_[b].fetch_add(1, std::memory_order_relaxed);
  flush_ns_sum_.fetch_add(static_cast<uint64_t>(std::max<int64_t>(took.count(), 0)), std::memory_order_relaxed);
  if (!ok) {
    flush_failures_.fetch_add(1, std::memory_order_relaxed);
  } else {
    last_flush_unix_ms_.store(unix_ms, std::memory_order_relaxed);
  }
  writer_failing_.store(!ok, std::memory_order_relaxed);
}

void Monitor::http_answer(int status) {
  std::lock_guard lock(mu_);
  ++http_[status];
}

Monitor::Totals Monitor::totals() const {
  Totals t;
  t.uptime_s = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count());
  t.tests_started = tests_started_.load(std::memory_order_relaxed);
  t.bytes_in = bytes_in_.load(std::memory_order_relaxed);
  t.bytes_out = bytes_out_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  t.sessions_active = live_.size();
  for (const auto& [reason, n] : rejections_) {
    t.rejections += n;
  }
  return t;
}

std::string Monitor::prometheus_text() const {
  const Totals t = totals();
  std::string out;
  out.reserve(4096);
  auto put = std::back_inserter(out);
  family(out, "btest_sessions_active", "gauge", "Tests running now.");
  fmt::format_to(put, "btest_sessions_active {}\n", t.sessions_active);
  family(out, "btest_tests_started_total", "counter", "Tests admitted since the server started.");
  fmt::format_to(put, "btest_tests_started_total {}\n", t.tests_started);
  family(out, "btest_bytes_received_total", "counter", "Test bytes received from clients (client to server).");
  fmt::format_to(put, "btest_bytes_received_total {}\n", t.bytes_in);
  family(out, "btest_bytes_sent_total", "counter", "Test bytes sent to clients (server to client).");
  fmt::format_to(put, "btest_bytes_sent_total {}\n", t.bytes_out);
  family(out, "btest_logins_total", "counter", "Logins by authentication method and result.");
  for (std::size_t m = 0; m < kMethods.size(); ++m) {
    for (std::size_t r = 0; r < kResults.size(); ++r) {
      fmt::format_to(put, "btest_logins_total{{method=\"{}\",result=\"{}\"}} {}\n", kMethods[m], kResults[r],
                     logins_[m][r].load(std::memory_order_relaxed));
    }
  }
  family(out, "btest_rejections_total", "counter", "Refused logins and tests by reason.");
  {
    std::lock_guard lock(mu_);
    for (const auto& [reason, n] : rejections_) {
      fmt::format_to(put, "btest_rejections_total{{reason=\"{}\"}} {}\n", label_value(reason), n);
    }
  }
  family(out, "btest_db_flush_seconds", "histogram", "Time of one database flush by the writer thread.");
  uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kFlushBuckets.size(); ++b) {
    cumulative += flush_buckets_[b].load(std::memory_order_relaxed);
    fmt::format_to(put, "btest_db_flush_seconds_bucket{{le=\"{}\"}} {}\n", kFlushBuckets[b], cumulative);
  }
  cumulative += flush_buckets_.back().load(std::memory_order_relaxed);
  fmt::format_to(put, "btest_db_flush_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  fmt::format_to(put, "btest_db_flush_seconds_sum {:.9f}\n",
                 static_cast<double>(flush_ns_sum_.load(std::memory_order_relaxed)) / 1e9);
  // _count equals the +Inf bucket: both come from the same snapshot of buckets.
  fmt::format_to(put, "btest_db_flush_seconds_count {}\n", cumulative);
  family(out, "btest_db_flush_failures_total", "counter", "Database flushes that failed (and were retried).");
  fmt::format_to(put, "btest_db_flush_failures_total {}\n", flush_failures_.load(std::memory_order_relaxed));
  family(out, "btest_http_requests_total", "counter", "Dashboard and API requests by HTTP status.");
  {
    std::lock_guard lock(mu_);
    for (const auto& [code, n] : http_) {
      fmt::format_to(put, "btest_http_requests_total{{code=\"{}\"}} {}\n", code, n);
    }
  }
  return out;
}

}  // namespace linerate::btest::pro
