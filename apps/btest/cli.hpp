// apps/btest/cli.hpp — the btest command line, as a pure function.
//
// parse_cli turns argv into a validated configuration (or a one-line usage
// error) without printing or running anything, so main stays thin and the
// parser can be fuzzed (tests/fuzz/cli_fuzz.cpp).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "btest/client.hpp"
#include "btest/server.hpp"

namespace linerate::btest::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitAuth = 3;

struct ClientOptions {
  ClientConfig config;
  std::string csv_path;
  bool quiet = false;
  bool json = false;
};

struct ServerOptions {
  ServerConfig config;
  bool default_listen = false;  // no --listen/--listen6 given: 0.0.0.0 and ::
};

struct Parsed {
  enum class Action { kRunServer, kRunClient, kPrint, kUsageError } action = Action::kUsageError;
  std::optional<ServerOptions> server;
  std::optional<ClientOptions> client;
  std::string text;   // kPrint: help/version text for stdout; kUsageError: the one-line error
  int exit_code = 0;  // for kPrint and kUsageError
};

[[nodiscard]] Parsed parse_cli(const std::vector<std::string>& args);

}  // namespace linerate::btest::cli
