// tests/integration/btest_pro_web_test.cpp — the btest-pro web API (docs/api.md)
// over real HTTP, after real btest tests, on both backends (a temp SQLite file and
// a real PostgreSQL server).
//
// Each test runs pro::run_server in this process with `web_listen =
// 127.0.0.1:0` and learns both ports from ServeConfig::on_ready; the btest client
// (btest::run_client) drives tests over loopback, and cpp-httplib's client reads
// the API. What is asserted and why the bounds hold:
//   - Bytes: the API reports what the server recorded. For TCP the client's own
//     totals match within one write batch (kTcpWriteBytes) each way; the server's
//     12-byte status records are read by the client but are not payload. For UDP
//     one sendmmsg batch each way.
//   - Rates: the tests are paced (-b), so every full second is within ±20 % of
//     the cap. A 3 s test has exactly 3 full seconds plus a short tail that the
//     API flags `partial`; the sum of all intervals is the session total.
//   - "Live" and "grows": the writer flushes every 200 ms here, so a running
//     test's intervals appear within a second; every wait polls with a bound.
//   - Hostile input: each value is sent byte for byte (the client's own URL
//     encoding is off; the path is percent-encoded here, or raw on purpose), and
//     the answer must be a one-line JSON 400 without any effect on the database.
//   - Hammering: 16 threads of GETs while a paced test runs; the test must still
//     reach 70 % of its cap on average — a functional bound, not a benchmark.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

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

namespace linerate::btest::pro {
namespace {

using linerate::testing::InProcessServer;
using linerate::testing::kSigpipeIgnored;
using linerate::testing::TempDir;
using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

constexpr uint64_t kGB = 1'000'000'000;
constexpr uint64_t kTcpBatch = kTcpWriteBytes;
constexpr uint64_t kUdpBatch = UdpBatch::kMaxBatchBytes * 1500 / 1472 + 1500;
const std::string kLoopback = "127.0.0.1";
const std::string kOtherIp = "10.9.8.7";
const std::string kToken = "web-test-admin-token-0123456789";
const std::string kServerName = "web-test";

/// Poll `pred` every 50 ms for at most `limit`.
bool eventually(const std::function<bool()>& pred, milliseconds limit = milliseconds(10'000)) {
  return linerate::testing::poll_until(pred, limit, milliseconds(50));
}

User make_user(const std::string& name, const std::string& password, const Limits& limits = {},
               std::optional<std::string> md5_password = std::nullopt) {
  User u;
  u.name = name;
  u.allow_md5 = md5_password.has_value();
  u.md5_password = std::move(md5_password);
  u.verifier = ecsrp5::to_text(ecsrp5::derive_verifier(name, password).value());
  u.limits = limits;
  return u;
}

/// Every byte outside RFC 3986's unreserved set as %XX.
std::string pct(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::size_t count_of(const std::string& hay, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = hay.find(needle); pos != std::string::npos; pos = hay.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> split_csv(const std::string& line) {  // our rows hold no quoted commas
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    out.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') {
    out.emplace_back();
  }
  return out;
}

/// The chart's data points: (series, second) -> data-value, from every
/// `<circle class="pt SERIES" data-second="S" data-value="V"`.
std::map<std::pair<std::string, uint64_t>, uint64_t> chart_points(const std::string& svg) {
  std::map<std::pair<std::string, uint64_t>, uint64_t> out;
  const std::string open = "<circle class=\"pt ";
  auto attr = [&](std::size_t from, const std::string& name) -> std::optional<uint64_t> {
    const std::string key = " " + name + "=\"";
    const auto at = svg.find(key, from);
    const auto close = svg.find('>', from);
    if (at == std::string::npos || at > close) {
      return std::nullopt;
    }
    const auto begin = at + key.size();
    const auto end = svg.find('"', begin);
    const std::string digits = svg.substr(begin, end - begin);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return std::stoull(digits);
  };
  for (auto pos = svg.find(open); pos != std::string::npos; pos = svg.find(open, pos + 1)) {
    const auto name_begin = pos + open.size();
    const std::string series = svg.substr(name_begin, svg.find('"', name_begin) - name_begin);
    auto second = attr(pos, "data-second");
    auto value = attr(pos, "data-value");
    if (second && value) {
      out[{series, *second}] = *value;
    }
  }
  return out;
}

bool within(double value, double target, double fraction) {
  return value >= target * (1 - fraction) && value <= target * (1 + fraction);
}

uint64_t abs_diff(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

/// Every object key anywhere in `j`, lower-cased.
void collect_keys(const json& j, std::set<std::string>& keys) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      std::string lower = k;
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
      keys.insert(lower);
      collect_keys(v, keys);
    }
  } else if (j.is_array()) {
    for (const auto& v : j) {
      collect_keys(v, keys);
    }
  }
}

struct Reply {
  int status = 0;  // 0: no HTTP answer (see error)
  std::string body;
  httplib::Headers headers;
  std::string error;

  [[nodiscard]] std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  [[nodiscard]] json parsed() const { return json::parse(body, nullptr, false); }
};

std::ostream& operator<<(std::ostream& os, const Reply& r) {
  return os << "HTTP " << r.status << (r.error.empty() ? "" : " (" + r.error + ")") << ": " << r.body.substr(0, 300);
}

/// One HTTP client; the path goes on the wire exactly as given.
class Web {
 public:
  explicit Web(uint16_t port, bool keep_alive = false) : cli_(kLoopback, port) {
    cli_.set_url_encode(false);
    cli_.set_keep_alive(keep_alive);
    cli_.set_connection_timeout(5, 0);
    cli_.set_read_timeout(10, 0);
    cli_.set_write_timeout(5, 0);
  }

  Reply get(const std::string& path, const httplib::Headers& h = {}) { return reply(cli_.Get(path, h)); }
  Reply admin(const std::string& path) { return get(path, bearer(kToken)); }
  Reply post_form(const std::string& path, const std::string& body, const httplib::Headers& h = {}) {
    return reply(cli_.Post(path, h, body, "application/x-www-form-urlencoded"));
  }
  Reply del(const std::string& path) { return reply(cli_.Delete(path)); }
  Reply put(const std::string& path) { return reply(cli_.Put(path, "x", "text/plain")); }

  static httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

 private:
  static Reply reply(const httplib::Result& res) {
    Reply r;
    if (!res) {
      r.error = httplib::to_string(res.error());
      return r;
    }
    r.status = res->status;
    r.body = res->body;
    r.headers = res->headers;
    return r;
  }

