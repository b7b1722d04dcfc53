// btest/pro/web/request.cpp — route matching and parameter validation for the
// dashboard (see request.hpp). Every refusal names the offending parameter and
// quotes at most 64 characters of it (core::quoted), so a hostile request
// cannot make the error long or multi-line.
#include "btest/pro/web/request.hpp"

#include <array>
#include <charconv>
#include <map>

#include "core/address.hpp"
#include "core/text.hpp"

namespace linerate::btest::pro::web {
namespace {

HttpError bad(std::string message) { return HttpError{400, std::move(message)}; }

constexpr int64_t kMaxId = int64_t{1} << 53;  // what a JavaScript number holds exactly
constexpr uint32_t kMaxLimit = 1000;
constexpr std::size_t kMaxIpChars = 64;

bool is_get(std::string_view method) { return method == "GET" || method == "HEAD"; }

/// "/a/b/c" -> {"a", "b", "c"}; a trailing slash gives an empty last part.
std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  if (path.empty() || path.front() != '/') {
    return parts;
  }
  path.remove_prefix(1);
  for (;;) {
    auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) {
      return parts;
    }
    path.remove_prefix(slash + 1);
  }
}

struct Fixed {
  std::string_view path;
  Endpoint endpoint;
  bool post = false;
};

constexpr std::array<Fixed, 15> kFixed = {{
    {"/", Endpoint::kIndex},
    {"/index.html", Endpoint::kIndex},
    {"/me", Endpoint::kMe},
    {"/admin", Endpoint::kAdminPage},
    {"/metrics", Endpoint::kMetrics},
    {"/healthz", Endpoint::kHealthz},
    {"/api/v1/server", Endpoint::kServer},
    {"/api/v1/stats", Endpoint::kStats},
    {"/api/v1/admin/live", Endpoint::kAdminLive},
    {"/api/v1/admin/sessions", Endpoint::kAdminSessions},
    {"/api/v1/admin/users", Endpoint::kAdminUsers},
    {"/api/v1/admin/top-ips", Endpoint::kAdminTopIps},
    {"/api/v1/admin/rejections", Endpoint::kAdminRejections},
    {"/api/v1/admin/login", Endpoint::kAdminLogin, true},
    {"/api/v1/admin/logout", Endpoint::kAdminLogout, true},
}};

HttpResult<Route> with_method(Route r, std::string_view method, bool post) {
  if (post ? method != "POST" : !is_get(method)) {
    return tl::unexpected(HttpError{
        405, "method " + core::quoted(method, 16) + " not allowed here (use " + (post ? "POST" : "GET") + ")"});
  }
  return r;
}

bool asset_name_ok(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') {
    return false;
  }
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool Route::is_api() const {
  switch (endpoint) {
    case Endpoint::kIndex:
    case Endpoint::kMe:
    case Endpoint::kIpPage:
    case Endpoint::kAdminPage:
    case Endpoint::kAsset:
      return false;
    default:
      return true;
  }
}

HttpResult<std::string> parse_ip_param(std::string_view text) {
  if (text.empty()) {
    return tl::unexpected(bad("missing IP address in the path"));
  }
  if (text.size() <= kMaxIpChars && text.front() != '[') {
    if (auto a = core::parse_ip(text, 0)) {
      return a->ip();
    }
  }
  return tl::unexpected(bad("bad IP address " + core::quoted(text) + ": expected an IPv4 or IPv6 literal"));
}

HttpResult<int64_t> parse_id_param(std::string_view text) {
  const bool digits =
      !text.empty() && text.size() <= 16 && text.find_first_not_of("0123456789") == std::string_view::npos;
  int64_t v = 0;
  if (digits && text.front() != '0') {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc() && end == text.data() + text.size() && v >= 1 && v <= kMaxId) {
      return v;
    }
  }
  return tl::unexpected(bad("bad session id " + core::quoted(text) + ": expected a number from 1 to 2^53"));
}

HttpResult<Route> route(std::string_view method, std::string_view path) {
  for (const Fixed& f : kFixed) {
    if (path == f.path) {
      return with_method(Route{f.endpoint, {}, 0, {}}, method, f.post);
    }
  }
  const auto parts = split_path(path);
  auto not_found = [&] { return tl::unexpected(HttpError{404, "no such page: " + core::quoted(path)}); };
  if (parts.size() == 2 && parts[0] == "static") {
    if (!asset_name_ok(parts[1])) {
      return not_found();
    }
    return with_method(Route{Endpoint::kAsset, {}, 0, std::string(parts[1])}, method, false);
  }
  if (parts.size() == 2 && parts[0] == "ip") {
    auto ip = parse_ip_param(parts[1]);
    if (!ip) {
      return tl::unexpected(ip.error());
    }
    return with_method(Route{Endpoint::kIpPage, *ip, 0, {}}, method, false);
  }
  if (parts.size() == 5 && parts[0] == "api" && parts[1] == "v1" && parts[2] == "ip") {
    static const std::map<std::string_view, Endpoint> kIpEndpoints = {
        {"sessions", Endpoint::kIpSessions}, {"quota", Endpoint::kIpQuota}, {"export", Endpoint::kIpExport}};
    auto it = kIpEndpoints.find(parts[4]);
    if (it == kIpEndpoints.end()) {
      return not_found();
    }
    auto ip = parse_ip_param(parts[3]);
    if (!ip) {
      return tl::unexpected(ip.error());
    }
    return with_method(Route{it->second, *ip, 0, {}}, method, false);
  }
  if ((parts.size() == 4 || parts.size() == 5) && parts[0] == "api" && parts[1] == "v1" && parts[2] == "sessions") {
    Endpoint ep = Endpoint::kSession;
    if (parts.size() == 5) {
      static const std::map<std::string_view, Endpoint> kSessionEndpoints = {{"intervals", Endpoint::kSessionIntervals},
                                                                             {"chart.svg", Endpoint::kSessionChart},
                                                                             {"export", Endpoint::kSessionExport}};
      auto it = kSessionEndpoints.find(parts[4]);
      if (it == kSessionEndpoints.end()) {
        return not_found();
      }
      ep = it->second;
    }
    auto id = parse_id_param(parts[3]);
    if (!id) {
      return tl::unexpected(id.error());
    }
    return with_method(Route{ep, {}, *id, {}}, method, false);
  }
  return not_found();
}

