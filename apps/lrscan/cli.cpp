// apps/lrscan/cli.cpp — see cli.hpp.
#include "cli.hpp"

#include <charconv>
#include <optional>
#include <string_view>

#include "core/text.hpp"
#include "core/units.hpp"
#include "core/version.hpp"

namespace linerate::scan::cli {

namespace {

constexpr std::string_view kHelp = R"(lrscan — port scanner (linerate), nmap's flags

Usage: lrscan [scan type] [options] TARGETS...

TARGETS: 10.0.0.1, 10.0.0.0/24, 10.0.0.1-20, 10.0.1-3.*, fd13::/120, names.
  -iL FILE             read targets from FILE ("-" = stdin); # starts a comment
  --exclude LIST       comma-separated targets to leave out
  --excludefile FILE   targets to leave out, one or more per line
  -iR N                refused: lrscan never picks random Internet targets
SCAN TYPE:
  -sS                  TCP SYN scan: raw, stateless, fast (default as root)
  -sT                  TCP connect scan (default otherwise; needs no privileges)
  -sU                  UDP scan with protocol payloads (DNS, NTP, SNMP, ...);
                       combine with a TCP scan as -sS -sU or -sSU
  -sn                  host discovery only: list the hosts that are up
  -Pn                  skip host discovery: treat every target as up
  -PR                  discovery by ARP / IPv6 neighbour discovery (targets on
                       the local Ethernet)
  -PE / -PP            discovery by ICMP echo / timestamp request
  -PS<ports> / -PA<ports>  discovery by TCP SYN / ACK to these ports (-PS22,443)
                       default discovery (root): -PR -PE -PS443 -PA80 -PP; without
                       root, and with --shard or --resume, every target is
                       scanned (as -Pn)
PORTS (nmap syntax):
  -p SPEC              22,80,1000-2000; -p- (1-65535); T:80,U:53; names (http)
  -F                   the 100 most common ports
  --top-ports N        the N most common ports (nmap-services when installed)
  --exclude-ports SPEC ports to leave out
  default: the 1000 most common TCP ports
TIMING:
  -T0..-T5             paranoid, sneaky, polite, normal (default), aggressive, insane
  --max-retries N      re-probes of unanswered ports, at most (default 6)
  --min-rate N / --max-rate N   connects per second (floor / ceiling; 0.5 is allowed)
  --max-parallelism N  connects in flight (default 4096, lowered to fit the fd limit)
  --host-timeout T     give up a host after T (e.g. 30m)
  --min-rtt-timeout T, --max-rtt-timeout T, --initial-rtt-timeout T
  --seed N             key of the probe order (reproducible scans)
  --rate N             -sS: probes per second, exactly (default 500000; required
                       for more than 65,536 addresses); --max-rate is the same
  --batch-size N       -sS: probes per sendmmsg call, at most (default 64)
  --shard I/N          scan only part I of N (1-based); N machines with the same
                       --seed cover the scan exactly once together
  --resume FILE        -sS: save progress in FILE every second; a run that finds
                       FILE continues where it stopped (FILE is removed at the end)
NETWORK:
  -e IFACE             send from IFACE      -S ADDR   use ADDR as source address
  -g N, --source-port N   -sS: source port of the probes
  --ttl N              -sS: IP time to live / hop limit (default 64)
OUTPUT:
  -oN FILE / -oG FILE / -oX FILE / -oJ FILE   normal, grepable, XML, JSON lines
                       ("-" = stdout); -oA BASE writes BASE.nmap, .gnmap, .xml
  --open               show only open ports     --reason   say why
  -v                   more output              -d         debugging output
  --stats-every T      a progress line every T (also when stderr is not a terminal)
  --no-progress        no progress line on stderr
  --dry-run, --offline generate every probe (order, exclusions, rate) but send
                       nothing; reports the probe count (tests, benchmarks)
  -n                   no reverse DNS (lrscan never does reverse DNS)
  -h, --help           this text                -V, --version

Times: 500ms, 2s, 1.5m, 1h; a bare number is seconds.
Exit status: 0 scan completed, 1 runtime failure (e.g. no target could be
resolved), 2 usage error (the message names the bad flag or value), 130/143
interrupted by SIGINT/SIGTERM (the results so far are written).
Safety: nothing is sent to an address outside the targets minus the exclusions.

Examples:
  lrscan -p- 10.213.0.2
  lrscan -sT -p 22,80,443 --open -oA scan 192.0.2.0/28
  lrscan -T4 --top-ports 200 -iL hosts.txt --exclude 10.0.0.1 -oX out.xml
)";

Parsed usage(std::string msg) {
  Parsed p;
  p.action = Parsed::Action::kUsageError;
  p.text = core::one_line("lrscan: " + msg);
  p.exit_code = kExitUsage;
  return p;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) {
    return std::nullopt;
  }
  return v;
}