  httplib::Client cli_;
};

template <typename Backend>
class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(kSigpipeIgnored);
    ASSERT_TRUE(set_time_zone("UTC"));
    LR_NEW_DB_URL(Backend, dir_, url_);
    auto s = Store::open(url_);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }
  void TearDown() override { (void)server_.stop(); }

  void add_user(const User& u) { ASSERT_TRUE(store_->add_user(u)) << u.name; }

  ServeConfig serve_config() const {
    ServeConfig cfg;
    cfg.db_url = url_;
    cfg.server.listen = {kLoopback};
    cfg.server.port = 0;
    cfg.server.auth_method = AuthMethod::kEcSrp5;
    cfg.server.quiet = true;
    cfg.server_name = kServerName;
    cfg.flush_interval = milliseconds(200);
    cfg.web_listen = kLoopback + ":0";
    cfg.admin_token = kToken;
    cfg.ip_limits.day.total = 10 * kGB;
    cfg.ip_limits.week.total = 50 * kGB;
    return cfg;
  }

  void start(const ServeConfig& cfg) {
    ASSERT_EQ(server_.start(cfg), "");
    ASSERT_NE(server_.web_port(), 0) << "on_ready gave no web port";
  }

  Web web(bool keep_alive = false) const { return Web(server_.web_port(), keep_alive); }

  ClientConfig client(const std::string& user, const std::string& password, Proto proto, Direction dir,
                      milliseconds duration, uint64_t cap_bps) const {
    ClientConfig c;
    c.host = kLoopback;
    c.port = server_.btest_port();
    c.proto = proto;
    c.direction = dir;
    c.duration = duration;
    c.connect_timeout = milliseconds(3000);
    c.handshake_timeout = milliseconds(5000);
    c.auth = Credentials{user, password};
    c.local_tx_speed = cap_bps;
    c.remote_tx_speed = cap_bps;
    return c;
  }

  static ClientOutcome run(const ClientConfig& c) {
    core::Interrupt never;
    return run_client(c, never, {});
  }

  /// The sessions of `ip` from the API (admin token), once `count` of them are
  /// recorded and none is running any more; empty on timeout.
  json ended_sessions(const std::string& ip, std::size_t count) {
    json last;
    const bool done = eventually([&] {
      Reply r = web().admin("/api/v1/ip/" + ip + "/sessions?limit=1000");
      if (r.status != 200) {
        return false;
      }
      last = r.parsed();
      if (!last.is_object() || !last["sessions"].is_array() || last["sessions"].size() != count) {
        return false;
      }
      for (const auto& s : last["sessions"]) {
        if (s["status"] == "running" || s["ended_unix_ms"] == 0) {
          return false;
        }
      }
      return true;
    });
    EXPECT_TRUE(done) << count << " ended session(s) of " << ip << " not recorded within 10 s; last: " << last.dump();
    return done ? last["sessions"] : json::array();
  }

  /// GET returning parsed JSON with status 200 (or a failure and null).
  json get_json(const std::string& path, const httplib::Headers& h = {}) {
    Reply r = web().get(path, h);
    EXPECT_EQ(r.status, 200) << path << ": " << r;
    EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << path;
    json j = r.parsed();
    EXPECT_FALSE(j.is_discarded()) << path << ": not JSON: " << r.body.substr(0, 200);
    return j.is_discarded() ? json() : j;
  }

  /// A 4xx with a one-line JSON {"error": "..."} body.
  void expect_json_error(const Reply& r, int status, const std::string& what) {
    EXPECT_EQ(r.status, status) << what << ": " << r;
    EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u) << what << ": " << r.header("Content-Type");
    EXPECT_EQ(r.body.find('\n'), std::string::npos) << what << ": the error is not one line";
    json j = r.parsed();
    ASSERT_TRUE(j.is_object()) << what << ": not a JSON object: " << r.body.substr(0, 200);
    EXPECT_EQ(j.size(), 1u) << what << ": " << r.body.substr(0, 200);
    ASSERT_TRUE(j.contains("error") && j["error"].is_string()) << what << ": " << r.body.substr(0, 200);
    const std::string msg = j["error"].get<std::string>();
    EXPECT_FALSE(msg.empty()) << what;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << what;
    EXPECT_LE(msg.size(), 300u) << what << ": the error echoes too much of the input";
  }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
  InProcessServer server_;
};

using Backends = ::testing::Types<linerate::testing::SqliteBackend, linerate::testing::PostgresBackend>;
TYPED_TEST_SUITE(WebTest, Backends, linerate::testing::BackendNames);

constexpr uint64_t kCap = 100'000'000;  // 100 Mbit/s each way

