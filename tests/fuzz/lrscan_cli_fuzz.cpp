// tests/fuzz/lrscan_cli_fuzz.cpp — the lrscan command line parser on arbitrary argv.
// Input: NUL-separated arguments (at most 32). Properties: parse_cli never throws
// or crashes; a usage error is one non-empty line starting with "lrscan: " and
// exit code 2; an accepted command line has targets (or -iL), consistent rates
// and RTT bounds, and outputs with known format names.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using linerate::scan::cli::Parsed;
  const std::vector<std::string> args = linerate::fuzz::nul_separated_args(data, size);
  Parsed p = linerate::scan::cli::parse_cli(args);
  switch (p.action) {
    case Parsed::Action::kUsageError:
      LR_FUZZ_CHECK(!p.text.empty());
      LR_FUZZ_CHECK(p.text.rfind("lrscan: ", 0) == 0);
      LR_FUZZ_CHECK(p.text.find('\n') == std::string::npos);
      LR_FUZZ_CHECK(p.exit_code == linerate::scan::cli::kExitUsage);
      break;
    case Parsed::Action::kRun: {
      const auto& o = p.options;
      LR_FUZZ_CHECK(!o.targets.empty() || !o.input_list.empty());
      LR_FUZZ_CHECK(o.scan.max_parallelism >= 1);
      LR_FUZZ_CHECK(o.scan.min_rtt_timeout <= o.scan.max_rtt_timeout);
      LR_FUZZ_CHECK(o.scan.max_rate_pps == 0 || o.scan.min_rate_pps <= o.scan.max_rate_pps);
      LR_FUZZ_CHECK(o.ports.empty() || o.top_ports == 0);
      for (const auto& [fmt, path] : o.outputs) {
        LR_FUZZ_CHECK(fmt == "normal" || fmt == "grepable" || fmt == "xml" || fmt == "json");
        LR_FUZZ_CHECK(!path.empty());
      }
      break;
    }
    case Parsed::Action::kPrint:
      LR_FUZZ_CHECK(!p.text.empty());
      break;
  }
  return 0;
}
