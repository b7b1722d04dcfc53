// tests/fuzz/pro_cli_fuzz.cpp — the btest-pro command line parser on arbitrary argv.
// Input: NUL-separated arguments (at most 32). Properties: parse_cli never throws
// or crashes; a usage error is one non-empty line with exit code 2; an accepted
// command is complete (a user command names a user; usage names a principal; a
// password source exactly where one is required; serve has listeners and a sane
// UDP range; limits fit the database).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "pro_cli.hpp"

namespace {

using namespace linerate::btest::pro;

void check_limits(const Limits& l) {
  for (const DirLimits* d : {&l.day, &l.week, &l.month}) {
    LR_FUZZ_CHECK(d->total <= kMaxSize && d->in <= kMaxSize && d->out <= kMaxSize);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using linerate::btest::pro::cli::Parsed;
  const std::vector<std::string> args = linerate::fuzz::nul_separated_args(data, size);
  Parsed p = linerate::btest::pro::cli::parse_cli(args);
  switch (p.action) {
    case Parsed::Action::kUsageError:
      LR_FUZZ_CHECK(!p.text.empty());
      LR_FUZZ_CHECK(p.text.find('\n') == std::string::npos);
      LR_FUZZ_CHECK(p.exit_code == linerate::btest::pro::cli::kExitUsage);
      break;
    case Parsed::Action::kAdmin: {
      LR_FUZZ_CHECK(p.admin.has_value());
      const AdminCommand& c = *p.admin;
      LR_FUZZ_CHECK(!c.db_url.empty());
      for (const auto& v : c.limits.values) {
        LR_FUZZ_CHECK(!v || *v <= kMaxSize);
      }
      switch (c.action) {
        case AdminAction::kUserAdd:
        case AdminAction::kUserPasswd:
          LR_FUZZ_CHECK(!c.name.empty() && c.password.has_value());
          break;
        case AdminAction::kUserSet:
          LR_FUZZ_CHECK(!c.name.empty());
          LR_FUZZ_CHECK(c.password.has_value() == (c.allow_md5 == true));
          break;
        case AdminAction::kUserDel:
          LR_FUZZ_CHECK(!c.name.empty() && !c.password.has_value());
          break;
        case AdminAction::kUserList:
          break;
        case AdminAction::kUsage:
          LR_FUZZ_CHECK(!c.who.key.empty());
          LR_FUZZ_CHECK(c.who.kind == PrincipalKind::kIp || !c.limits.any());
          LR_FUZZ_CHECK(!c.time_zone.empty());
          break;
      }
      break;
    }
    case Parsed::Action::kServe: {
      LR_FUZZ_CHECK(p.serve.has_value());
      const ServeConfig& s = *p.serve;
      LR_FUZZ_CHECK(!s.server.listen.empty());
      LR_FUZZ_CHECK(s.server.port >= 1);
      LR_FUZZ_CHECK(s.server.udp_port_first >= 1 && s.server.udp_port_first <= s.server.udp_port_last);
      LR_FUZZ_CHECK(s.server.udp_port_last <= 65535 - 256);
      LR_FUZZ_CHECK(s.server.auth_method != linerate::btest::AuthMethod::kNone);
      LR_FUZZ_CHECK(!s.db_url.empty() && !s.time_zone.empty());
      check_limits(s.ip_limits);
      break;
    }
    case Parsed::Action::kPrint:
      LR_FUZZ_CHECK(!p.text.empty());
      break;
  }
  return 0;
}