// 1. A 3 s TCP and a 3 s UDP two-way test, read back through the API: the
//    sessions (newest first), their per-second intervals (3 full seconds near the
//    cap, summing to the totals), the chart's data points and the IP's quota.
TYPED_TEST(WebTest, SessionsIntervalsChartAndQuotaMatchTheTests) {
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("alice", "pw-a")));
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));

  ClientOutcome tcp = this->run(this->client("alice", "pw-a", Proto::kTcp, Direction::kBoth, seconds(3), kCap));
  ASSERT_TRUE(tcp.started) << tcp.error;
  ClientOutcome udp = this->run(this->client("alice", "pw-a", Proto::kUdp, Direction::kBoth, seconds(3), kCap));
  ASSERT_TRUE(udp.started) << udp.error;

  // Own IP: no token needed.
  json own = this->get_json("/api/v1/ip/127.0.0.1/sessions");
  json list = this->ended_sessions(kLoopback, 2);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(own["ip"], kLoopback);
  ASSERT_TRUE(own["sessions"].is_array());
  EXPECT_EQ(own["sessions"].size(), 2u);
  const json& s_udp = list[0];
  const json& s_tcp = list[1];
  EXPECT_EQ(s_udp["proto"], "udp") << "newest first";
  EXPECT_EQ(s_tcp["proto"], "tcp");
  EXPECT_GT(s_udp["id"].get<int64_t>(), s_tcp["id"].get<int64_t>());
  EXPECT_GE(s_udp["started_unix_ms"].get<int64_t>(), s_tcp["ended_unix_ms"].get<int64_t>() - 1000);
  for (const json* s : {&s_udp, &s_tcp}) {
    EXPECT_EQ((*s)["direction"], "both");
    EXPECT_EQ((*s)["status"], "ok");
    EXPECT_EQ((*s)["user"], "alice");
    EXPECT_EQ((*s)["ip"], kLoopback);
    EXPECT_EQ((*s)["server"], kServerName);
    EXPECT_EQ((*s)["connections"], 1);
    EXPECT_GE((*s)["ended_unix_ms"].get<int64_t>() - (*s)["started_unix_ms"].get<int64_t>(), 2500);
    // The single-session endpoint says the same.
    json one = this->get_json("/api/v1/sessions/" + std::to_string((*s)["id"].get<int64_t>()));
    EXPECT_EQ(one, *s);
  }
  // Bytes: the server's record vs the client's own totals (file comment).
  const uint64_t tcp_in = s_tcp["bytes_in"].get<uint64_t>();
  const uint64_t tcp_out = s_tcp["bytes_out"].get<uint64_t>();
  EXPECT_LE(abs_diff(tcp_in, tcp.record.tx_bytes), kTcpBatch)
      << "tcp in " << tcp_in << " vs client tx " << tcp.record.tx_bytes;
  EXPECT_LE(abs_diff(tcp_out, tcp.record.rx_bytes), kTcpBatch)
      << "tcp out " << tcp_out << " vs client rx " << tcp.record.rx_bytes;
  const uint64_t udp_in = s_udp["bytes_in"].get<uint64_t>();
  const uint64_t udp_out = s_udp["bytes_out"].get<uint64_t>();
  EXPECT_LE(abs_diff(udp_in, udp.record.tx_bytes), kUdpBatch)
      << "udp in " << udp_in << " vs client tx " << udp.record.tx_bytes;
  EXPECT_LE(abs_diff(udp_out, udp.record.rx_bytes), kUdpBatch)
      << "udp out " << udp_out << " vs client rx " << udp.record.rx_bytes;

  for (const json* s : {&s_tcp, &s_udp}) {
    const int64_t id = (*s)["id"].get<int64_t>();
    const std::string proto = (*s)["proto"].get<std::string>();
    SCOPED_TRACE(proto + " session " + std::to_string(id));
    json iv = this->get_json("/api/v1/sessions/" + std::to_string(id) + "/intervals");
    EXPECT_EQ(iv["session_id"], id);
    EXPECT_EQ(iv["proto"], proto);
    EXPECT_EQ(iv["status"], "ok");
    ASSERT_TRUE(iv["intervals"].is_array());
    uint64_t sum_in = 0;
    uint64_t sum_out = 0;
    std::vector<json> full;
    for (std::size_t i = 0; i < iv["intervals"].size(); ++i) {
      const json& x = iv["intervals"][i];
      EXPECT_EQ(x["second"], i);
      const auto dur = x["duration_ms"].get<uint32_t>();
      EXPECT_GT(dur, 0u);
      EXPECT_LE(dur, 1500u);
      EXPECT_EQ(x["partial"].get<bool>(), dur < 500) << "second " << i << " lasted " << dur << " ms";
      sum_in += x["bytes_in"].get<uint64_t>();
      sum_out += x["bytes_out"].get<uint64_t>();
      if (!x["partial"].get<bool>()) {
        full.push_back(x);
        for (const char* key : {"bps_in", "bps_out"}) {
          EXPECT_TRUE(within(x[key].get<double>(), static_cast<double>(kCap), 0.20))
              << key << " of second " << i << " is " << x[key] << " (cap " << kCap << ")";
        }
      }
    }
    EXPECT_EQ(full.size(), 3u) << iv.dump();
    EXPECT_EQ(sum_in, (*s)["bytes_in"].get<uint64_t>()) << "the intervals must add up to the session";
    EXPECT_EQ(sum_out, (*s)["bytes_out"].get<uint64_t>());

    // The chart draws exactly the full seconds, with the API's numbers.
    Reply chart = this->web().get("/api/v1/sessions/" + std::to_string(id) + "/chart.svg");
    ASSERT_EQ(chart.status, 200) << chart;
    EXPECT_EQ(chart.header("Content-Type").rfind("image/svg+xml", 0), 0u);
    EXPECT_EQ(count_of(chart.body, "class=\"pt in\""), full.size());
    EXPECT_EQ(count_of(chart.body, "class=\"pt out\""), full.size());
    EXPECT_EQ(count_of(chart.body, "class=\"pt lost\""), proto == "udp" ? full.size() : 0u);
    const auto drawn = chart_points(chart.body);
    auto drawn_at = [&drawn](const char* series, uint64_t sec) {
      auto it = drawn.find({series, sec});
      return it == drawn.end() ? ~uint64_t{0} : it->second;
    };
    for (const json& x : full) {
      const auto sec = x["second"].get<uint64_t>();
      EXPECT_EQ(drawn_at("in", sec), x["bps_in"].get<uint64_t>()) << "second " << sec;
      EXPECT_EQ(drawn_at("out", sec), x["bps_out"].get<uint64_t>()) << "second " << sec;
      if (proto == "udp") {
        EXPECT_EQ(drawn_at("lost", sec), x["lost"].get<uint64_t>()) << "second " << sec;
      }
    }
  }

  // The IP's quota: both sessions, against the limits the server was started with.
  json q = this->get_json("/api/v1/ip/127.0.0.1/quota");
  EXPECT_EQ(q["ip"], kLoopback);
  EXPECT_EQ(q["time_zone"], "UTC");
  const json& day = q["windows"]["day"];
  EXPECT_EQ(day["used"]["total"].get<uint64_t>(), tcp_in + tcp_out + udp_in + udp_out);
  EXPECT_EQ(day["used"]["in"].get<uint64_t>(), tcp_in + udp_in);
  EXPECT_EQ(day["used"]["out"].get<uint64_t>(), tcp_out + udp_out);
  EXPECT_EQ(q["windows"]["week"]["used"], day["used"]);
  EXPECT_EQ(q["windows"]["month"]["used"], day["used"]);
  EXPECT_EQ(day["limit"], (json{{"total", 10 * kGB}, {"in", 0}, {"out", 0}}));
  EXPECT_EQ(q["windows"]["week"]["limit"], (json{{"total", 50 * kGB}, {"in", 0}, {"out", 0}}));
  EXPECT_EQ(q["windows"]["month"]["limit"], (json{{"total", 0}, {"in", 0}, {"out", 0}}));
  const WindowStarts at = window_starts(std::chrono::system_clock::now());
  EXPECT_EQ(day["start"], at.day);
  EXPECT_EQ(q["windows"]["week"]["start"], at.week);
  EXPECT_EQ(q["windows"]["month"]["start"], at.month);
  // The public summary of the server's settings shows the same limits.
  json srv = this->get_json("/api/v1/server");
  EXPECT_EQ(srv["ip_limits"]["day"]["total"].get<uint64_t>(), 10 * kGB);
  EXPECT_EQ(srv["btest"]["port"], this->server_.btest_port());
  EXPECT_EQ(srv["your_ip"], kLoopback);
}

