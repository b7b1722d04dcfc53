// btest/pro/web/server.cpp — the dashboard's HTTP server (see server.hpp and
// docs/api.md for the contract).
//
// One handler serves every request: request.cpp turns the method and path into
// a Route (or 400/404/405) and the query into a Query (or 400) before any
// database call, so what reaches SQL is a canonical address, a number in range
// or a fixed keyword, always as a bound parameter. Access is decided here from
// two facts: the TCP peer of the HTTP connection (the visitor's own IP) and
// whether the request presents the admin token. JSON is written by nlohmann
// (escaped), SVG by chart.cpp (numbers and fixed words), pages are static assets
// that fill themselves from the API with textContent.
#include "btest/pro/web/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "btest/pro/detail/store_pool.hpp"
#include "btest/pro/web/assets.hpp"
#include "btest/pro/web/chart.hpp"
#include "btest/pro/web/request.hpp"
#include "btest/pro/windows.hpp"
#include "core/address.hpp"
#include "core/csv.hpp"
#include "core/text.hpp"
#include "core/version.hpp"

namespace linerate::btest::pro::web {
namespace {

using nlohmann::json;

constexpr int kDbConnections = 2;
constexpr std::size_t kHttpThreads = 8;
constexpr std::size_t kMaxQueued = 64;
constexpr uint32_t kExportSessions = 1000;

/// The calling thread yields the CPU to the tests: nice kWebNice (Linux nice
/// values are per thread). When the machine is busy, the scheduler then gives
/// the data path ~10x the dashboard's share; an idle machine serves both fully.
constexpr int kWebNice = 10;
void lower_priority() {
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kWebNice) != 0) {
    // Not fatal: without it the dashboard merely competes at normal priority.
  }
}

/// httplib's task queue, bounded: enqueue() waits while kMaxQueued connections
/// are waiting for a thread, which stops the accept loop (backpressure into the
/// kernel's backlog) instead of growing a queue without end.
class BoundedPool final : public httplib::TaskQueue {
 public:
  BoundedPool(std::size_t threads, std::size_t max_queued) : max_queued_(max_queued) {
    for (std::size_t i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        lower_priority();
        work();
      });
    }
  }
  ~BoundedPool() override { shutdown(); }
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  void enqueue(std::function<void()> fn) override {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return queue_.size() < max_queued_ || stopping_; });
    queue_.push_back(std::move(fn));
    not_empty_.notify_one();
  }
  void shutdown() override {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && threads_.empty()) {
        return;
      }
      stopping_ = true;
    }
    not_empty_.notify_all();
    not_full_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
    threads_.clear();
  }

 private:
  void work() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mu_);
        not_empty_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) {
          return;  // stopping, and every accepted connection was served
        }
        fn = std::move(queue_.front());
        queue_.pop_front();
        not_full_.notify_one();
      }
      fn();
    }
  }

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable not_empty_;
  std::condition_variable not_full_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::thread> threads_;
  bool stopping_ = false;
};

std::string canonical_ip(const std::string& text) {
  auto a = core::parse_ip(text, 0);
  return a ? a->ip() : text;
}

json limits_json(const DirLimits& l) { return {{"total", l.total}, {"in", l.in}, {"out", l.out}}; }
json limits_json(const Limits& l) {
  return {{"day", limits_json(l.day)}, {"week", limits_json(l.week)}, {"month", limits_json(l.month)}};
}
json usage_json(const Usage& u) { return {{"total", u.total()}, {"in", u.in}, {"out", u.out}}; }

json session_json(const SessionRow& s) {
  return {{"id", s.id},
          {"server", s.server},
          {"started_unix_ms", s.started_unix_ms},
          {"ended_unix_ms", s.ended_unix_ms},
          {"user", s.user},
          {"ip", s.ip},
          {"proto", s.proto},
          {"direction", s.direction},
          {"connections", s.connections},
          {"bytes_in", s.bytes_in},
          {"bytes_out", s.bytes_out},
          {"lost", s.lost},
          {"status", s.status}};
}

