// tests/fuzz/cli_fuzz.cpp — the btest command line parser on arbitrary argv.
// Input: NUL-separated arguments (at most 32). Properties: parse_cli never throws
// or crashes; a usage error is one non-empty line with exit code 2; an accepted
// configuration is within the ranges the protocol can carry.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using linerate::btest::cli::Parsed;
  const std::vector<std::string> args = linerate::fuzz::nul_separated_args(data, size);
  Parsed p = linerate::btest::cli::parse_cli(args);
  switch (p.action) {
    case Parsed::Action::kUsageError:
      LR_FUZZ_CHECK(!p.text.empty());
      LR_FUZZ_CHECK(p.text.find('\n') == std::string::npos);
      LR_FUZZ_CHECK(p.exit_code == linerate::btest::cli::kExitUsage);
      break;
    case Parsed::Action::kRunClient: {
      LR_FUZZ_CHECK(p.client.has_value());
      const auto& c = p.client->config;
      LR_FUZZ_CHECK(!c.host.empty());
      LR_FUZZ_CHECK(c.connections >= 1 && c.connections <= 255);
      LR_FUZZ_CHECK(c.local_tx_speed <= 0xFFFFFFFFULL && c.remote_tx_speed <= 0xFFFFFFFFULL);
      LR_FUZZ_CHECK(c.port >= 1);
      LR_FUZZ_CHECK(c.udp_tx_size >= 28 && c.udp_tx_size <= 64000);
      LR_FUZZ_CHECK(c.udp_remote_tx_size >= 28 && c.udp_remote_tx_size <= 64000);
      LR_FUZZ_CHECK(c.udp_ipv6_overhead == 28 || c.udp_ipv6_overhead == 48);
      break;
    }
    case Parsed::Action::kRunServer: {
      LR_FUZZ_CHECK(p.server.has_value());
      const auto& s = p.server->config;
      LR_FUZZ_CHECK(!s.listen.empty());
      LR_FUZZ_CHECK(s.udp_port_first >= 1 && s.udp_port_first <= s.udp_port_last);
      LR_FUZZ_CHECK(s.udp_port_last <= 65535 - 256);
      break;
    }
    case Parsed::Action::kPrint:
      LR_FUZZ_CHECK(!p.text.empty());
      break;
  }
  return 0;
}
