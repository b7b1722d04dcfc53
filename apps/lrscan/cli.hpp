// apps/lrscan/cli.hpp — the lrscan command line (nmap grammar), as a pure function.
//
// nmap's flags glue letters and values (`-sT`, `-T4`, `-p-`, `-PS22`) and take
// file names after two-letter flags (`-oX FILE`), which general option parsers
// read differently; this is a small hand-written parser for exactly that
// grammar. parse_cli() validates flags and values (one-line errors naming the
// bad token, exit code 2) but reads no files and resolves no names: main does
// that, so the parser can be fuzzed (tests/fuzz/lrscan_cli_fuzz.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "scan/connect_scan.hpp"
#include "scan/output.hpp"
#include "scan/raw_scan.hpp"

namespace linerate::scan::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// -sT, -sS, or neither (main picks -sS for root, -sT otherwise, as nmap does).
enum class ScanType : uint8_t { kDefault, kConnect, kSyn };

struct Options {
  ScanType scan_type = ScanType::kDefault;
  bool udp_scan = false;       // -sU (alone or with -sS/-sT, e.g. -sSU)
  RawScanConfig syn;           // -sS: --rate, --batch-size, --shard, -g, --ttl, -e, -S; timing mapped from -T etc.
  bool explicit_rate = false;  // --rate or --max-rate given (required above 65,536 addresses)
  std::string resume_file;     // --resume FILE
  std::string source_addr;     // -S ADDR (validated here, applied per family in main)
  std::vector<std::string> targets;                          // positional target specs
  std::string input_list;                                    // -iL FILE ("-" = stdin)
  std::string exclude;                                       // --exclude LIST
  std::string exclude_file;                                  // --excludefile FILE
  std::string ports;                                         // -p SPEC (empty = default top 1000)
  uint32_t top_ports = 0;                                    // --top-ports N / -F (100)
  std::string exclude_ports;                                 // --exclude-ports SPEC
  ConnectScanConfig scan;                                    // timing (-T, --max-retries, ...)
  int timing_template = 3;                                   // -T0..-T5 as given (3 when absent)
  std::vector<std::pair<std::string, std::string>> outputs;  // (format, path); path "-" = stdout
  OutputOptions output;                                      // --open, --reason, -v
  int debug = 0;                                             // -d
  bool no_progress = false;                                  // --no-progress
  std::chrono::milliseconds stats_every{0};                  // --stats-every T: a progress line every T even off a TTY
  bool skip_discovery = false;                               // -Pn: every target is treated as up
  bool ping_only = false;                                    // -sn: host discovery only
  std::vector<DiscoveryProbe> ping_probes;  // -PE -PP -PS<ports> -PA<ports>; empty = nmap's default set
  std::string args_line;                    // the command line as typed, for output headers
};

struct Parsed {
  enum class Action { kRun, kPrint, kUsageError } action = Action::kUsageError;
  Options options;
  std::string text;   // kPrint: help/version; kUsageError: one line
  int exit_code = 0;  // for kPrint and kUsageError
};

/// argv without the program name.
[[nodiscard]] Parsed parse_cli(const std::vector<std::string>& args);

}  // namespace linerate::scan::cli
