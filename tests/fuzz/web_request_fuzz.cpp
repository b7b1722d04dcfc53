// tests/fuzz/web_request_fuzz.cpp — the dashboard's request parsing (btest-pro
// web/request.hpp) on arbitrary requests.
// Input: newline-separated fields: method, path, Authorization header, Cookie
// header, then query parameters as KEY=VALUE (at most 16). Properties: nothing
// throws or crashes; a refusal has status 400, 404 or 405 and a non-empty
// one-line message of bounded length; an accepted route carries a canonical IP
// (parsing it again gives itself), an id in 1..2^53 or a safe asset name; an
// accepted query has limit 1..1000 and fixed keywords; a presented token is a
// piece of the headers; the token and --web checks accept only what their
// rules allow.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btest/pro/web/request.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace linerate::btest::pro::web;

void check_error(const HttpError& e) {
  LR_FUZZ_CHECK(e.status == 400 || e.status == 404 || e.status == 405);
  LR_FUZZ_CHECK(!e.message.empty());
  LR_FUZZ_CHECK(e.message.find('\n') == std::string::npos && e.message.find('\r') == std::string::npos);
  LR_FUZZ_CHECK(e.message.size() <= 400);
}

std::vector<std::string> split_lines(const uint8_t* data, size_t size) {
  std::vector<std::string> out(1);
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\n') {
      out.emplace_back();
    } else {
      out.back() += static_cast<char>(data[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384) {
    return 0;
  }
  std::vector<std::string> f = split_lines(data, size);
  f.resize(std::max<size_t>(f.size(), 4));
  const std::string& method = f[0];
  const std::string& path = f[1];

  if (auto r = route(method, path)) {
    if (!r->ip.empty()) {
      auto again = parse_ip_param(r->ip);
      LR_FUZZ_CHECK(again && *again == r->ip);
    }
    if (r->id != 0) {
      LR_FUZZ_CHECK(r->id >= 1 && r->id <= (int64_t{1} << 53));
    }
    if (r->endpoint == Endpoint::kAsset) {
      LR_FUZZ_CHECK(!r->asset.empty() && r->asset.front() != '.');
      LR_FUZZ_CHECK(r->asset.find('/') == std::string::npos && r->asset.find('\\') == std::string::npos);
    }
    std::vector<std::pair<std::string, std::string>> params;
    for (size_t i = 4; i < f.size() && params.size() < 16; ++i) {
      const auto eq = f[i].find('=');
      params.emplace_back(f[i].substr(0, eq), eq == std::string::npos ? "" : f[i].substr(eq + 1));
    }
    if (auto q = parse_query(r->endpoint, params)) {
      LR_FUZZ_CHECK(q->limit >= 1 && q->limit <= 1000);
      LR_FUZZ_CHECK(q->format == "json" || q->format == "csv");
      LR_FUZZ_CHECK(q->window == "day" || q->window == "week" || q->window == "month");
    } else {
      check_error(q.error());
      LR_FUZZ_CHECK(q.error().status == 400);
    }
  } else {
    check_error(r.error());
  }

  const std::string token = presented_token(f[2], f[3]);
  LR_FUZZ_CHECK(token.empty() || f[2].find(token) != std::string::npos || f[3].find(token) != std::string::npos);
  LR_FUZZ_CHECK(token_matches(path, path) == !path.empty());
  LR_FUZZ_CHECK(!token_matches(path, path + "x"));
  LR_FUZZ_CHECK(!token_matches("", token));

  if (auto t = check_token(path); t) {
    LR_FUZZ_CHECK(path.size() >= 16 && path.size() <= 256);
    for (char c : path) {
      LR_FUZZ_CHECK(c > ' ' && c < 0x7f && c != ';' && c != ',' && c != '"' && c != '\\');
    }
  } else {
    LR_FUZZ_CHECK(!t.error().empty() && t.error().find('\n') == std::string::npos);
  }
  if (auto l = parse_listen(path); l) {
    LR_FUZZ_CHECK(!l->first.empty());
    LR_FUZZ_CHECK(parse_ip_param(l->first).has_value());
  } else {
    LR_FUZZ_CHECK(!l.error().empty() && l.error().find('\n') == std::string::npos);
  }
  return 0;
}
