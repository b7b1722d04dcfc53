// btest/pro/monitor.hpp — what a running btest-pro server knows about itself, for
// the dashboard and /metrics: the tests running now (with their last second's
// rates), counters since start (tests, bytes, logins by method and result,
// refusals by reason, HTTP answers by status) and the writer's flush latency.
//
// Who writes what: the test threads (through pro_server's Grant) register a
// LiveTest and update it once a second; handshake threads count logins and
// refusals; the writer thread records each flush; the HTTP threads only read.
// Counters are relaxed atomics (a reader may see one counter a second ahead of
// another, never a torn value); the live list and the per-reason map sit behind
// one mutex each, taken once per test, refusal or scrape — never per packet.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace linerate::btest::pro {

/// One running test as the dashboard sees it. The fixed fields are set before
/// the test is registered; the atomics are updated by its control thread.
struct LiveTest {
  std::atomic<int64_t> id{0};  // the database row; 0 until the writer inserted it
  std::string ip;
  std::string user;
  std::string proto;      // "tcp" | "udp"
  std::string direction;  // the client's view
  uint32_t connections = 1;
  int64_t started_unix_ms = 0;
  std::atomic<uint32_t> seconds{0};  // intervals reported so far (one a second)
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> lost{0};
  std::atomic<uint64_t> last_in{0};  // bytes of the last interval
  std::atomic<uint64_t> last_out{0};
};

/// A copy of a LiveTest for readers.
struct LiveTestView {
  int64_t id = 0;
  std::string ip, user, proto, direction;
  uint32_t connections = 1;
  int64_t started_unix_ms = 0;
  uint32_t seconds = 0;
  uint64_t bytes_in = 0, bytes_out = 0, lost = 0, last_in = 0, last_out = 0;
};

class Monitor {
 public:
  Monitor();

  // --- tests (control thread of each test)
  void test_started(const std::shared_ptr<LiveTest>& t);
  void test_interval(LiveTest& t, uint64_t in, uint64_t out, uint64_t lost);
  void test_ended(const std::shared_ptr<LiveTest>& t);
  [[nodiscard]] std::vector<LiveTestView> live() const;  // oldest first

  // --- handshakes. method: "md5" | "ecsrp5" (anything else is ignored).
  void login(std::string_view method, bool ok);
  void rejection(std::string_view reason);

  // --- writer thread: one flush (its transactions) took `took`.
  void flush(std::chrono::nanoseconds took, bool ok, int64_t unix_ms);
  /// The last flush failed (and was not followed by a good one).
  [[nodiscard]] bool writer_failing() const { return writer_failing_.load(std::memory_order_relaxed); }
  [[nodiscard]] int64_t last_flush_unix_ms() const { return last_flush_unix_ms_.load(std::memory_order_relaxed); }

  // --- HTTP threads
  void http_answer(int status);

  struct Totals {
    uint64_t uptime_s = 0;
    uint64_t sessions_active = 0;
    uint64_t tests_started = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
    uint64_t rejections = 0;
  };
  [[nodiscard]] Totals totals() const;

  /// Every metric in the Prometheus text exposition format 0.0.4 (docs/api.md).
  [[nodiscard]] std::string prometheus_text() const;

  /// Upper bounds (seconds) of the flush-latency histogram; +Inf is implied.
  static constexpr std::array<double, 14> kFlushBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,    0.25,  0.5,    1.0,   2.5,  5.0,   10.0};

 private:
  const std::chrono::steady_clock::time_point started_;
  std::atomic<uint64_t> tests_started_{0};
  std::atomic<uint64_t> bytes_in_{0};
  std::atomic<uint64_t> bytes_out_{0};
  // [method md5, ecsrp5][result ok, failed]
  std::array<std::array<std::atomic<uint64_t>, 2>, 2> logins_{};
  std::array<std::atomic<uint64_t>, kFlushBuckets.size() + 1> flush_buckets_{};  // last = +Inf
  std::atomic<uint64_t> flush_ns_sum_{0};
  std::atomic<uint64_t> flush_failures_{0};
  std::atomic<bool> writer_failing_{false};
  std::atomic<int64_t> last_flush_unix_ms_{0};

  mutable std::mutex mu_;  // the maps and list below
  std::map<std::string, uint64_t, std::less<>> rejections_;
  std::map<int, uint64_t> http_;
  std::vector<std::shared_ptr<LiveTest>> live_;
};

}  // namespace linerate::btest::pro