json interval_json(const IntervalRow& r) {
  return {{"second", r.second},
          {"bytes_in", r.bytes_in},
          {"bytes_out", r.bytes_out},
          {"duration_ms", r.duration_ms},
          {"partial", !drawn(r)},
          {"bps_in", bits_per_second(r.bytes_in, r.duration_ms)},
          {"bps_out", bits_per_second(r.bytes_out, r.duration_ms)},
          {"lost", r.lost},
          {"cpu_local", r.cpu_local},
          {"cpu_remote", r.cpu_remote}};
}

const std::vector<std::string> kSessionCsvHeader = {
    "id",        "server",      "started_unix_ms", "ended_unix_ms", "user", "ip",    "proto",
    "direction", "connections", "bytes_in",        "bytes_out",     "lost", "status"};

std::vector<std::string> session_csv(const SessionRow& s) {
  return {std::to_string(s.id),
          s.server,
          std::to_string(s.started_unix_ms),
          std::to_string(s.ended_unix_ms),
          s.user,
          s.ip,
          s.proto,
          s.direction,
          std::to_string(s.connections),
          std::to_string(s.bytes_in),
          std::to_string(s.bytes_out),
          std::to_string(s.lost),
          s.status};
}

/// Who is asking: the TCP peer of the HTTP connection, and the token check.
struct Caller {
  std::string ip;
  bool admin = false;
};

}  // namespace

struct WebServer::Impl {
  WebContext ctx;
  detail::StorePool db;
  httplib::Server http;
  std::string host;
  uint16_t port = 0;
  std::thread thread;
  std::atomic<bool> listening_done{false};

  Impl(WebContext c, detail::StorePool pool) : ctx(std::move(c)), db(std::move(pool)) {}

  // ---- responses

  static void security_headers(httplib::Response& res) {
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("X-Frame-Options", "DENY");
  }

  static void send_json(httplib::Response& res, const json& body, int status = 200) {
    res.status = status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
  }