HttpResult<Query> parse_query(Endpoint ep, const std::vector<std::pair<std::string, std::string>>& params) {
  Query q;
  bool takes_limit = false;
  bool takes_format = false;
  bool takes_window = false;
  switch (ep) {
    case Endpoint::kIpSessions:
    case Endpoint::kAdminSessions:
    case Endpoint::kAdminRejections:
      takes_limit = true;
      break;
    case Endpoint::kAdminUsers:
      takes_limit = true;
      q.limit = 200;
      break;
    case Endpoint::kAdminTopIps:
      takes_limit = true;
      takes_window = true;
      break;
    case Endpoint::kIpExport:
    case Endpoint::kSessionExport:
      takes_format = true;
      break;
    default:
      break;
  }
  std::vector<std::string_view> seen;
  for (const auto& [key, value] : params) {
    const bool known =
        (key == "limit" && takes_limit) || (key == "format" && takes_format) || (key == "window" && takes_window);
    if (!known) {
      return tl::unexpected(bad("unknown query parameter " + core::quoted(key, 32)));
    }
    for (std::string_view s : seen) {
      if (s == key) {
        return tl::unexpected(bad("query parameter " + core::quoted(key, 32) + " given twice"));
      }
    }
    seen.push_back(key);
    if (key == "limit") {
      uint32_t v = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
      if (value.empty() || value.size() > 4 || ec != std::errc() || end != value.data() + value.size() || v < 1 ||
          v > kMaxLimit) {
        return tl::unexpected(bad("bad limit " + core::quoted(value, 32) + ": expected 1 to 1000"));
      }
      q.limit = v;
    } else if (key == "format") {
      if (value != "json" && value != "csv") {
        return tl::unexpected(bad("bad format " + core::quoted(value, 32) + ": expected json or csv"));
      }
      q.format = value;
    } else {
      if (value != "day" && value != "week" && value != "month") {
        return tl::unexpected(bad("bad window " + core::quoted(value, 32) + ": expected day, week or month"));
      }
      q.window = value;
    }
  }
  return q;
}

std::string presented_token(std::string_view authorization, std::string_view cookie_header) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size() && authorization.substr(0, kBearer.size()) == kBearer) {
    return std::string(authorization.substr(kBearer.size()));
  }
  // Cookie: name=value; name2=value2 (RFC 6265 §4.2.1)
  while (!cookie_header.empty()) {
    auto semi = cookie_header.find(';');
    std::string_view pair = cookie_header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') {
      pair.remove_prefix(1);
    }
    constexpr std::string_view kName = "btest_admin=";
    if (pair.substr(0, kName.size()) == kName) {
      return std::string(pair.substr(kName.size()));
    }
    if (semi == std::string_view::npos) {
      break;
    }
    cookie_header.remove_prefix(semi + 1);
  }
  return {};
}

bool token_matches(std::string_view configured, std::string_view presented) {
  if (configured.empty()) {
    return false;
  }
  // The time depends on the configured length only, not on where they differ.
  unsigned char diff = configured.size() == presented.size() ? 0 : 1;
  for (std::size_t i = 0; i < configured.size(); ++i) {
    const char p = i < presented.size() ? presented[i] : '\0';
    diff |= static_cast<unsigned char>(configured[i] ^ p);
  }
  return diff == 0;
}

tl::expected<void, std::string> check_token(std::string_view token) {
  if (token.size() < 16 || token.size() > 256) {
    return tl::unexpected(std::string("the admin token must be 16 to 256 characters long (it has ") +
                          std::to_string(token.size()) + ")");
  }
  for (char c : token) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ';' || c == ',' || c == '"' || c == '\\') {
      return tl::unexpected(std::string(
          "the admin token may hold printable ASCII only, without spaces, quotes, ';', ',' or backslashes"));
    }
  }
  return {};
}

tl::expected<std::pair<std::string, uint16_t>, std::string> parse_listen(std::string_view text) {
  const auto colon = text.rfind(':');
  auto bad_listen = [&](const std::string& why) { return tl::unexpected("--web " + core::quoted(text) + ": " + why); };
  if (colon == std::string_view::npos) {
    return bad_listen("expected ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    return bad_listen("the port must be a number from 0 to 65535");
  }
  if (host.empty()) {
    return std::pair{std::string("0.0.0.0"), static_cast<uint16_t>(port)};
  }
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (host.find(':') != std::string_view::npos && !bracketed) {
    return bad_listen("write an IPv6 address in brackets, e.g. [::1]:8080");
  }
  auto addr = core::parse_ip(host, 0);
  if (!addr || (bracketed && addr->family() != AF_INET6)) {
    return bad_listen("the address must be an IPv4 or [IPv6] literal");
  }
  return std::pair{addr->ip(), static_cast<uint16_t>(port)};
}

}  // namespace linerate::btest::pro::web
