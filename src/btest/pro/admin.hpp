// btest/pro/admin.hpp — the operator commands of btest-pro: `user add|del|list|
// set|passwd` and `usage`, run against a Store.
//
// The CLI (apps/btest-pro) only parses argv into an AdminCommand; everything the
// command does lives here so both backends and every rule are testable without
// the binary. Password rules: every user gets an EC-SRP5 verifier with a fresh
// random salt; the plaintext is stored only while the user is allowed MD5 (the
// MD5 challenge needs it) and is dropped by `--no-md5`. No output, error or log
// line ever contains a password.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "btest/pro/limits.hpp"
#include "btest/pro/store.hpp"
#include "core/result.hpp"

namespace linerate::btest::pro {

inline constexpr const char* kDefaultDbUrl = "btest-pro.db";

/// --password TEXT or --password-file PATH ("-" = standard input).
struct PasswordSource {
  enum class Kind : uint8_t { kText, kFile } kind = Kind::kText;
  std::string value;  // the password (kText) or the path (kFile)
};

/// The password: the text, or the file's first line without its line ending.
/// Errors name the file, never its contents.
core::Result<std::string> read_password(const PasswordSource& src);

enum class AdminAction : uint8_t { kUserAdd, kUserDel, kUserList, kUserSet, kUserPasswd, kUsage };

struct AdminCommand {
  AdminAction action = AdminAction::kUserList;
  std::string db_url = kDefaultDbUrl;
  std::string name;                        // user add/del/set/passwd
  std::optional<PasswordSource> password;  // add, passwd: required; set: exactly with allow_md5 = true
  std::optional<bool> enabled;             // add: default true; set: change when given
  std::optional<bool> allow_md5;           // add: default false; set: change when given
  LimitEdits limits;                       // add/set: the user's limits; usage --ip: the server's per-IP limits
  bool json = false;                       // list, usage
  Principal who;                           // usage
  std::string at_date;                     // usage: "YYYY-MM-DD"; empty = now in time_zone
  std::string time_zone = "UTC";           // usage
};

/// Open cmd.db_url and run the command; the result is what to print on stdout.
/// Errors (database, unknown user, unreadable password file) are one line.
/// `usage` without --at sets the process time zone (set_time_zone).
core::Result<std::string> run_admin(const AdminCommand& cmd, std::chrono::system_clock::time_point now);

/// The same on an open store.
core::Result<std::string> run_admin(Store& store, const AdminCommand& cmd, std::chrono::system_clock::time_point now);

/// "ecsrp5" or "ecsrp5,md5".
[[nodiscard]] std::string auth_methods(const User& u);

}  // namespace linerate::btest::pro
