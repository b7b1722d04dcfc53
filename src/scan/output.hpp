// scan/output.hpp — lrscan's output formats (spec lrscan §1, §2 "Output") and the
// result collector that feeds them.
//
// What: one small abstract class, OutputFormat, with four implementations chosen
// by name through make_output() (STYLE §1 "Interfaces at the seams"):
//   "normal"   -oN / stdout: nmap's human report.
//   "grepable" -oG: nmap's one-line-per-host format for grep/awk.
//   "xml"      -oX: nmap's XML, valid against nmap.dtd, readable by ndiff.
//   "json"     -oJ: JSON lines, every line one complete JSON object.
//
// Lifecycle contract (every format):
//   begin(info)            once, by the CLI, before the scan starts;
//   host(addr, ports) * N  once per host, ascending address order, each host's
//                          ports ascending with TCP before UDP (ResultCollector::
//                          replay does this);
//   end(info)              once, by the CLI, after replay, with end time, elapsed
//                          and hosts up/total filled in. replay() never calls end().
// Formats write through the caller's FILE* (not owned, not flushed or closed).
// Write errors are sticky in the FILE*; the caller checks ferror() after end().
//
// Compatibility decisions (why each line looks the way it does):
//   - Lines that parsers match keep nmap's exact text: "Nmap scan report for ",
//     "Host is up", "Not shown: ", the PORT/STATE/SERVICE table; grepable
//     "Host: A ()\tStatus: Up", "Host: A ()\tPorts: p/state/proto//service///, ..."
//     "\tIgnored State: closed (N)" and the "# Nmap ... scan initiated" /
//     "# Nmap done at ..." comments (the version slot reads "lrscan-0.1.0").
//   - The normal report's banner and footer say "lrscan" (humans read them).
//   - XML: nmap.dtd enumerates scanner as (nmap) only, so any other value makes
//     the file invalid for xmllint --dtdvalid and for strict importers. ndiff
//     itself accepts any scanner string. We write scanner="nmap" with
//     version="lrscan-0.1.0"; the args attribute (the command line, starting with
//     "lrscan") and a leading XML comment identify lrscan.
//   - A state with more than kMaxShownPerState ports on a host (or, with --open,
//     every non-open state) is collapsed: "Not shown:" in normal, <extraports> in
//     XML, "Ignored State:" (the largest collapsed state) in grepable. Open ports
//     are never collapsed. JSON never collapses: one line per result.
//   - A host is "up" when it answered discovery or has at least one open or
//     closed port. Hosts that
//     are not up are reported only with -v (nmap prints down hosts only with -v).
//
// JSON lines schema (-oJ), one object per line, keys always present:
//   {"type":"scan","scanner":"lrscan","version":"0.1.0","args":S,"scan_type":S,
//    "services":S,"num_services":N,"start":UNIX_S,"startstr":S}
//   {"type":"port","ip":S,"family":4|6,"port":N,"proto":"tcp"|"udp",
//    "state":"open"|"closed"|"filtered"|"open|filtered","reason":S,
//    "rtt_us":N,"service":S}           (with --open: open ports only)
//   {"type":"host","ip":S,"family":4|6,"state":"up","reason":S}   (hosts that
//    answered discovery, before their ports)
//   {"type":"summary","end":UNIX_S,"endstr":S,"elapsed_s":X,"hosts_up":N,
//    "hosts_total":N,"probes_sent":N,"retries_sent":N}
//
// Thread-safety: a format object is used by one thread (the output thread).
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "scan/result.hpp"

namespace linerate::scan {

/// A non-open state with more ports than this on one host is collapsed into
/// "Not shown" / <extraports> (nmap uses the same threshold).
inline constexpr uint32_t kMaxShownPerState = 25;

struct OutputOptions {
  bool open_only = false;  // --open: list only open ports
  bool reason = false;     // --reason: add the REASON column
  int verbosity = 0;       // -v: report down hosts, "# Ports scanned" in -oG
};

/// One output format. Results arrive grouped per host, ports sorted ascending
/// (TCP before UDP). See the file comment for the call order.
class OutputFormat {
 public:
  virtual ~OutputFormat() = default;
  /// Header: banner line / <nmaprun> / "scan" object. Called before the scan.
  virtual void begin(const ScanInfo& info) = 0;
  /// One scanned host and all its port results (every scanned port of that host,
  /// all states; none after -sn). `discovered`: the host answered discovery, with
  /// that reason (it is up whatever its ports say).
  virtual void host(const Address& addr, std::span<const PortResult> ports, std::optional<Reason> discovered) = 0;
  /// Footer. `info` has end time, elapsed, hosts up/total filled in.
  virtual void end(const ScanInfo& info) = 0;
};

/// The format named `format` ("normal", "grepable", "xml", "json") writing to
/// `out` (not owned; the caller flushes and closes). Error naming the format
/// when it is unknown. The first call loads the service-name table
/// (/usr/share/nmap/nmap-services when present, else the system services
/// database); later calls reuse it.
[[nodiscard]] core::Result<std::unique_ptr<OutputFormat>> make_output(std::string_view format, std::FILE* out,
                                                                      const OutputOptions& opts);

/// Collects results arriving in any order from the scanner, then replays them
/// per host in address order to any number of formats.
///
/// Memory: one PortResult (about 40 bytes) per added result plus map overhead
/// per host — this is the one part of a scan that grows with its results (spec
/// §4); callers that need flat memory stream open ports only.
/// Thread-safety: not synchronised; one thread adds, then replays.
class ResultCollector {
 public:
  void add(const PortResult& r);
  /// The host answered host discovery (listed as up even with no port results).
  void add_up(const Address& addr, Reason why);
  /// -Pn: every host with results is up (reason user-set), as in nmap.
  void assume_up() { assume_up_ = true; }
  /// Calls host() on every format for every host that has results, in ascending
  /// address order (IPv4 before IPv6), ports ascending with TCP before UDP. Does
  /// not call begin() or end(); `info_for_end` is not used yet (kept so the
  /// replay can later report per-host timing).
  void replay(const ScanInfo& info_for_end, std::span<OutputFormat* const> outs) const;
  [[nodiscard]] uint64_t hosts_with_results() const { return hosts_.size(); }
  /// Hosts with at least one open or closed port.
  [[nodiscard]] uint64_t hosts_up() const;

 private:
  struct Host {
    std::vector<PortResult> ports;
    std::optional<Reason> discovered;
  };
  std::map<Address, Host> hosts_;
  bool assume_up_ = false;
};

}  // namespace linerate::scan