// 2. A running test is listed by /admin/live with its rate, and its intervals
//    reach the API while it runs.
TYPED_TEST(WebTest, LiveTestIsListedAndItsIntervalsGrow) {
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("lily", "pw-l")));
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));

  ClientOutcome out;
  std::thread t([&, c = this->client("lily", "pw-l", Proto::kTcp, Direction::kClientRx, seconds(4), kCap)] {
    out = TestFixture::run(c);
  });
  struct Joiner {
    std::thread& t;
    ~Joiner() { t.join(); }
  } joiner{t};

  json live_entry;
  const bool listed = eventually(
      [&] {
        Reply r = this->web().admin("/api/v1/admin/live");
        json j = r.parsed();
        if (r.status != 200 || !j.is_object() || !j["sessions"].is_array() || j["sessions"].size() != 1) {
          return false;
        }
        live_entry = j["sessions"][0];
        return live_entry["seconds"].get<int64_t>() >= 2 && live_entry["id"].get<int64_t>() != 0;
      },
      milliseconds(6000));
  ASSERT_TRUE(listed) << "the running test was not listed with 2 s done: " << live_entry.dump();
  EXPECT_EQ(live_entry["ip"], kLoopback);
  EXPECT_EQ(live_entry["user"], "lily");
  EXPECT_EQ(live_entry["proto"], "tcp");
  EXPECT_EQ(live_entry["direction"], "receive");
  EXPECT_EQ(live_entry["connections"], 1);
  EXPECT_TRUE(within(live_entry["bps_out"].get<double>(), static_cast<double>(kCap), 0.20)) << live_entry.dump();
  EXPECT_EQ(live_entry["bps_in"], 0);
  EXPECT_GT(live_entry["bytes_out"].get<uint64_t>(), 0u);
  const int64_t id = live_entry["id"].get<int64_t>();

  // The intervals list grows while the session is "running".
  std::set<std::size_t> counts_while_running;
  std::string last_status;
  const bool done = eventually(
      [&] {
        Reply r = this->web().get("/api/v1/sessions/" + std::to_string(id) + "/intervals");
        json j = r.parsed();
        if (r.status != 200 || !j.is_object()) {
          return false;
        }
        last_status = j["status"].get<std::string>();
        if (last_status == "running") {
          counts_while_running.insert(j["intervals"].size());
        }
        return last_status != "running";
      },
      milliseconds(10'000));
  EXPECT_TRUE(done) << "the session did not end; last status " << last_status;
  EXPECT_EQ(last_status, "ok");
  ASSERT_FALSE(counts_while_running.empty());
  EXPECT_GE(counts_while_running.size(), 2u) << "the intervals did not grow while the test ran";
  EXPECT_GE(*counts_while_running.rbegin(), 2u);

  EXPECT_TRUE(eventually([&] {
    json j = this->web().admin("/api/v1/admin/live").parsed();
    return j.is_object() && j["sessions"].is_array() && j["sessions"].empty();
  })) << "the ended test is still listed as live";
  json stats = this->get_json("/api/v1/stats");
  EXPECT_EQ(stats["sessions_active"], 0);
  EXPECT_EQ(stats["tests_started"], 1);
}

// 3. Who may see what: the own IP without a token, another IP and the admin
//    endpoints with the token (bearer or login cookie) only; no token configured
//    = admin off (403).
TYPED_TEST(WebTest, AccessNeedsOwnIpOrTheAdminToken) {
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));
  SessionRow other;
  other.server = "elsewhere";
  other.started_unix_ms = 1'000;
  other.user = "zed";
  other.ip = kOtherIp;
  other.proto = "tcp";
  other.direction = "receive";
  auto other_id = this->store_->begin_session(other);
  ASSERT_TRUE(other_id) << other_id.error().message();
  const std::string other_session = "/api/v1/sessions/" + std::to_string(*other_id);

  const std::vector<std::string> other_ip = {"/api/v1/ip/" + kOtherIp + "/sessions",
                                             "/api/v1/ip/" + kOtherIp + "/quota",
                                             "/api/v1/ip/" + kOtherIp + "/export",
                                             other_session,
                                             other_session + "/intervals",
                                             other_session + "/chart.svg",
                                             other_session + "/export"};
  const std::vector<std::string> admin = {"/api/v1/admin/live", "/api/v1/admin/sessions", "/api/v1/admin/users",
                                          "/api/v1/admin/top-ips", "/api/v1/admin/rejections"};
  const std::vector<std::string> own = {"/api/v1/ip/127.0.0.1/sessions",
                                        "/api/v1/ip/127.0.0.1/quota",
                                        "/api/v1/ip/127.0.0.1/export",
                                        "/api/v1/server",
                                        "/api/v1/stats",
                                        "/healthz",
                                        "/metrics",
                                        "/",
                                        "/me",
                                        "/ip/127.0.0.1"};
  Web w = this->web();
  for (const auto& p : own) {
    EXPECT_EQ(w.get(p).status, 200) << p;
  }
  for (const auto& p : other_ip) {
    this->expect_json_error(w.get(p), 403, p + " without a token");
    this->expect_json_error(w.get(p, Web::bearer("wrong-token-0123456789")), 403, p + " with a wrong token");
    EXPECT_EQ(w.admin(p).status, 200) << p << " with the token";
  }
  EXPECT_EQ(w.get("/ip/" + kOtherIp).status, 403) << "another IP's page";
  EXPECT_EQ(w.get("/ip/" + kOtherIp, Web::bearer(kToken)).status, 200);
  json s = w.admin(other_session).parsed();
  ASSERT_TRUE(s.is_object());
  EXPECT_EQ(s["ip"], kOtherIp);
  EXPECT_EQ(s["user"], "zed");
  for (const auto& p : admin) {
    this->expect_json_error(w.get(p), 401, p + " without a token");
    this->expect_json_error(w.get(p, Web::bearer("wrong-token-0123456789")), 401, p + " with a wrong token");
    this->expect_json_error(w.get(p, Web::bearer(kToken + "x")), 401, p + " with a longer token");
    this->expect_json_error(w.get(p, Web::bearer(kToken.substr(0, kToken.size() - 1))), 401, p + " with a prefix");
    this->expect_json_error(w.get(p, {{"Cookie", "btest_admin=wrong-token-0123456789"}}), 401, p + " wrong cookie");
    EXPECT_EQ(w.admin(p).status, 200) << p << " with the token";
  }

  // Login: a wrong token is refused; the right one sets an HttpOnly cookie that opens admin endpoints.
  this->expect_json_error(w.post_form("/api/v1/admin/login", "token=wrong-token-0123456789"), 401, "wrong login");
  Reply login = w.post_form("/api/v1/admin/login", "token=" + pct(kToken));
  EXPECT_EQ(login.status, 204) << login;
  const std::string cookie = login.header("Set-Cookie");
  EXPECT_NE(cookie.find("btest_admin="), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos) << cookie;
  const std::string pair = cookie.substr(0, cookie.find(';'));
  EXPECT_EQ(w.get("/api/v1/admin/users", {{"Cookie", "theme=dark; " + pair}}).status, 200) << "login cookie";
  EXPECT_EQ(w.get("/api/v1/ip/" + kOtherIp + "/sessions", {{"Cookie", pair}}).status, 200) << "login cookie";
  Reply logout = w.post_form("/api/v1/admin/logout", "");
  EXPECT_EQ(logout.status, 204) << logout;
  EXPECT_NE(logout.header("Set-Cookie").find("Max-Age=0"), std::string::npos) << logout.header("Set-Cookie");
  EXPECT_EQ(w.get("/api/v1/admin/live", {{"Authorization", "Basic " + kToken}}).status, 401) << "not a bearer";

  // No token configured: admin access is off, even for a request that presents one.
  ASSERT_TRUE(this->server_.stop());
  ServeConfig off = this->serve_config();
  off.admin_token.clear();
  ASSERT_NO_FATAL_FAILURE(this->start(off));
  Web w_off = this->web();
  for (const auto& p : admin) {
    this->expect_json_error(w_off.get(p), 403, p + " (admin off)");
    this->expect_json_error(w_off.admin(p), 403, p + " (admin off, token presented)");
  }
  EXPECT_EQ(w_off.post_form("/api/v1/admin/login", "token=" + pct(kToken)).status, 403);
  this->expect_json_error(w_off.admin("/api/v1/ip/" + kOtherIp + "/sessions"), 403, "other IP (admin off)");
  EXPECT_EQ(w_off.get("/api/v1/ip/127.0.0.1/sessions").status, 200);

  // --admin-token-file: the first line of the file.
  ASSERT_TRUE(this->server_.stop());
  const std::string token_file = this->dir_.path() + "/token";
  std::ofstream(token_file) << kToken << "\nignored second line\n";
  ServeConfig from_file = this->serve_config();
  from_file.admin_token.clear();
  from_file.admin_token_file = token_file;
  ASSERT_NO_FATAL_FAILURE(this->start(from_file));
  Web w_file = this->web();
  EXPECT_EQ(w_file.admin("/api/v1/admin/users").status, 200) << "token from the file";
  EXPECT_EQ(w_file.get("/api/v1/admin/users").status, 401);
}

