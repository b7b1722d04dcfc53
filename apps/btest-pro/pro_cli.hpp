// apps/btest-pro/pro_cli.hpp — the btest-pro command line, as a pure function.
//
// parse_cli turns argv into either an operator command (pro::AdminCommand: user
// add|del|list|set|passwd, usage) or a server configuration (pro::ServeConfig),
// or a one-line usage error, without printing, touching the database or the
// file system — so main stays thin and the parser is fuzzed
// (tests/fuzz/pro_cli_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "btest/pro/admin.hpp"
#include "btest/pro/pro_server.hpp"

namespace linerate::btest::pro::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Parsed {
  enum class Action { kAdmin, kServe, kPrint, kUsageError } action = Action::kUsageError;
  std::optional<AdminCommand> admin;
  std::optional<ServeConfig> serve;
  /// serve without --listen/--listen6: listening on 0.0.0.0 and :: (IPv4 only if
  /// the host has no IPv6, as `btest -s`).
  bool default_listen = false;
  std::string text;   // kPrint: help/version text for stdout; kUsageError: the one-line error
  int exit_code = 0;  // for kPrint and kUsageError
};

[[nodiscard]] Parsed parse_cli(const std::vector<std::string>& args);

}  // namespace linerate::btest::pro::cli