// nmap's -T templates mapped onto the connect engine. T0-T2 serialise the scan
// and pace it as nmap documents: one probe every 5 min, 15 s and 0.4 s; T4/T5
// tighten the RTT timeouts as nmap documents.
void apply_template(int t, ConnectScanConfig& c) {
  using std::chrono::milliseconds;
  switch (t) {
    case 0:
    case 1:
      c.max_parallelism = 1;
      c.max_rate_pps = t == 0 ? 1.0 / 300 : 1.0 / 15;
      c.initial_rtt_timeout = milliseconds(t == 0 ? 300'000 : 15'000);
      break;
    case 2:
      c.max_parallelism = 1;
      c.max_rate_pps = 1.0 / 0.4;
      break;
    case 3:
      break;
    case 4:
      c.initial_rtt_timeout = milliseconds(500);
      c.max_rtt_timeout = milliseconds(1250);
      c.min_rtt_timeout = milliseconds(100);
      c.max_retries = 6;
      break;
    case 5:
      c.initial_rtt_timeout = milliseconds(250);
      c.max_rtt_timeout = milliseconds(300);
      c.min_rtt_timeout = milliseconds(50);
      c.max_retries = 2;
      c.host_timeout = milliseconds(15 * 60'000);
      break;
    default:
      break;
  }
}

}  // namespace

