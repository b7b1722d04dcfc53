// btest/pro/web/request.hpp — the dashboard's request parsing, as pure functions:
// method + path -> Route, query parameters -> Query, the admin token from the
// headers. No HTTP library here, so the parsing is fuzzed on its own
// (tests/fuzz/web_request_fuzz.cpp) and every value that reaches the database is
// already an address in canonical form, a number in range or a fixed keyword —
// never text from the request (docs/api.md, "Errors and input rules").
//
// cpp-httplib has already split the request line, decoded %XX in the path and
// the query, and bounded the URI and header sizes (8 KiB each) when these run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace linerate::btest::pro::web {

enum class Endpoint {
  // pages and assets
  kIndex,
  kMe,
  kIpPage,
  kAdminPage,
  kAsset,
  // public API
  kServer,
  kStats,
  kMetrics,
  kHealthz,
  // own IP or admin
  kIpSessions,
  kIpQuota,
  kIpExport,
  kSession,
  kSessionIntervals,
  kSessionChart,
  kSessionExport,
  // admin
  kAdminLive,
  kAdminSessions,
  kAdminUsers,
  kAdminTopIps,
  kAdminRejections,
  kAdminLogin,
  kAdminLogout,
};

/// A refusal with its HTTP status and a one-line message (docs/api.md).
struct HttpError {
  int status = 400;
  std::string message;
};

template <typename T>
using HttpResult = tl::expected<T, HttpError>;

struct Route {
  Endpoint endpoint = Endpoint::kIndex;
  std::string ip;     // kIpPage, kIp*: canonical (SockAddr::ip() form)
  int64_t id = 0;     // kSession*: 1 .. 2^53
  std::string asset;  // kAsset: the file name under /static/
  [[nodiscard]] bool is_api() const;
};

/// Match a request. 404 for no such path, 405 for a known path with another
/// method (HEAD counts as GET), 400 for a bad parameter in the path.
[[nodiscard]] HttpResult<Route> route(std::string_view method, std::string_view path);

/// The query parameters an endpoint takes, validated and defaulted.
struct Query {
  uint32_t limit = 20;          // sessions/rejections/top-ips; users default 200
  std::string format = "json";  // "json" | "csv"
  std::string window = "day";   // "day" | "week" | "month"
};

/// Unknown or repeated parameters, a limit outside 1..1000, an unknown format or
/// window: 400 naming the parameter. `params` as decoded by the HTTP library.
[[nodiscard]] HttpResult<Query> parse_query(Endpoint ep,
                                            const std::vector<std::pair<std::string, std::string>>& params);

/// A path IP: an IPv4 or IPv6 literal (at most 64 characters) in canonical
/// form; IPv4-mapped IPv6 becomes IPv4.
[[nodiscard]] HttpResult<std::string> parse_ip_param(std::string_view text);

/// A session id: decimal, no sign or leading zero, 1 .. 2^53.
[[nodiscard]] HttpResult<int64_t> parse_id_param(std::string_view text);

/// The admin token a request presents: "Authorization: Bearer T" first, else the
/// cookie btest_admin=T (from the Cookie header). Empty when none.
[[nodiscard]] std::string presented_token(std::string_view authorization, std::string_view cookie_header);

/// Constant-time comparison; false when `configured` is empty (admin access off).
[[nodiscard]] bool token_matches(std::string_view configured, std::string_view presented);

/// An admin token as configured: 16..256 printable ASCII characters without
/// space, ';', ',', '"' or '\\' (it travels in a cookie). The error names the rule.
[[nodiscard]] tl::expected<void, std::string> check_token(std::string_view token);

/// `--web ADDR:PORT`: "127.0.0.1:8080", "[::1]:8080", ":8080" (all IPv4
/// addresses). Port 0 = any free port (tests). Returns host and port.
[[nodiscard]] tl::expected<std::pair<std::string, uint16_t>, std::string> parse_listen(std::string_view text);

}  // namespace linerate::btest::pro::web
