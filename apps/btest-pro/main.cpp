// apps/btest-pro/main.cpp — btest-pro entry point: parse (pro_cli.cpp), run an
// operator command or the server, map the result to an exit code.
// Exit codes: 0 ok, 1 runtime failure, 2 usage error.
#include <unistd.h>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "btest/pro/admin.hpp"
#include "btest/pro/pro_server.hpp"
#include "btest/pro/windows.hpp"
#include "core/interrupt.hpp"
#include "pro_cli.hpp"

namespace {

using namespace linerate;
using namespace linerate::btest::pro;
using namespace linerate::btest::pro::cli;

std::string default_server_name(uint16_t port) {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::snprintf(host, sizeof(host), "localhost");
  }
  return std::string(host) + ":" + std::to_string(port);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Parsed parsed = parse_cli(args);
  switch (parsed.action) {
    case Parsed::Action::kPrint:
      std::fputs(parsed.text.c_str(), stdout);
      return parsed.exit_code;
    case Parsed::Action::kUsageError:
      std::fprintf(stderr, "btest-pro: %s\nTry 'btest-pro --help' for more information.\n", parsed.text.c_str());
      return parsed.exit_code;
    case Parsed::Action::kAdmin:
    case Parsed::Action::kServe:
      break;
  }
  if (parsed.action == Parsed::Action::kAdmin) {
    const AdminCommand& cmd = *parsed.admin;
    if (cmd.action == AdminAction::kUsage && cmd.at_date.empty()) {
      // An unknown zone is a usage error, found before the database is opened.
      if (auto tz = set_time_zone(cmd.time_zone); !tz) {
        std::fprintf(stderr, "btest-pro: --tz: %s\n", tz.error().message().c_str());
        return kExitUsage;
      }
    }
    auto out = run_admin(cmd, std::chrono::system_clock::now());
    if (!out) {
      std::fprintf(stderr, "btest-pro: %s\n", out.error().message().c_str());
      return kExitFailure;
    }
    std::fputs(out->c_str(), stdout);
    return kExitOk;
  }
  ServeConfig cfg = std::move(*parsed.serve);
  // The zone is process-wide: set it once, before the server starts threads.
  if (auto tz = set_time_zone(cfg.time_zone); !tz) {
    std::fprintf(stderr, "btest-pro: --tz: %s\n", tz.error().message().c_str());
    return kExitUsage;
  }
  if (cfg.server_name.empty()) {
    cfg.server_name = default_server_name(cfg.server.port);
  }
  core::Interrupt stop;
  core::install_signal_stop(stop);
  if (auto r = run_server(cfg, stop); !r) {
    std::fprintf(stderr, "btest-pro: %s\n", r.error().message().c_str());
    return kExitFailure;
  }
  return kExitOk;
}