Parsed parse_cli(const std::vector<std::string>& args) {
  Parsed out;
  Options& o = out.options;
  o.args_line = "lrscan";
  for (const auto& a : args) {
    o.args_line += " " + a;
  }
  // Values that are applied after the -T template, so an explicit flag wins
  // wherever it appears on the line.
  std::optional<uint64_t> max_retries, max_par, seed;
  std::optional<double> min_rate, max_rate, syn_rate;
  std::optional<uint64_t> batch;
  bool shard_given = false;
  std::optional<std::chrono::milliseconds> host_timeout, min_rtt, max_rtt, init_rtt;

  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    // The value of a flag: the rest of the token when glued (`-p22`, `--seed=5`),
    // else the next argument.
    auto value = [&](std::size_t glued_at) -> std::optional<std::string> {
      if (a.size() > glued_at) {
        std::string v = a.substr(glued_at);
        if (!v.empty() && v[0] == '=') {
          v.erase(0, 1);
        }
        return v;
      }
      if (i + 1 < args.size()) {
        return args[++i];
      }
      return std::nullopt;
    };
    auto need = [&](std::size_t glued_at, std::string& dst) -> bool {
      auto v = value(glued_at);
      if (!v) {
        return false;
      }
      dst = *v;
      return true;
    };
    auto number = [&](std::size_t glued_at, std::optional<uint64_t>& dst, const std::string& flag,
                      uint64_t max) -> std::optional<Parsed> {
      auto v = value(glued_at);
      if (!v) {
        return usage(flag + " needs a number");
      }
      auto n = parse_u64(*v);
      if (!n || *n > max) {
        return usage(flag + ": '" + *v + "' is not a whole number from 0 to " + std::to_string(max));
      }
      dst = *n;
      return std::nullopt;
    };
    // Probes per second, fractions allowed as in nmap ("--max-rate 0.5").
    auto rate = [&](std::size_t glued_at, std::optional<double>& dst,
                    const std::string& flag) -> std::optional<Parsed> {
      constexpr double kMaxRate = 100'000'000;
      auto v = value(glued_at);
      if (!v) {
        return usage(flag + " needs a number of probes per second");
      }
      double r = 0;
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), r, std::chars_format::fixed);
      if (v->empty() || ec != std::errc() || end != v->data() + v->size() || !(r >= 0) || r > kMaxRate) {
        return usage(flag + ": '" + *v + "' is not a rate from 0 to 100000000 per second");
      }
      dst = r;
      return std::nullopt;
    };
    auto duration = [&](std::size_t glued_at, std::optional<std::chrono::milliseconds>& dst,
                        const std::string& flag) -> std::optional<Parsed> {
      auto v = value(glued_at);
      if (!v) {
        return usage(flag + " needs a time, e.g. 500ms or 2s");
      }
      auto ms = core::parse_duration_ms(*v);
      if (!ms) {
        return usage(flag + ": " + ms.error().message());
      }
      dst = std::chrono::milliseconds(static_cast<int64_t>(*ms));
      return std::nullopt;
    };
    auto long_flag = [&](std::string_view name) {
      return a == name || (a.size() > name.size() && a.compare(0, name.size(), name) == 0 && a[name.size()] == '=');
    };

    if (a == "-h" || a == "--help") {
      out.action = Parsed::Action::kPrint;
      out.text = std::string(kHelp);
      return out;
    }
    if (a == "-V" || a == "--version") {
      out.action = Parsed::Action::kPrint;
      out.text = "lrscan (linerate) " + std::string(core::kVersion) + "\n";
      return out;
    }
    if (a.empty()) {
      return usage("empty argument");
    }
    if (a[0] != '-' || a == "-") {
      if (a == "-") {
        return usage("'-' is not a target (use -iL - to read targets from stdin)");
      }
      o.targets.push_back(a);
      continue;
    }
    // -sS, -sT, -sU and their combined forms (-sSU): one letter per scan type.
    if (a.size() >= 3 && a.rfind("-s", 0) == 0 && a.find_first_not_of("STU", 2) == std::string::npos) {
      for (char c : a.substr(2)) {
        if (c == 'U') {
          o.udp_scan = true;
          continue;
        }
        ScanType t = c == 'T' ? ScanType::kConnect : ScanType::kSyn;
        if (o.scan_type != ScanType::kDefault && o.scan_type != t) {
          return usage("-sS and -sT cannot be combined (choose one TCP scan type)");
        }
        o.scan_type = t;
      }
      continue;
    }
    if (a == "-sn") {
      o.ping_only = true;
      continue;
    }
    if (a == "-sV" || a.rfind("-sn", 0) == 0 || a.rfind("-sV", 0) == 0) {
      return usage(a + " is not implemented in this version; use -sS, -sT, -sU or -sn");
    }
    if (a.rfind("-s", 0) == 0 && a.size() == 3) {
      return usage("unknown scan type " + a + " (this version has -sS, -sT and -sU)");
    }
    if (a == "-Pn") {
      o.skip_discovery = true;
      continue;
    }
    if (a == "-PR") {
      o.ping_probes.push_back({DiscoveryProbe::Kind::kArp, 0});
      continue;
    }
    if (a == "-PE" || a == "-PP") {
      o.ping_probes.push_back({a == "-PE" ? DiscoveryProbe::Kind::kEcho : DiscoveryProbe::Kind::kTimestamp, 0});
      continue;
    }
    if (a.rfind("-PS", 0) == 0 || a.rfind("-PA", 0) == 0) {
      // nmap's glued form: -PS22,80 (no list = port 80). Ports only, no ranges
      // beyond 64 ports: each costs a probe per host.
      const auto kind = a[2] == 'S' ? DiscoveryProbe::Kind::kSyn : DiscoveryProbe::Kind::kAck;
      std::string list = a.size() > 3 ? a.substr(3) : "80";
      auto ps = parse_port_spec(list, ScanProtocols{true, false}, nullptr);
      if (!ps || ps->tcp.empty() || ps->tcp.size() > 64) {
        return usage(a + ": expected up to 64 TCP ports, e.g. " + a.substr(0, 3) + "22,80,443");
      }
      for (uint32_t k = 0; k < ps->tcp.size(); ++k) {
        o.ping_probes.push_back({kind, ps->tcp.nth(k)});
      }
      continue;
    }
    if (a.rfind("-P", 0) == 0) {
      return usage(a + ": not a discovery probe of this version (it has -PR -PE -PP -PS<ports> -PA<ports>, and -Pn)");
    }
    if (a == "-n" || a == "-6") {
      continue;  // no reverse DNS is ever done; IPv6 targets are recognised by their form
    }
    if (a == "-iR") {
      return usage("-iR (random Internet targets) is refused: lrscan scans only targets you name");
    }
    if (a == "-iL") {
      if (!need(3, o.input_list)) {
        return usage("-iL needs a file name (or - for stdin)");
      }
      continue;
    }
    if (long_flag("--exclude")) {
      if (!need(9, o.exclude) || o.exclude.empty()) {
        return usage("--exclude needs a list of targets");
      }
      continue;
    }
    if (long_flag("--excludefile")) {
      if (!need(13, o.exclude_file) || o.exclude_file.empty()) {
        return usage("--excludefile needs a file name");
      }
      continue;
    }
    if (a.rfind("-p", 0) == 0 && a.rfind("-P", 0) != 0) {
      if (!need(2, o.ports) || o.ports.empty()) {
        return usage("-p needs a port list, e.g. -p 22,80 or -p-");
      }
      continue;
    }
    if (a == "-F") {
      o.top_ports = 100;
      continue;
    }
    if (long_flag("--top-ports")) {
      std::optional<uint64_t> n;
      if (auto e = number(11, n, "--top-ports", 65536)) {
        return *e;
      }
      if (*n == 0) {
        return usage("--top-ports: 0 ports is nothing to scan");
      }
      o.top_ports = static_cast<uint32_t>(*n);
      continue;
    }
    if (long_flag("--exclude-ports")) {
      if (!need(15, o.exclude_ports) || o.exclude_ports.empty()) {
        return usage("--exclude-ports needs a port list");
      }
      continue;
    }
    if (a.rfind("-T", 0) == 0) {
      auto v = value(2);
      static constexpr std::string_view kNames[] = {"paranoid", "sneaky", "polite", "normal", "aggressive", "insane"};
      int t = -1;
      if (v && v->size() == 1 && (*v)[0] >= '0' && (*v)[0] <= '5') {
        t = (*v)[0] - '0';
      }
      for (int k = 0; v && t < 0 && k < 6; ++k) {
        if (*v == kNames[k]) {
          t = k;
        }
      }
      if (t < 0) {
        return usage("-T takes 0-5 or a name (paranoid ... insane), not '" + v.value_or("") + "'");
      }
      o.timing_template = t;
      continue;
    }
    if (long_flag("--max-retries")) {
      if (auto e = number(13, max_retries, "--max-retries", 50)) {
        return *e;
      }
      continue;
    }
    if (long_flag("--min-rate")) {
      if (auto e = rate(10, min_rate, "--min-rate")) {
        return *e;
      }
      continue;
    }
    if (long_flag("--max-rate")) {
      if (auto e = rate(10, max_rate, "--max-rate")) {
        return *e;
      }
      if (*max_rate == 0) {
        return usage("--max-rate: 0 would send nothing");
      }
      continue;
    }
    if (long_flag("--max-parallelism")) {
      if (auto e = number(17, max_par, "--max-parallelism", 1'000'000)) {
        return *e;
      }
      if (*max_par == 0) {
        return usage("--max-parallelism: must be at least 1");
      }
      continue;
    }
    if (long_flag("--seed")) {
      if (auto e = number(6, seed, "--seed", UINT64_MAX)) {
        return *e;
      }
      continue;
    }
    if (long_flag("--host-timeout")) {
      if (auto e = duration(14, host_timeout, "--host-timeout")) {
        return *e;
      }
      continue;
    }
    if (long_flag("--min-rtt-timeout")) {
      if (auto e = duration(17, min_rtt, "--min-rtt-timeout")) {
        return *e;
      }
      continue;
    }
    if (long_flag("--max-rtt-timeout")) {
      if (auto e = duration(17, max_rtt, "--max-rtt-timeout")) {
        return *e;
      }
      continue;
    }
    if (long_flag("--initial-rtt-timeout")) {
      if (auto e = duration(21, init_rtt, "--initial-rtt-timeout")) {
        return *e;
      }
      continue;
    }
    if (long_flag("--stats-every")) {
      std::optional<std::chrono::milliseconds> t;
      if (auto e = duration(13, t, "--stats-every")) {
        return *e;
      }
      o.stats_every = *t;
      continue;
    }
    if (long_flag("--rate")) {
      if (auto e = rate(6, syn_rate, "--rate")) {
        return *e;
      }
      if (*syn_rate < 1) {
        return usage("--rate: at least 1 probe per second");
      }
      continue;
    }
    if (long_flag("--batch-size")) {
      if (auto e = number(12, batch, "--batch-size", 4096)) {
        return *e;
      }
      if (*batch == 0) {
        return usage("--batch-size: at least 1");
      }
      continue;
    }
    if (long_flag("--shard")) {
      auto v = value(7);
      auto slash = v ? v->find('/') : std::string::npos;
      std::optional<uint64_t> si = slash == std::string::npos ? std::nullopt : parse_u64(v->substr(0, slash));
      std::optional<uint64_t> sn = slash == std::string::npos ? std::nullopt : parse_u64(v->substr(slash + 1));
      if (!si || !sn || *sn == 0 || *sn > 1'000'000 || *si == 0 || *si > *sn) {
        return usage("--shard takes I/N with 1 <= I <= N <= 1000000, e.g. --shard 2/3, not '" + v.value_or("") + "'");
      }
      o.syn.shard = Shard{*si - 1, *sn};
      shard_given = true;
      continue;
    }
    if (long_flag("--resume")) {
      if (!need(8, o.resume_file) || o.resume_file.empty()) {
        return usage("--resume needs a file name");
      }
      continue;
    }
    if (a == "-g" || long_flag("--source-port")) {
      std::optional<uint64_t> port;
      if (auto e = number(a == "-g" ? 2 : 13, port, a == "-g" ? "-g" : "--source-port", 65535)) {
        return *e;
      }
      if (*port == 0) {
        return usage(a + ": source port must be 1-65535");
      }
      o.syn.source_port = static_cast<int>(*port);
      continue;
    }
    if (long_flag("--ttl")) {
      std::optional<uint64_t> ttl;
      if (auto e = number(5, ttl, "--ttl", 255)) {
        return *e;
      }
      if (*ttl == 0) {
        return usage("--ttl: must be 1-255");
      }
      o.syn.ttl = static_cast<int>(*ttl);
      continue;
    }
    if (a == "-e") {
      if (!need(2, o.syn.iface) || o.syn.iface.empty() || o.syn.iface.size() >= 16 ||
          o.syn.iface.find_first_of("/ \t") != std::string::npos) {
        return usage("-e needs an interface name (see `ip link`)");
      }
      continue;
    }
    if (a == "-S") {
      if (!need(2, o.source_addr) || !Address::parse(o.source_addr)) {
        return usage("-S needs an IPv4 or IPv6 address, not '" + o.source_addr + "'");
      }
      continue;
    }
    if (a == "--no-progress") {
      o.no_progress = true;
      continue;
    }
    if (a == "--dry-run" || a == "--offline") {
      o.scan.dry_run = true;
      continue;
    }
    if (a == "--open") {
      o.output.open_only = true;
      continue;
    }
    if (a == "--reason") {
      o.output.reason = true;
      continue;
    }
    if (a.find_first_not_of('v', 1) == std::string::npos) {  // -v, -vv, ...
      o.output.verbosity += static_cast<int>(a.size() - 1);
      continue;
    }
    if (a.find_first_not_of('d', 1) == std::string::npos) {  // -d, -dd, ...
      o.debug += static_cast<int>(a.size() - 1);
      continue;
    }
    if (a == "-oN" || a == "-oG" || a == "-oX" || a == "-oJ" || a == "-oA") {
      std::string path;
      if (!need(3, path) || path.empty()) {
        return usage(a + " needs a file name (or - for standard output)");
      }
      const char kind = a[2];
      if (kind == 'A') {
        if (path == "-") {
          return usage("-oA needs a base name, not -");
        }
        o.outputs.emplace_back("normal", path + ".nmap");
        o.outputs.emplace_back("grepable", path + ".gnmap");
        o.outputs.emplace_back("xml", path + ".xml");
      } else {
        o.outputs.emplace_back(kind == 'N' ? "normal" : kind == 'G' ? "grepable" : kind == 'X' ? "xml" : "json", path);
      }
      continue;
    }
    return usage("unknown option " + a + " (see lrscan --help)");
  }

  apply_template(o.timing_template, o.scan);
  if (max_retries) {
    o.scan.max_retries = static_cast<unsigned>(*max_retries);
  }
  if (min_rate) {
    o.scan.min_rate_pps = *min_rate;
  }
  if (max_rate) {
    o.scan.max_rate_pps = *max_rate;
  }
  if (max_par) {
    o.scan.max_parallelism = static_cast<unsigned>(*max_par);
  }
  if (seed) {
    o.scan.seed = *seed;
  }
  if (host_timeout) {
    o.scan.host_timeout = *host_timeout;
  }
  if (min_rtt) {
    o.scan.min_rtt_timeout = *min_rtt;
  }
  if (max_rtt) {
    o.scan.max_rtt_timeout = *max_rtt;
  }
  if (init_rtt) {
    o.scan.initial_rtt_timeout = *init_rtt;
  }
  // -sS: one exact rate. --rate wins; --max-rate caps the default; --min-rate
  // raises it; -T0..-T2 pace as they do for -sT. Timeouts map onto the waits
  // after each round.
  o.syn.max_retries = o.scan.max_retries;
  o.syn.seed = o.scan.seed;
  o.syn.dry_run = o.scan.dry_run;
  if (o.timing_template <= 2) {
    o.syn.rate_pps = o.scan.max_rate_pps;
  }
  if (max_rate) {
    o.syn.rate_pps = *max_rate;
  }
  if (min_rate && o.syn.rate_pps == 0 && *min_rate > kDefaultRawRate) {
    o.syn.rate_pps = *min_rate;
  }
  if (syn_rate) {
    o.syn.rate_pps = *syn_rate;
    if (!max_rate) {
      o.scan.max_rate_pps = *syn_rate;  // -sT: --rate is its ceiling too
    }
  }
  o.explicit_rate = syn_rate.has_value() || max_rate.has_value();
  if (batch) {
    o.syn.batch_size = static_cast<unsigned>(*batch);
  }
  if (min_rtt) {
    o.syn.min_wait = *min_rtt;
  }
  if (max_rtt) {
    o.syn.max_wait = *max_rtt;
  }
  if (init_rtt) {
    o.syn.initial_wait = *init_rtt;
  }
  if (o.syn.min_wait > o.syn.max_wait) {
    o.syn.max_wait = o.syn.min_wait;
  }
  if (o.scan.min_rate_pps != 0 && o.scan.max_rate_pps != 0 && o.scan.min_rate_pps > o.scan.max_rate_pps) {
    return usage("--min-rate is above --max-rate");
  }
  if (o.scan.min_rtt_timeout > o.scan.max_rtt_timeout) {
    return usage("--min-rtt-timeout is above --max-rtt-timeout");
  }
  if (o.ping_only && (o.skip_discovery || o.udp_scan || o.scan_type != ScanType::kDefault)) {
    return usage("-sn is discovery only: it cannot be combined with -Pn or a port scan type");
  }
  if (o.ping_only && (shard_given || !o.resume_file.empty())) {
    return usage("-sn cannot be combined with --shard or --resume in this version");
  }
  if (o.scan_type == ScanType::kConnect && (shard_given || !o.resume_file.empty())) {
    return usage(std::string(shard_given ? "--shard" : "--resume") + " works with the raw scans (-sS, -sU) only");
  }
  if (!o.ports.empty() && o.top_ports != 0) {
    return usage("-p cannot be combined with -F or --top-ports");
  }
  if (o.targets.empty() && o.input_list.empty()) {
    return usage("no targets given (name them, or use -iL FILE)");
  }
  out.action = Parsed::Action::kRun;
  return out;
}

}  // namespace linerate::scan::cli