// 4. Hostile paths and queries: a one-line JSON 400 (or 404/405), no effect on
//    the database, and the server keeps serving.
TYPED_TEST(WebTest, HostileInputIsRefusedAndNothingReachesSql) {
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("hank", "pw-h")));
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));
  ClientOutcome out = this->run(this->client("hank", "pw-h", Proto::kTcp, Direction::kClientRx, seconds(1), kCap));
  ASSERT_TRUE(out.started) << out.error;
  json sessions = this->ended_sessions(kLoopback, 1);
  ASSERT_EQ(sessions.size(), 1u);
  const int64_t id = sessions[0]["id"].get<int64_t>();
  Web w = this->web();

  // Bad IPs, percent-encoded byte for byte, and a few raw ones.
  std::vector<std::string> bad_ips;
  for (const std::string& ip : std::vector<std::string>{
           std::string("1.2.3"), std::string("999.1.1.1"), std::string("1.2.3.4.5"), std::string("1' OR '1'='1"),
           std::string(";DROP TABLE sessions;--"), std::string("127.0.0.1' --"), std::string("127.0.0.1\0", 10),
           std::string("127.0.0.1\0.evil", 15), std::string("[::1]"), std::string("fe80::1%eth0"),
           std::string(" 127.0.0.1"), std::string("0x7f.1"), std::string("<img src=x onerror=alert(1)>"),
           std::string("\xff\xfe\t"), std::string(5000, 'a')}) {
    bad_ips.push_back(pct(ip));
  }
  // Raw on purpose: a NUL, broken escapes, dot segments.
  for (const char* raw : {"%00", "%", "%zz", "..", "%2e%2e", "%25"}) {
    bad_ips.emplace_back(raw);
  }
  for (const auto& ip : bad_ips) {
    for (const char* what : {"sessions", "quota", "export"}) {
      const std::string path = "/api/v1/ip/" + ip + "/" + what;
      this->expect_json_error(w.get(path), 400, path.substr(0, 80));
      this->expect_json_error(w.admin(path), 400, path.substr(0, 80) + " (admin)");
    }
  }
  EXPECT_EQ(w.get("/ip/" + pct("1' OR '1'='1")).status, 400) << "the HTML page refuses it too";
  // A CR or LF in the decoded path is a bad parameter like any other (one
  // expectation per path: the whole answer is checked at once).
  for (const std::string& path : std::vector<std::string>{"/api/v1/ip/%0A/sessions", "/api/v1/ip/127.0.0.1%0D%0A/quota",
                                                          "/api/v1/ip/127.0.0.1%0A/export", "/api/v1/sessions/1%0A"}) {
    const Reply r = w.admin(path);
    const json j = r.parsed();
    EXPECT_TRUE(r.status == 400 && j.is_object() && j.contains("error"))
        << path << " should be a JSON 400; got " << r << " (Content-Type '" << r.header("Content-Type") << "')";
  }

  // Bad session ids: not a decimal from 1 to 2^53, no sign, no leading zero.
  for (const std::string& bad_id : std::vector<std::string>{
           "0", "-1", "+1", "01", "9007199254740993", "99999999999999999999", "1e3", "abc", "0x10", "1.0", "%201",
           "1%20", pct("1 OR 1=1"), pct("1;DROP TABLE sessions"), std::string(5000, '7')}) {
    for (const char* tail : {"", "/intervals", "/chart.svg", "/export"}) {
      const std::string path = "/api/v1/sessions/" + bad_id + tail;
      this->expect_json_error(w.admin(path), 400, path.substr(0, 80));
    }
  }
  this->expect_json_error(w.admin("/api/v1/sessions/9007199254740992"), 404, "2^53 is valid but no such session");
  this->expect_json_error(w.admin("/api/v1/sessions/" + std::to_string(id + 1000)), 404, "no such session");

  // Bad queries.
  const std::string own = "/api/v1/ip/127.0.0.1/sessions";
  for (const std::string& q : std::vector<std::string>{
           "limit=0", "limit=1001", "limit=abc", "limit=-1", "limit=1&limit=2", "limit=", "limit=1e2",
           "limit=4294967297", "limit=" + pct("1 OR 1=1"), "foo=bar", "limit=5&foo=bar", "LIMIT=5", "format=json"}) {
    this->expect_json_error(w.get(own + "?" + q), 400, own + "?" + q);
  }
  EXPECT_EQ(w.get(own + "?limit=1000").status, 200);
  EXPECT_EQ(w.get(own + "?limit=1").status, 200);
  for (const std::string& q :
       std::vector<std::string>{"format=xml", "format=JSON", "format=json&format=csv", "format=", "limit=5"}) {
    this->expect_json_error(w.get("/api/v1/ip/127.0.0.1/export?" + q), 400, "ip export ?" + q);
    this->expect_json_error(w.get("/api/v1/sessions/" + std::to_string(id) + "/export?" + q), 400,
                            "session export ?" + q);
  }
  for (const std::string& q :
       std::vector<std::string>{"window=year", "window=", "window=day&window=week", "window=" + pct("day' --"),
                                "limit=0", "window=day&limit=1001"}) {
    this->expect_json_error(w.admin("/api/v1/admin/top-ips?" + q), 400, "top-ips ?" + q);
  }
  for (const std::string& p : std::vector<std::string>{
           "/api/v1/admin/users?limit=0", "/api/v1/admin/rejections?limit=abc", "/api/v1/admin/sessions?limit=1001",
           "/api/v1/admin/live?limit=5", "/api/v1/sessions/" + std::to_string(id) + "/intervals?limit=5",
           "/api/v1/ip/127.0.0.1/quota?x=1"}) {
    this->expect_json_error(w.admin(p), 400, p);
  }

  // Unknown paths and methods.
  for (const std::string& p :
       std::vector<std::string>{"/api/v1/nope", "/api/v2/server", "/api/v1/ip/127.0.0.1/nope", "/api/v1/ip/127.0.0.1",
                                "/api/v1/sessions/" + std::to_string(id) + "/nope", "/api/v1/admin/nope",
                                "/api/v1/ip/127.0.0.1/sessions/extra"}) {
    this->expect_json_error(w.admin(p), 404, p);
  }
  for (const std::string& p :
       std::vector<std::string>{"/nope", "/static/..%2F..%2Fetc%2Fpasswd", "/static/.hidden", "/etc/passwd"}) {
    const Reply r = w.get(p);
    EXPECT_EQ(r.status, 404) << p << ": " << r;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << p;
  }
  for (const std::string& p :
       std::vector<std::string>{own, "/api/v1/sessions/" + std::to_string(id), "/api/v1/admin/users", "/metrics"}) {
    const Reply d = w.del(p);
    EXPECT_GE(d.status, 400) << "DELETE " << p << ": " << d;
    EXPECT_LT(d.status, 500) << "DELETE " << p << ": " << d;
    const Reply u = w.put(p);
    EXPECT_GE(u.status, 400) << "PUT " << p << ": " << u;
    EXPECT_LT(u.status, 500) << "PUT " << p << ": " << u;
    if (p.starts_with("/api/")) {
      this->expect_json_error(w.post_form(p, "a=b"), 405, "POST " + p);
    } else {
      EXPECT_EQ(w.post_form(p, "a=b").status, 405) << "POST " << p;
    }
  }
  this->expect_json_error(w.get("/api/v1/admin/login"), 405, "GET login");
  this->expect_json_error(w.post_form("/api/v1/admin/login", "token=" + pct(kToken) + "&token=x"), 400,
                          "login with two tokens");

  // Nothing was executed: the rows are all there, and the server still serves.
  json after = this->get_json(own);
  ASSERT_TRUE(after["sessions"].is_array());
  ASSERT_EQ(after["sessions"].size(), 1u);
  EXPECT_EQ(after["sessions"][0], sessions[0]);
  auto rows = this->store_->recent_sessions("", 1000);
  ASSERT_TRUE(rows) << rows.error().message();
  EXPECT_EQ(rows->size(), 1u);
  auto users = this->store_->list_users();
  ASSERT_TRUE(users);
  EXPECT_EQ(users->size(), 1u);
  auto iv = this->store_->intervals(id);
  ASSERT_TRUE(iv);
  EXPECT_GE(iv->size(), 1u);
  EXPECT_EQ(this->get_json("/healthz")["status"], "ok");
  EXPECT_EQ(this->get_json("/api/v1/sessions/" + std::to_string(id) + "/intervals")["intervals"].size(), iv->size());
  // The server counted the refusals.
  Reply metrics = w.get("/metrics");
  EXPECT_NE(metrics.body.find("btest_http_requests_total{code=\"400\"}"), std::string::npos);
}

