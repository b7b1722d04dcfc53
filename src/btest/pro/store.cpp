// btest/pro/store.cpp — Store::open (backend choice by URL) and the checks both
// backends apply before touching the database.
#include "btest/pro/store.hpp"

#include "btest/ecsrp5.hpp"
#include "btest/pro/detail/common.hpp"
#include "btest/pro/limits.hpp"
#include "core/text.hpp"

namespace linerate::btest::pro {

namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

}  // namespace

core::Result<std::unique_ptr<Store>> Store::open(const std::string& url) {
  if (starts_with(url, "postgresql://") || starts_with(url, "postgres://")) {
    return detail::open_pg_store(url);
  }
  std::string path = starts_with(url, "sqlite:") ? url.substr(7) : url;
  if (path.empty()) {
    return core::fail("database: empty path (use --db FILE, sqlite:FILE or postgresql://...)");
  }
  return detail::open_sqlite_store(path);
}

namespace detail {

core::Result<void> check_user(const User& u) {
  if (u.name.empty()) {
    return core::fail("user name is empty");
  }
  if (u.name.size() > ecsrp5::kMaxUserLen) {
    return core::fail("user name is longer than " + std::to_string(ecsrp5::kMaxUserLen) + " bytes");
  }
  for (char c : u.name) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      return core::fail("user name '" + core::one_line(u.name) + "' contains a control character");
    }
  }
  if (u.allow_md5) {
    if (u.name.size() > 32) {
      return core::fail("user '" + u.name + "': MD5 logins carry at most 32 bytes of user name");
    }
    if (!u.md5_password) {
      return core::fail("user '" + u.name + "': MD5 allowed but no password stored for it");
    }
  } else if (u.md5_password) {
    return core::fail("user '" + u.name + "': a plaintext password is kept only for users allowed MD5");
  }
  if (auto v = ecsrp5::verifier_from_text(u.verifier); !v) {
    return core::fail("user '" + u.name + "': bad verifier: " + v.error().message());
  }
  const Limits& l = u.limits;
  for (uint64_t x : {l.day.total, l.day.in, l.day.out, l.week.total, l.week.in, l.week.out, l.month.total, l.month.in,
                     l.month.out}) {
    if (x > kMaxSize) {
      return core::fail("user '" + u.name + "': limit above 9223372036854775807 bytes");
    }
  }
  return {};
}

core::Result<int64_t> to_db_int(uint64_t v, std::string_view what) {
  if (v > kMaxSize) {
    return core::fail(std::string(what) + ": " + std::to_string(v) + " does not fit a signed 64-bit column");
  }
  return static_cast<int64_t>(v);
}

std::string_view principal_kind_text(PrincipalKind k) { return k == PrincipalKind::kUser ? "user" : "ip"; }

}  // namespace detail

}  // namespace linerate::btest::pro