  static void send_error(httplib::Response& res, const HttpError& e, bool api) {
    res.status = e.status;
    res.set_header("Cache-Control", "no-store");
    if (api) {
      res.set_content(json{{"error", e.message}}.dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
      return;
    }
    res.set_content(fmt::format("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                                "<title>btest-pro: {}</title><link rel=\"stylesheet\" href=\"/static/style.css\">"
                                "</head><body data-page=\"error\"><main><h1>{}</h1><p id=\"error\">{}</p>"
                                "<p><a href=\"/me\">Your own tests</a> · <a href=\"/admin\">Admin</a> · "
                                "<a href=\"/\">Home</a></p></main></body></html>\n",
                                e.status, e.status == 403 ? "Not allowed" : "Error", core::markup_escape(e.message)),
                    "text/html; charset=utf-8");
  }

  static void send_asset(httplib::Response& res, std::string_view name) {
    const Asset* a = find_asset(name);
    if (a == nullptr) {
      send_error(res, HttpError{404, "no such file: " + std::string(name)}, false);
      return;
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");
    if (a->content_type.starts_with("text/html")) {
      // Pages run only our own script and style; nothing inline, nothing remote.
      res.set_header("Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                     "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
    }
    res.set_content(std::string(a->body), std::string(a->content_type));
  }

  static void send_download(httplib::Response& res, std::string body, std::string_view type,
                            const std::string& filename) {
    res.status = 200;
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition", "attachment; filename=\"" + filename + "\"");
    res.set_content(std::move(body), std::string(type));
  }

  static HttpError db_error(const core::Error& e) { return HttpError{503, "database: " + e.message()}; }

  // ---- the one handler

  void handle(const httplib::Request& req, httplib::Response& res) {
    security_headers(res);
    auto r = route(req.method, req.path);
    if (!r) {
      send_error(res, r.error(), req.path.starts_with("/api/"));
      return;
    }
    const bool api = r->is_api();
    Caller caller{canonical_ip(req.remote_addr),
                  token_matches(ctx.admin_token, presented_token(req.get_header_value("Authorization"),
                                                                 req.get_header_value("Cookie")))};
    if (r->endpoint == Endpoint::kAdminLogin || r->endpoint == Endpoint::kAdminLogout) {
      login(req, res, r->endpoint == Endpoint::kAdminLogin);
      return;
    }
    std::vector<std::pair<std::string, std::string>> params(req.params.begin(), req.params.end());
    auto q = parse_query(r->endpoint, params);
    if (!q) {
      send_error(res, q.error(), api);
      return;
    }
    if (auto refused = access(*r, caller); refused) {
      send_error(res, *refused, api);
      return;
    }
    auto done = serve(*r, *q, caller, req, res);
    if (!done) {
      send_error(res, done.error(), api);
    }
  }

  /// 401/403 when the caller may not see this route; nullopt when they may.
  /// Session routes are checked again once the session's IP is known.
  [[nodiscard]] std::optional<HttpError> access(const Route& r, const Caller& c) const {
    switch (r.endpoint) {
      case Endpoint::kAdminLive:
      case Endpoint::kAdminSessions:
      case Endpoint::kAdminUsers:
      case Endpoint::kAdminTopIps:
      case Endpoint::kAdminRejections:
        if (ctx.admin_token.empty()) {
          return HttpError{403, "admin access is off: start the server with --admin-token or --admin-token-file"};
        }
        if (!c.admin) {
          return HttpError{401, "this needs the admin token (Authorization: Bearer TOKEN, or log in at /admin)"};
        }
        return std::nullopt;
      case Endpoint::kIpPage:
      case Endpoint::kIpSessions:
      case Endpoint::kIpQuota:
      case Endpoint::kIpExport:
        if (!c.admin && r.ip != c.ip) {
          return other_ip(r.ip, c.ip);
        }
        return std::nullopt;
      default:
        return std::nullopt;
    }
  }

  static HttpError other_ip(const std::string& wanted, const std::string& you) {
    return HttpError{403, "you can see only your own address (" + you + "), not " + wanted +
                              "; the admin token opens every address"};
  }

  void login(const httplib::Request& req, httplib::Response& res, bool in) {
    if (!in) {
      res.set_header("Set-Cookie", "btest_admin=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict");
      res.status = 204;
      return;
    }
    if (ctx.admin_token.empty()) {
      send_error(res, HttpError{403, "admin access is off: start the server with --admin-token"}, true);
      return;
    }
    if (req.get_param_value_count("token") != 1 || req.params.size() != 1) {
      send_error(res, HttpError{400, "send exactly one form field: token"}, true);
      return;
    }
    if (!token_matches(ctx.admin_token, req.get_param_value("token"))) {
      send_error(res, HttpError{401, "wrong admin token"}, true);
      return;
    }
    res.set_header("Set-Cookie", "btest_admin=" + ctx.admin_token + "; Path=/; HttpOnly; SameSite=Strict");
    res.status = 204;
  }

  HttpResult<void> serve(const Route& r, const Query& q, const Caller& caller, const httplib::Request& req,
                         httplib::Response& res) {
    switch (r.endpoint) {
      case Endpoint::kIndex:
        send_asset(res, "index.html");
        return {};
      case Endpoint::kMe:
      case Endpoint::kIpPage:
        send_asset(res, "ip.html");
        return {};
      case Endpoint::kAdminPage:
        send_asset(res, "admin.html");
        return {};
      case Endpoint::kAsset:
        send_asset(res, r.asset);
        return {};
      case Endpoint::kServer:
        send_json(res, server_json(caller, canonical_ip(req.local_addr)));
        return {};
      case Endpoint::kStats:
        send_json(res, stats_json());
        return {};
      case Endpoint::kMetrics:
        res.set_header("Cache-Control", "no-store");
        res.set_content(ctx.monitor.prometheus_text(), "text/plain; version=0.0.4; charset=utf-8");
        return {};
      case Endpoint::kHealthz:
        return healthz(res);
      case Endpoint::kIpSessions:
        return sessions(r.ip, q.limit, res);
      case Endpoint::kIpQuota:
        return quota(r.ip, res);
      case Endpoint::kIpExport:
        return export_ip(r.ip, q, res);
      case Endpoint::kSession:
      case Endpoint::kSessionIntervals:
      case Endpoint::kSessionChart:
      case Endpoint::kSessionExport:
        return session(r, q, caller, res);
      case Endpoint::kAdminLive:
        send_json(res, live_json());
        return {};
      case Endpoint::kAdminSessions:
        return sessions("", q.limit, res);
      case Endpoint::kAdminUsers:
        return users(q, res);
      case Endpoint::kAdminTopIps:
        return top_ips(q, res);
      case Endpoint::kAdminRejections: {
        auto rows = db.with([&](Store& s) { return s.recent_rejections(q.limit); });
        if (!rows) {
          return tl::unexpected(db_error(rows.error()));
        }
        json list = json::array();
        for (const auto& x : *rows) {
          list.push_back(
              {{"unix_ms", x.unix_ms}, {"server", x.server}, {"ip", x.ip}, {"user", x.user}, {"reason", x.reason}});
        }
        send_json(res, {{"rejections", std::move(list)}});
        return {};
      }
      case Endpoint::kAdminLogin:
      case Endpoint::kAdminLogout:
        break;  // handled before the query is parsed
    }
    return tl::unexpected(HttpError{404, "no such page"});
  }

  // ---- endpoints

  [[nodiscard]] json server_json(const Caller& caller, const std::string& local) const {
    const ServerConfig& s = ctx.cfg.server;
    return {{"name", ctx.cfg.server_name},
            {"version", std::string(core::kVersion)},
            {"your_ip", caller.ip},
            {"address", local},
            {"btest",
             {{"port", ctx.btest_port},
              {"listen", s.listen},
              {"auth", std::string(auth_method_name(s.auth_method))},
              {"udp_ports", {s.udp_port_first, s.udp_port_last}},
              {"max_duration_s", s.max_duration.count() / 1000},
              {"max_sessions", s.max_sessions},
              {"max_conn_per_ip", ctx.cfg.max_conn_per_ip}}},
            {"time_zone", ctx.cfg.time_zone},
            {"ip_limits", limits_json(ctx.cfg.ip_limits)}};
  }

  [[nodiscard]] json stats_json() const {
    const Monitor::Totals t = ctx.monitor.totals();
    return {{"uptime_s", t.uptime_s},           {"sessions_active", t.sessions_active},
            {"tests_started", t.tests_started}, {"bytes_in", t.bytes_in},
            {"bytes_out", t.bytes_out},         {"rejections", t.rejections}};
  }

  [[nodiscard]] json live_json() const {
    json list = json::array();
    for (const LiveTestView& t : ctx.monitor.live()) {
      list.push_back({{"id", t.id},
                      {"ip", t.ip},
                      {"user", t.user},
                      {"proto", t.proto},
                      {"direction", t.direction},
                      {"connections", t.connections},
                      {"started_unix_ms", t.started_unix_ms},
                      {"seconds", t.seconds},
                      {"bps_in", bits_per_second(t.last_in, 1000)},
                      {"bps_out", bits_per_second(t.last_out, 1000)},
                      {"bytes_in", t.bytes_in},
                      {"bytes_out", t.bytes_out},
                      {"lost", t.lost}});
    }
    return {{"sessions", std::move(list)}};
  }

  /// Recent sessions of `ip`, or of every address when it is empty (admin).
  HttpResult<void> sessions(const std::string& ip, uint32_t limit, httplib::Response& res) {
    auto rows = db.with([&](Store& s) { return s.recent_sessions(ip, limit); });
    if (!rows) {
      return tl::unexpected(db_error(rows.error()));
    }
    json list = json::array();
    for (const auto& s : *rows) {
      list.push_back(session_json(s));
    }
    json body = {{"sessions", std::move(list)}};
    if (!ip.empty()) {
      body["ip"] = ip;
    }
    send_json(res, body);
    return {};
  }

  HttpResult<void> healthz(httplib::Response& res) {
    auto ping = db.with([](Store& s) { return s.recent_rejections(1); });
    json body = {{"status", "ok"},
                 {"database", ping ? "ok" : ping.error().message()},
                 {"writer", ctx.monitor.writer_failing() ? "failing" : "ok"},
                 {"last_flush_unix_ms", ctx.monitor.last_flush_unix_ms()},
                 {"sessions_active", ctx.monitor.totals().sessions_active}};
    const bool ok = ping && !ctx.monitor.writer_failing();
    if (!ok) {
      body["status"] = "unhealthy";
    }
    send_json(res, body, ok ? 200 : 503);
    return {};
  }

  /// Committed usage plus what the writer holds (the same sum the admission uses).
  core::Result<UsageByWindow> usage_now(const Principal& who, const WindowStarts& at) {
    const UsageByWindow pending = ctx.pending(who, at);
    auto used = db.with([&](Store& s) { return s.usage(who, at); });
    if (!used) {
      return used;
    }
    *used += pending;
    return used;
  }

  static json windows_json(const WindowStarts& at, const Limits& limits, const UsageByWindow& used) {
    return {{"day", {{"start", at.day}, {"limit", limits_json(limits.day)}, {"used", usage_json(used.day)}}},
            {"week", {{"start", at.week}, {"limit", limits_json(limits.week)}, {"used", usage_json(used.week)}}},
            {"month", {{"start", at.month}, {"limit", limits_json(limits.month)}, {"used", usage_json(used.month)}}}};
  }

  HttpResult<void> quota(const std::string& ip, httplib::Response& res) {
    const auto now = ctx.now();
    const WindowStarts at = window_starts(now);
    auto used = usage_now(Principal{PrincipalKind::kIp, ip}, at);
    if (!used) {
      return tl::unexpected(db_error(used.error()));
    }
    send_json(res,
              {{"ip", ip},
               {"at_unix_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()},
               {"time_zone", ctx.cfg.time_zone},
               {"windows", windows_json(at, ctx.cfg.ip_limits, *used)}});
    return {};
  }

  HttpResult<void> export_ip(const std::string& ip, const Query& q, httplib::Response& res) {
    auto rows = db.with([&](Store& s) { return s.recent_sessions(ip, kExportSessions); });
    if (!rows) {
      return tl::unexpected(db_error(rows.error()));
    }
    std::string file = "btest-" + ip;
    for (char& c : file) {
      c = c == ':' ? '-' : c;  // IPv6 colons in a file name
    }
    if (q.format == "csv") {
      std::string body = core::csv_line(kSessionCsvHeader);
      for (const auto& s : *rows) {
        body += core::csv_line(session_csv(s));
      }
      send_download(res, std::move(body), "text/csv; charset=utf-8", file + ".csv");
      return {};
    }
    json list = json::array();
    for (const auto& s : *rows) {
      auto iv = db.with([&](Store& st) { return st.intervals(s.id); });
      if (!iv) {
        return tl::unexpected(db_error(iv.error()));
      }
      json j = session_json(s);
      j["intervals"] = json::array();
      for (const auto& i : *iv) {
        j["intervals"].push_back(interval_json(i));
      }
      list.push_back(std::move(j));
    }
    send_download(res, json{{"ip", ip}, {"sessions", std::move(list)}}.dump(1), "application/json", file + ".json");
    return {};
  }

  HttpResult<void> session(const Route& r, const Query& q, const Caller& caller, httplib::Response& res) {
    auto row = db.with([&](Store& s) { return s.session(r.id); });
    if (!row) {
      return tl::unexpected(db_error(row.error()));
    }
    if (!*row) {
      return tl::unexpected(HttpError{404, "no session " + std::to_string(r.id)});
    }
    const SessionRow& s = **row;
    if (!caller.admin && s.ip != caller.ip) {
      return tl::unexpected(
          HttpError{403, "session " + std::to_string(r.id) + " is another address's test; the admin token opens it"});
    }
    if (r.endpoint == Endpoint::kSession) {
      send_json(res, session_json(s));
      return {};
    }
    auto iv = db.with([&](Store& st) { return st.intervals(s.id); });
    if (!iv) {
      return tl::unexpected(db_error(iv.error()));
    }
    if (r.endpoint == Endpoint::kSessionChart) {
      res.set_header("Cache-Control", "no-store");
      res.set_content(svg_chart(s, *iv), "image/svg+xml");
      return {};
    }
    json list = json::array();
    for (const auto& i : *iv) {
      list.push_back(interval_json(i));
    }
    if (r.endpoint == Endpoint::kSessionIntervals) {
      send_json(res, {{"session_id", s.id}, {"proto", s.proto}, {"status", s.status}, {"intervals", std::move(list)}});
      return {};
    }
    const std::string file = "btest-session-" + std::to_string(s.id);
    if (q.format == "csv") {
      std::string body = core::csv_line(
          {"second", "duration_ms", "bytes_in", "bytes_out", "bps_in", "bps_out", "lost", "cpu_local", "cpu_remote"});
      for (const auto& i : *iv) {
        body += core::csv_line({std::to_string(i.second), std::to_string(i.duration_ms), std::to_string(i.bytes_in),
                                std::to_string(i.bytes_out), std::to_string(bits_per_second(i.bytes_in, i.duration_ms)),
                                std::to_string(bits_per_second(i.bytes_out, i.duration_ms)), std::to_string(i.lost),
                                std::to_string(i.cpu_local), std::to_string(i.cpu_remote)});
      }
      send_download(res, std::move(body), "text/csv; charset=utf-8", file + ".csv");
      return {};
    }
    json j = session_json(s);
    j["intervals"] = std::move(list);
    send_download(res, j.dump(1), "application/json", file + ".json");
    return {};
  }

  HttpResult<void> users(const Query& q, httplib::Response& res) {
    auto list = db.with([](Store& s) { return s.list_users(); });
    if (!list) {
      return tl::unexpected(db_error(list.error()));
    }
    const WindowStarts at = window_starts(ctx.now());
    json out = json::array();
    for (const User& u : *list) {
      if (out.size() >= q.limit) {
        break;
      }
      auto used = usage_now(Principal{PrincipalKind::kUser, u.name}, at);
      if (!used) {
        return tl::unexpected(db_error(used.error()));
      }
      out.push_back(
          {{"name", u.name},
           {"enabled", u.enabled},
           {"allow_md5", u.allow_md5},
           {"created_unix", u.created_unix},
           {"limits", limits_json(u.limits)},
           {"used",
            {{"day", usage_json(used->day)}, {"week", usage_json(used->week)}, {"month", usage_json(used->month)}}}});
    }
    send_json(res, {{"users", std::move(out)}, {"total_users", list->size()}});
    return {};
  }

  HttpResult<void> top_ips(const Query& q, httplib::Response& res) {
    const WindowStarts at = window_starts(ctx.now());
    const std::string& start = q.window == "day" ? at.day : q.window == "week" ? at.week : at.month;
    auto rows = db.with([&](Store& s) { return s.top_usage(PrincipalKind::kIp, q.window, start, q.limit); });
    if (!rows) {
      return tl::unexpected(db_error(rows.error()));
    }
    json list = json::array();
    for (const auto& [ip, u] : *rows) {
      list.push_back({{"ip", ip}, {"total", u.total()}, {"in", u.in}, {"out", u.out}});
    }
    send_json(res, {{"window", q.window}, {"start", start}, {"ips", std::move(list)}});
    return {};
  }
};

WebServer::WebServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WebServer::~WebServer() {
  // httplib's stop() does nothing until the accept loop has started, so it is
  // repeated until the loop is over (at once in practice).
  while (!impl_->listening_done.load()) {
    impl_->http.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  }
}

uint16_t WebServer::port() const { return impl_->port; }

std::string WebServer::address() const {
  return (impl_->host.find(':') != std::string::npos ? "[" + impl_->host + "]" : impl_->host) + ":" +
         std::to_string(impl_->port);
}

core::Result<std::unique_ptr<WebServer>> WebServer::start(WebContext ctx) {
  auto listen = parse_listen(ctx.cfg.web_listen);
  if (!listen) {
    return core::fail(listen.error());
  }
  if (!ctx.admin_token.empty()) {
    if (auto t = check_token(ctx.admin_token); !t) {
      return core::fail("--admin-token: " + t.error());
    }
  }
  auto pool = detail::StorePool::open(ctx.cfg.db_url, kDbConnections);
  if (!pool) {
    return tl::unexpected(pool.error());
  }
  auto impl = std::make_unique<Impl>(std::move(ctx), std::move(*pool));
  Impl* self = impl.get();
  httplib::Server& http = impl->http;
  http.new_task_queue = [] { return new BoundedPool(kHttpThreads, kMaxQueued); };
  // A slow or idle client holds a thread for at most these.
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  http.set_keep_alive_timeout(2);
  http.set_keep_alive_max_count(50);
  http.set_payload_max_length(4096);  // the only body we take is the login form
  // Every request goes through our router: a pre-routing handler sees them all
  // (httplib's own patterns are std::regex, where "." stops at a CR or LF that
  // %0A in a path decodes to). Only the two login POSTs continue to httplib's
  // router, which reads their form body first.
  http.set_pre_routing_handler([self](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "POST" && (req.path == "/api/v1/admin/login" || req.path == "/api/v1/admin/logout")) {
      return httplib::Server::HandlerResponse::Unhandled;
    }
    self->handle(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  for (const char* p : {"/api/v1/admin/login", "/api/v1/admin/logout"}) {
    http.Post(p, [self](const httplib::Request& req, httplib::Response& res) { self->handle(req, res); });
  }
  // Headers and body leave in two writes: without TCP_NODELAY a keep-alive
  // client waits for the delayed ACK (~40 ms) on every request.
  http.set_tcp_nodelay(true);
  http.set_logger(
      [self](const httplib::Request&, const httplib::Response& res) { self->ctx.monitor.http_answer(res.status); });
  http.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    res.status = 500;
    res.set_content(R"({"error":"internal error"})", "application/json");
  });
  impl->host = listen->first;
  if (listen->second == 0) {
    const int p = http.bind_to_any_port(impl->host);
    if (p <= 0) {
      return core::fail("--web: cannot listen on " + impl->host + " (any port)");
    }
    impl->port = static_cast<uint16_t>(p);
  } else {
    if (!http.bind_to_port(impl->host, listen->second)) {
      return core::fail("--web: cannot listen on " + self->ctx.cfg.web_listen +
                        " (in use, or not an address of this host)");
    }
    impl->port = listen->second;
  }
  impl->thread = std::thread([self] {
    lower_priority();
    self->http.listen_after_bind();
    self->listening_done.store(true);
  });
  return std::unique_ptr<WebServer>(new WebServer(std::move(impl)));
}

}  // namespace linerate::btest::pro::web