// 5. Exports: a session and an IP's history as JSON (with intervals) and CSV, as
//    attachments.
TYPED_TEST(WebTest, ExportsSessionAndIpAsJsonAndCsv) {
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("eve", "pw-e")));
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));
  ClientOutcome out = this->run(this->client("eve", "pw-e", Proto::kTcp, Direction::kBoth, seconds(2), kCap / 2));
  ASSERT_TRUE(out.started) << out.error;
  json sessions = this->ended_sessions(kLoopback, 1);
  ASSERT_EQ(sessions.size(), 1u);
  const json& s = sessions[0];
  const std::string base = "/api/v1/sessions/" + std::to_string(s["id"].get<int64_t>());
  const json intervals = this->get_json(base + "/intervals")["intervals"];
  ASSERT_GE(intervals.size(), 2u);
  Web w = this->web();

  for (const std::string& q : std::vector<std::string>{"", "?format=json"}) {
    Reply r = w.get(base + "/export" + q);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Content-Disposition").rfind("attachment", 0), 0u) << r.header("Content-Disposition");
    EXPECT_EQ(r.header("Content-Type").rfind("application/json", 0), 0u);
    json j = r.parsed();
    ASSERT_TRUE(j.is_object()) << r;
    EXPECT_EQ(j["intervals"], intervals);
    j.erase("intervals");
    EXPECT_EQ(j, s);
  }
  {
    Reply r = w.get(base + "/export?format=csv");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Content-Disposition").rfind("attachment", 0), 0u);
    EXPECT_NE(r.header("Content-Disposition").find(".csv"), std::string::npos);
    EXPECT_EQ(r.header("Content-Type").rfind("text/csv", 0), 0u);
    const auto lines = split_lines(r.body);
    ASSERT_EQ(lines.size(), 1 + intervals.size()) << r.body;
    const auto header = split_csv(lines[0]);
    ASSERT_GE(header.size(), 4u);
    EXPECT_EQ(header[0], "second");
    const auto col = [&](const std::string& name) {
      return static_cast<std::size_t>(std::find(header.begin(), header.end(), name) - header.begin());
    };
    ASSERT_LT(col("bytes_in"), header.size());
    ASSERT_LT(col("bytes_out"), header.size());
    for (std::size_t i = 0; i < intervals.size(); ++i) {
      const auto cells = split_csv(lines[i + 1]);
      ASSERT_EQ(cells.size(), header.size()) << lines[i + 1];
      EXPECT_EQ(cells[0], std::to_string(i));
      EXPECT_EQ(cells[col("bytes_in")], std::to_string(intervals[i]["bytes_in"].get<uint64_t>()));
      EXPECT_EQ(cells[col("bytes_out")], std::to_string(intervals[i]["bytes_out"].get<uint64_t>()));
    }
  }
  for (const std::string& q : std::vector<std::string>{"", "?format=json"}) {
    Reply r = w.get("/api/v1/ip/127.0.0.1/export" + q);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Content-Disposition").rfind("attachment", 0), 0u) << r.header("Content-Disposition");
    EXPECT_NE(r.header("Content-Disposition").find(".json"), std::string::npos);
    json j = r.parsed();
    ASSERT_TRUE(j.is_object()) << r;
    EXPECT_EQ(j["ip"], kLoopback);
    ASSERT_EQ(j["sessions"].size(), 1u);
    EXPECT_EQ(j["sessions"][0]["intervals"], intervals);
    json one = j["sessions"][0];
    one.erase("intervals");
    EXPECT_EQ(one, s);
  }
  {
    Reply r = w.get("/api/v1/ip/127.0.0.1/export?format=csv");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Content-Disposition").rfind("attachment", 0), 0u);
    EXPECT_EQ(r.header("Content-Type").rfind("text/csv", 0), 0u);
    const auto lines = split_lines(r.body);
    ASSERT_EQ(lines.size(), 2u) << r.body;
    const auto header = split_csv(lines[0]);
    const auto row = split_csv(lines[1]);
    ASSERT_EQ(row.size(), header.size());
    for (std::size_t i = 0; i < header.size(); ++i) {
      ASSERT_TRUE(s.contains(header[i])) << "CSV column " << header[i] << " is not a Session field";
      const json& v = s[header[i]];
      EXPECT_EQ(row[i], v.is_string() ? v.get<std::string>() : v.dump()) << header[i];
    }
  }
  // Another address's export is empty with the token, refused without.
  EXPECT_EQ(w.get("/api/v1/ip/" + kOtherIp + "/export?format=csv").status, 403);
  Reply other = w.admin("/api/v1/ip/" + kOtherIp + "/export?format=csv");
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(split_lines(other.body).size(), 1u) << "header only";
}

// 6. The admin views: users with usage and no secrets, top IPs of a window,
//    rejections, all sessions.
TYPED_TEST(WebTest, AdminUsersTopIpsAndRejections) {
  Limits alice_limits;
  alice_limits.day = DirLimits{5 * kGB, 0, 0};
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("alice", "pw-a", alice_limits)));
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("bob", "pw-b", {}, std::string("bob-md5-secret"))));
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));
  ClientOutcome out = this->run(this->client("alice", "pw-a", Proto::kTcp, Direction::kBoth, seconds(1), kCap));
  ASSERT_TRUE(out.started) << out.error;
  ClientOutcome wrong =
      this->run(this->client("alice", "not-the-password", Proto::kTcp, Direction::kBoth, seconds(1), kCap));
  EXPECT_FALSE(wrong.started);
  EXPECT_EQ(wrong.failure, ClientFailure::kAuthFailed) << wrong.error;
  json sessions = this->ended_sessions(kLoopback, 1);
  ASSERT_EQ(sessions.size(), 1u);
  const uint64_t in = sessions[0]["bytes_in"].get<uint64_t>();
  const uint64_t out_bytes = sessions[0]["bytes_out"].get<uint64_t>();

  Reply users = this->web().admin("/api/v1/admin/users");
  ASSERT_EQ(users.status, 200) << users;
  json u = users.parsed();
  ASSERT_TRUE(u["users"].is_array());
  ASSERT_EQ(u["users"].size(), 2u);
  EXPECT_EQ(u["users"][0]["name"], "alice") << "by name";
  EXPECT_EQ(u["users"][1]["name"], "bob");
  const json& a = u["users"][0];
  EXPECT_EQ(a["enabled"], true);
  EXPECT_EQ(a["allow_md5"], false);
  EXPECT_EQ(u["users"][1]["allow_md5"], true);
  EXPECT_EQ(a["limits"]["day"]["total"].get<uint64_t>(), 5 * kGB);
  for (const char* window : {"day", "week", "month"}) {
    EXPECT_EQ(a["used"][window]["total"].get<uint64_t>(), in + out_bytes) << window;
    EXPECT_EQ(a["used"][window]["in"].get<uint64_t>(), in) << window;
    EXPECT_EQ(a["used"][window]["out"].get<uint64_t>(), out_bytes) << window;
    EXPECT_EQ(u["users"][1]["used"][window]["total"], 0) << window;
  }
  std::set<std::string> keys;
  collect_keys(u, keys);
  for (const auto& k : keys) {
    EXPECT_EQ(k.find("password"), std::string::npos) << "key " << k;
    EXPECT_EQ(k.find("verifier"), std::string::npos) << "key " << k;
    EXPECT_EQ(k.find("salt"), std::string::npos) << "key " << k;
    EXPECT_EQ(k.find("md5_"), std::string::npos) << "key " << k;
  }
  EXPECT_EQ(users.body.find("bob-md5-secret"), std::string::npos);
  auto stored = this->store_->find_user("alice");
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(users.body.find((*stored)->verifier), std::string::npos);
  EXPECT_EQ(this->web().admin("/api/v1/admin/users?limit=1").parsed()["users"].size(), 1u);

  for (const char* window : {"day", "week", "month"}) {
    json top = this->get_json(std::string("/api/v1/admin/top-ips?window=") + window, Web::bearer(kToken));
    EXPECT_EQ(top["window"], window);
    ASSERT_EQ(top["ips"].size(), 1u) << top.dump();
    EXPECT_EQ(top["ips"][0]["ip"], kLoopback);
    EXPECT_EQ(top["ips"][0]["total"].get<uint64_t>(), in + out_bytes);
    EXPECT_EQ(top["ips"][0]["in"].get<uint64_t>(), in);
    EXPECT_EQ(top["ips"][0]["out"].get<uint64_t>(), out_bytes);
  }
  json top_default = this->get_json("/api/v1/admin/top-ips", Web::bearer(kToken));
  EXPECT_EQ(top_default["window"], "day");
  EXPECT_EQ(top_default["start"], window_starts(std::chrono::system_clock::now()).day);

  json rej;
  const bool seen = eventually([&] {
    rej = this->web().admin("/api/v1/admin/rejections").parsed();
    return rej.is_object() && rej["rejections"].is_array() && !rej["rejections"].empty();
  });
  ASSERT_TRUE(seen) << rej.dump();
  ASSERT_EQ(rej["rejections"].size(), 1u) << rej.dump();
  EXPECT_EQ(rej["rejections"][0]["reason"], "auth_failed");
  EXPECT_EQ(rej["rejections"][0]["ip"], kLoopback);
  EXPECT_EQ(rej["rejections"][0]["user"], "alice");
  EXPECT_EQ(rej["rejections"][0]["server"], kServerName);
  EXPECT_GT(rej["rejections"][0]["unix_ms"].get<int64_t>(), 0);

  json all = this->get_json("/api/v1/admin/sessions", Web::bearer(kToken));
  ASSERT_EQ(all["sessions"].size(), 1u);
  EXPECT_EQ(all["sessions"][0], sessions[0]);
  json stats = this->get_json("/api/v1/stats");
  EXPECT_EQ(stats["rejections"], 1);
  EXPECT_EQ(stats["tests_started"], 1);
}

// 7. Sixteen threads hammer the API while a paced 5 s test runs: the test keeps
//    its rate and ends ok, every answer is the expected one, the web still answers.
TYPED_TEST(WebTest, HammeredApiDoesNotDisturbARunningTest) {
  constexpr uint64_t kFastCap = 200'000'000;
  constexpr int kThreads = 16;
  ASSERT_NO_FATAL_FAILURE(this->add_user(make_user("hammer", "pw-h")));
  ASSERT_NO_FATAL_FAILURE(this->start(this->serve_config()));
  // A finished session first, so chart.svg has something to draw.
  ClientOutcome warm = this->run(this->client("hammer", "pw-h", Proto::kTcp, Direction::kBoth, seconds(1), kCap));
  ASSERT_TRUE(warm.started) << warm.error;
  json first = this->ended_sessions(kLoopback, 1);
  ASSERT_EQ(first.size(), 1u);
  const std::string chart = "/api/v1/sessions/" + std::to_string(first[0]["id"].get<int64_t>()) + "/chart.svg";

  struct Ask {
    std::string path;
    int status;
  };
  const std::vector<Ask> asks = {{"/api/v1/ip/127.0.0.1/sessions", 200},
                                 {"/metrics", 200},
                                 {chart, 200},
                                 {"/api/v1/ip/1.2.3/sessions", 400},
                                 {"/api/v1/sessions/01/intervals", 400},
                                 {"/api/v1/ip/127.0.0.1/sessions?limit=0", 400},
                                 {"/api/v1/ip/127.0.0.1/quota", 200},
                                 {"/api/v1/nope", 404}};

  ClientOutcome out;
  std::thread test_thread([&, c = this->client("hammer", "pw-h", Proto::kTcp, Direction::kClientRx, seconds(5),
                                               kFastCap)] { out = TestFixture::run(c); });
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> transport_errors{0};
  std::atomic<uint64_t> wrong_status{0};
  std::mutex first_wrong_mu;
  std::string first_wrong;
  const uint16_t port = this->server_.web_port();
  const auto stop_at = SteadyClock::now() + seconds(4);
  std::vector<std::thread> hammers;
  for (int t = 0; t < kThreads; ++t) {
    hammers.emplace_back([&, t] {
      // Half the threads keep their connection, half open one per request.
      const bool keep_alive = t % 2 == 0;
      std::optional<Web> kept;
      if (keep_alive) {
        kept.emplace(port, true);
      }
      for (std::size_t i = static_cast<std::size_t>(t); SteadyClock::now() < stop_at && i < 1'000'000; ++i) {
        const Ask& a = asks[i % asks.size()];
        Reply r = keep_alive ? kept->get(a.path) : Web(port).get(a.path);
        if (r.status == 0) {
          transport_errors.fetch_add(1);
        } else if (r.status != a.status) {
          wrong_status.fetch_add(1);
          std::lock_guard lock(first_wrong_mu);
          if (first_wrong.empty()) {
            first_wrong = a.path + " -> " + std::to_string(r.status) + " " + r.body.substr(0, 200);
          }
        } else {
          answered.fetch_add(1);
        }
      }
    });
  }
  for (auto& h : hammers) {
    h.join();
  }
  test_thread.join();

  ASSERT_TRUE(out.started) << out.error;
  EXPECT_EQ(wrong_status.load(), 0u) << first_wrong;
  EXPECT_EQ(transport_errors.load(), 0u);
  EXPECT_GT(answered.load(), static_cast<uint64_t>(kThreads)) << "the web served almost nothing";
  std::printf("[ hammer   ] %llu answers in 4 s from %d threads\n", static_cast<unsigned long long>(answered.load()),
              kThreads);
  EXPECT_GE(out.record.duration_s, 4.5);
  EXPECT_GE(out.record.rx_avg_bps(), 0.7 * static_cast<double>(kFastCap))
      << "the test ran at " << out.record.rx_avg_bps() << " bit/s while the API was hammered";

  json list = this->ended_sessions(kLoopback, 2);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["status"], "ok");
  EXPECT_EQ(list[0]["direction"], "receive");
  const double secs =
      static_cast<double>(list[0]["ended_unix_ms"].get<int64_t>() - list[0]["started_unix_ms"].get<int64_t>()) / 1000;
  EXPECT_GE(static_cast<double>(list[0]["bytes_out"].get<uint64_t>()) * 8 / secs, 0.7 * static_cast<double>(kFastCap));
  EXPECT_EQ(this->get_json("/healthz")["status"], "ok");
  EXPECT_EQ(this->web().get(chart).status, 200);
}

}  // namespace
}  // namespace linerate::btest::pro
