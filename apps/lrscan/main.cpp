// apps/lrscan/main.cpp — parse the command line, load targets and ports, run the
// connect scan, write the outputs. All scanning lives in src/scan.
#include <unistd.h>

#include <cstdlib>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli.hpp"
#include "core/address.hpp"
#include "core/interrupt.hpp"
#include "scan/connect_scan.hpp"
#include "scan/output.hpp"
#include "scan/ports.hpp"
#include "scan/raw_scan.hpp"
#include "scan/result.hpp"
#include "scan/resume.hpp"
#include "scan/targets.hpp"

namespace {

using linerate::scan::cli::kExitFailure;
using linerate::scan::cli::kExitOk;
using linerate::scan::cli::kExitUsage;
namespace scan = linerate::scan;
namespace core = linerate::core;

int fail(const std::string& msg, int code) {
  std::fprintf(stderr, "lrscan: %s\n", msg.c_str());
  return code;
}

bool read_text(const std::string& path, std::string& text) {
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return true;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

// --resume: what identifies a scan, so a journal is never applied to another.
uint64_t fnv(uint64_t h, std::string_view s) {
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return h;
}

uint64_t scan_fingerprint(const scan::TargetSet& t, const scan::PortSet& p, const scan::RawScanConfig& c) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto& r : t.v4()) {
    h = fnv(h, std::to_string(r.first) + "-" + std::to_string(r.last) + ";");
  }
  for (const auto& r : t.v6()) {
    h = fnv(h, scan::Address::v6(r.first).to_string() + "-" + scan::Address::v6(r.last).to_string() + ";");
  }
  h = fnv(h, p.to_string());
  h = fnv(h, std::to_string(c.seed) + "/" + std::to_string(c.shard.index) + "/" + std::to_string(c.shard.count));
  return h;
}

std::string format_eta(double s) {
  if (s < 0 || s > 99 * 3600) {
    return "--:--";
  }
  auto t = static_cast<long>(s + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = scan::cli::parse_cli(args);
  if (parsed.action == scan::cli::Parsed::Action::kPrint) {
    std::fputs(parsed.text.c_str(), stdout);
    return parsed.exit_code;
  }
  if (parsed.action == scan::cli::Parsed::Action::kUsageError) {
    std::fprintf(stderr, "%s\n", parsed.text.c_str());
    return parsed.exit_code;
  }
  const scan::cli::Options& o = parsed.options;
  core::Interrupt stop;
  core::install_signal_stop(stop);

  // Targets: names are resolved once; a name that does not resolve is reported
  // and skipped, as nmap does.
  scan::Resolver resolver = [](std::string_view name) { return core::resolve(name, 0); };
  uint64_t unresolved = 0;
  scan::OnUnresolved on_unresolved = [&](const core::Error& e) {
    ++unresolved;
    std::fprintf(stderr, "lrscan: warning: %s (skipped)\n", e.message().c_str());
  };
  auto targets = scan::TargetSet::parse(o.targets, resolver, on_unresolved);
  if (!targets) {
    return fail(targets.error().message(), kExitUsage);
  }
  if (!o.input_list.empty()) {
    std::string text;
    if (!read_text(o.input_list, text)) {
      return fail("-iL: cannot read '" + o.input_list + "'", kExitFailure);
    }
    auto more = scan::TargetSet::parse_list_text(text, resolver, on_unresolved);
    if (!more) {
      return fail("-iL " + o.input_list + ": " + more.error().message(), kExitUsage);
    }
    for (const auto& r : more->v4()) {
      targets->add_range(r);
    }
    for (const auto& r : more->v6()) {
      targets->add_range(r);
    }
  }
  // Exclusions are subtracted from the set itself: the scanner can only ever
  // produce addresses that remain in it (spec §5).
  if (!o.exclude.empty()) {
    auto ex = scan::TargetSet::parse_exclude_list(o.exclude, resolver, on_unresolved);
    if (!ex) {
      return fail("--exclude: " + ex.error().message(), kExitUsage);
    }
    targets->exclude(*ex);
  }
  if (!o.exclude_file.empty()) {
    std::string text;
    if (!read_text(o.exclude_file, text)) {
      return fail("--excludefile: cannot read '" + o.exclude_file + "'", kExitFailure);
    }
    auto ex = scan::TargetSet::parse_list_text(text, resolver, on_unresolved);
    if (!ex) {
      return fail("--excludefile " + o.exclude_file + ": " + ex.error().message(), kExitUsage);
    }
    targets->exclude(*ex);
  }
  if (targets->empty()) {
    return fail(unresolved > 0 ? "no target could be resolved; nothing to scan" : "no targets left to scan",
                kExitFailure);
  }

  // Ports, per protocol: -sU scans UDP (alone, or with -sS/-sT: -sSU), the TCP
  // scan types TCP; plain ports in -p apply to every protocol scanned.
  const bool want_udp = o.udp_scan;
  const bool want_tcp = o.scan_type != scan::cli::ScanType::kDefault || !want_udp;
  const scan::ServiceTable& services = scan::ServiceTable::load_default();
  scan::PortSet ports;      // TCP
  scan::PortSet udp_ports;  // UDP
  if (!o.ports.empty()) {
    auto ps = scan::parse_port_spec(o.ports, scan::ScanProtocols{want_tcp, want_udp}, &services);
    if (!ps) {
      return fail(ps.error().message(), kExitUsage);
    }
    if (!want_udp && !ps->udp.empty()) {
      std::fprintf(stderr, "lrscan: warning: UDP ports ignored (add -sU to scan them)\n");
    }
    if (!want_tcp && !ps->tcp.empty()) {
      std::fprintf(stderr, "lrscan: warning: TCP ports ignored (add -sS or -sT to scan them)\n");
    }
    ports = want_tcp ? ps->tcp : scan::PortSet{};
    udp_ports = want_udp ? ps->udp : scan::PortSet{};
  } else {
    const uint32_t n = o.top_ports != 0 ? o.top_ports : 1000;
    if (want_tcp) {
      ports = services.top_port_set(scan::Protocol::kTcp, n);
    }
    if (want_udp) {
      udp_ports = services.top_port_set(scan::Protocol::kUdp, n);
    }
  }
  if (!o.exclude_ports.empty()) {
    auto ex = scan::parse_exclude_ports(o.exclude_ports, &services);
    if (!ex) {
      return fail(ex.error().message(), kExitUsage);
    }
    ports = ports.minus(ex->tcp);
    udp_ports = udp_ports.minus(ex->udp);
  }
  if (o.ping_only) {
    ports = {};
    udp_ports = {};
  } else if (ports.empty() && udp_ports.empty()) {
    return fail("no ports left to scan", kExitUsage);
  }

  // Outputs. Normal output goes to stdout unless some format claimed stdout.
  bool stdout_claimed = false;
  for (const auto& [fmt, path] : o.outputs) {
    stdout_claimed = stdout_claimed || path == "-";
  }
  struct Sink {
    std::unique_ptr<scan::OutputFormat> format;
    std::FILE* file = nullptr;
    bool owned = false;
  };
  std::vector<Sink> sinks;
  auto close_all = [&] {
    for (auto& s : sinks) {
      if (s.owned && s.file != nullptr) {
        std::fclose(s.file);
      } else if (s.file != nullptr) {
        std::fflush(s.file);
      }
    }
  };
  if (!stdout_claimed) {
    auto f = scan::make_output("normal", stdout, o.output);
    if (!f) {
      return fail(f.error().message(), kExitFailure);
    }
    sinks.push_back({std::move(*f), stdout, false});
  }
  for (const auto& [fmt, path] : o.outputs) {
    std::FILE* file = path == "-" ? stdout : std::fopen(path.c_str(), "w");
    if (file == nullptr) {
      close_all();
      return fail("cannot write " + path, kExitFailure);
    }
    auto f = scan::make_output(fmt, file, o.output);
    if (!f) {
      close_all();
      return fail(f.error().message(), kExitFailure);
    }
    sinks.push_back({std::move(*f), file, path != "-"});
  }

  // Scan type: -sS as root (raw sockets), -sT otherwise, as nmap chooses.
  const bool privileged = ::geteuid() == 0;
  const bool use_syn =
      !o.ping_only && want_tcp &&
      (o.scan_type == scan::cli::ScanType::kSyn || (o.scan_type == scan::cli::ScanType::kDefault && privileged));
  // Host discovery (nmap's default): raw probes, so as root; never in a dry run
  // (nothing could answer). Without root every target is scanned, as with -Pn.
  // --shard and --resume number the pairs of the whole target list, which must
  // not depend on which hosts answered a ping: they scan every target too.
  const bool discover = !o.skip_discovery && !o.scan.dry_run && (privileged || o.ping_only) && o.syn.shard.count == 1 &&
                        o.resume_file.empty();
  if ((!use_syn || want_udp) && !o.resume_file.empty()) {
    close_all();
    return fail("--resume works with -sS alone in this version", kExitUsage);
  }
  scan::RawScanConfig syn = o.syn;
  if (!o.source_addr.empty()) {  // every raw probe: -sS, -sU and discovery
    auto a = scan::Address::parse(o.source_addr);
    if (a && a->family == scan::Family::kV4) {
      syn.source_v4 = *a;
    } else if (a) {
      syn.source_v6 = *a;
    }
  }
  std::optional<scan::ResumeJournal> journal;
  if (use_syn && !o.resume_file.empty()) {
    const uint64_t hosts = targets->size();
    const uint64_t pairs = hosts > UINT64_MAX / ports.size() ? UINT64_MAX : hosts * ports.size();
    auto j = scan::ResumeJournal::open(o.resume_file, scan_fingerprint(*targets, ports, syn), pairs);
    if (!j) {
      close_all();
      return fail(j.error().message(), kExitUsage);
    }
    journal.emplace(std::move(*j));
    if (journal->resumed()) {
      const scan::JournalState& st = journal->state();
      std::fprintf(stderr, "lrscan: resuming from %s: %llu answers kept, first walk continues at %llu\n",
                   o.resume_file.c_str(), static_cast<unsigned long long>(st.answers.size()),
                   static_cast<unsigned long long>(st.position));
      syn.start_k = st.position;
      syn.preanswered = st.answers;
    }
    syn.on_answer = [&](const scan::JournalAnswer& a) { journal->record(a); };
    syn.on_checkpoint = [&](uint64_t position, unsigned round) {
      if (auto r = journal->checkpoint(position, round); !r) {
        std::fprintf(stderr, "lrscan: warning: %s\n", r.error().message().c_str());
      }
    };
  }
  // Safety (spec §5): a big scan must say how fast it may go.
  constexpr uint64_t kMaxAddrsWithoutRate = 65536;
  if (!o.scan.dry_run && targets->size() > kMaxAddrsWithoutRate && !o.explicit_rate) {
    close_all();
    return fail("scanning " + std::to_string(targets->size()) +
                    " addresses needs an explicit --rate (or --max-rate): say how many probes per second the "
                    "network may take",
                kExitUsage);
  }

  scan::ScanInfo info;
  info.args = o.args_line;
  info.scan_type = want_tcp ? (use_syn ? "syn" : "connect") : "";
  if (want_udp) {
    info.scan_type += want_tcp ? ",udp" : "udp";
  }
  if (o.ping_only) {
    info.scan_type = "ping";
  }
  if (want_tcp && want_udp) {
    info.services = "T:" + ports.to_string() + ",U:" + udp_ports.to_string();
  } else {
    info.services = want_udp ? udp_ports.to_string() : ports.to_string();
  }
  info.num_services = ports.size() + udp_ports.size();
  info.start_unix_s = static_cast<int64_t>(std::time(nullptr));
  info.hosts_total = targets->size();
  for (auto& s : sinks) {
    s.format->begin(info);
  }

  // Progress: redrawn in place on a terminal, off otherwise unless --stats-every.
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  const bool live = tty && !o.no_progress;
  auto last_stats = std::chrono::steady_clock::now();
  bool drew = false;
  auto on_progress = [&](const scan::ScanProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool periodic = o.stats_every.count() > 0 && now - last_stats >= o.stats_every;
    if (!live && !periodic) {
      return;
    }
    const double pct = p.total == 0 ? 100.0 : 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total);
    const double rate = p.elapsed_s > 0 ? static_cast<double>(p.probes_sent) / p.elapsed_s : 0;
    const double eta =
        p.done == 0 ? -1 : p.elapsed_s * static_cast<double>(p.total - p.done) / static_cast<double>(p.done);
    char line[200];
    std::snprintf(line, sizeof(line), "%5.1f%% done  %9.0f probes/s  %llu open  %llu in flight  ETA %s", pct, rate,
                  static_cast<unsigned long long>(p.open), static_cast<unsigned long long>(p.in_flight),
                  format_eta(eta).c_str());
    if (periodic) {
      last_stats = now;
      std::fprintf(stderr, "%slrscan: %s\n", drew ? "\r\033[K" : "", line);
      drew = false;
    } else {
      std::fprintf(stderr, "\r\033[K%s", line);
      drew = true;
    }
    std::fflush(stderr);
  };

  scan::ResultCollector collector;
  const auto t0 = std::chrono::steady_clock::now();
  auto on_result = [&](const scan::PortResult& r) { collector.add(r); };
  core::Result<scan::ScanProgress> stats = scan::ScanProgress{};
  // The raw scans: -sS then -sU, each a stateless pass of its own.
  std::vector<std::pair<std::string, scan::RawScanStats>> raw_stats;
  auto add_progress = [&](const scan::ScanProgress& p) {
    stats->total += p.total;
    stats->done += p.done;
    stats->probes_sent += p.probes_sent;
    stats->retries_sent += p.retries_sent;
    stats->open += p.open;
  };
  // Discovery first; the port scans then go to the hosts that answered.
  const scan::TargetSet* scan_targets = &*targets;
  scan::TargetSet up_targets;
  if (discover) {
    std::vector<scan::Address> up;
    const auto& probes = o.ping_probes.empty() ? scan::default_discovery_probes() : o.ping_probes;
    auto st = scan::discover_hosts(
        *targets, probes, syn, stop,
        [&](const scan::Address& a, scan::Reason why) {
          collector.add_up(a, why);
          up.push_back(a);
        },
        on_progress, o.debug);
    if (!st) {
      stats = tl::unexpected(st.error());
    } else {
      if (o.output.verbosity > 0 || o.debug > 0) {
        std::fprintf(stderr, "lrscan: host discovery: %llu of %llu hosts up (%llu probes)\n",
                     static_cast<unsigned long long>(up.size()), static_cast<unsigned long long>(targets->size()),
                     static_cast<unsigned long long>(st->progress.probes_sent));
      }
      if (o.ping_only) {
        stats->total = targets->size();
        stats->done = up.size();
        stats->probes_sent = st->progress.probes_sent;
        stats->retries_sent = st->progress.retries_sent;
      }
    }
    up_targets = scan::TargetSet::from_addresses(up);
    scan_targets = &up_targets;
  }
  if (o.skip_discovery) {
    collector.assume_up();  // nmap -Pn: every scanned host is reported up
  }
  const bool any_up = !scan_targets->empty();
  auto run_raw = [&](const char* kind, const scan::PortSet& raw_ports, const scan::RawScanConfig& cfg) {
    auto st = scan::raw_scan(*scan_targets, raw_ports, cfg, stop, on_result, on_progress, o.debug);
    if (st) {
      raw_stats.emplace_back(kind, *st);
      add_progress(st->progress);
    } else {
      stats = tl::unexpected(st.error());
    }
  };
  if (stats && any_up && use_syn && !ports.empty()) {
    run_raw("syn", ports, syn);
  } else if (stats && any_up && want_tcp && !ports.empty() && !o.ping_only) {
    stats = scan::connect_scan(*scan_targets, ports, o.scan, stop, on_result, on_progress);
  }
  if (stats && any_up && want_udp && !udp_ports.empty() && !stop.requested()) {
    scan::RawScanConfig udp = syn;
    udp.protocol = scan::Protocol::kUdp;
    run_raw("udp", udp_ports, udp);
  }
  if (drew) {
    std::fprintf(stderr, "\r\033[K");
  }
  if (!stats) {
    close_all();
    return fail(stats.error().message(), kExitFailure);
  }
  info.end_unix_s = static_cast<int64_t>(std::time(nullptr));
  info.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  info.hosts_up = collector.hosts_up();
  info.probes_sent = stats->probes_sent;
  info.retries_sent = stats->retries_sent;
  std::vector<scan::OutputFormat*> formats;
  for (auto& s : sinks) {
    formats.push_back(s.format.get());
  }
  collector.replay(info, formats);
  for (auto& s : sinks) {
    s.format->end(info);
  }
  close_all();
  for (const auto& [kind, ss] : raw_stats) {
    // The first walk's rate (later rounds are a few probes between waits); only
    // when the walk lasted long enough to measure.
    char rate_text[64] = "";
    if (ss.send_seconds >= 0.01 && ss.first_round_probes > 1) {
      std::snprintf(rate_text, sizeof(rate_text), " at %.0f/s",
                    static_cast<double>(ss.first_round_probes - 1) / ss.send_seconds);
    }
    if (!o.scan.dry_run) {
      std::fprintf(stderr,
                   "lrscan: %s scan: %llu probes sent (%llu retries, %llu refused by the kernel)%s in %u rounds; "
                   "%llu replies (%llu duplicates); %llu capture drops; %llu ports unanswered\n",
                   kind.c_str(), static_cast<unsigned long long>(ss.progress.probes_sent),
                   static_cast<unsigned long long>(ss.progress.retries_sent),
                   static_cast<unsigned long long>(ss.send_errors), rate_text, ss.rounds,
                   static_cast<unsigned long long>(ss.replies), static_cast<unsigned long long>(ss.duplicates),
                   static_cast<unsigned long long>(ss.capture_drops), static_cast<unsigned long long>(ss.unanswered));
    }
    if (ss.capture_drops > 0) {
      std::fprintf(stderr,
                   "lrscan: warning: the capture ring dropped %llu packets; some ports may be reported %s "
                   "wrongly: lower --rate\n",
                   static_cast<unsigned long long>(ss.capture_drops), kind == "udp" ? "open|filtered" : "filtered");
    }
    if (ss.icmp_ratelimited > 0) {
      // Linux answers about one port unreachable per second after a short burst
      // (spec §7): proving these closed takes that long, for any scanner.
      std::fprintf(stderr,
                   "lrscan: %llu UDP ports are open|filtered (reason icmp-ratelimit): their hosts answered other "
                   "ports with ICMP port unreachable but not these, as an ICMP rate limit does. To prove them "
                   "closed, rescan just those ports with --rate 1 (Linux's default ICMP rate; about %llu s)\n",
                   static_cast<unsigned long long>(ss.icmp_ratelimited),
                   static_cast<unsigned long long>(ss.icmp_ratelimited));
    }
    if (ss.silent_hosts > 0) {
      std::fprintf(stderr, "lrscan: %llu hosts answered no %s probe (not listed)\n",
                   static_cast<unsigned long long>(ss.silent_hosts), kind.c_str());
    }
  }
  if (journal) {
    if (stop.requested()) {
      std::fprintf(stderr, "lrscan: progress saved in %s; run the same command again to continue\n",
                   o.resume_file.c_str());
    } else {
      journal->finish();
    }
  }
  if (o.scan.dry_run) {
    std::fprintf(stderr,
                 "lrscan: dry run: %llu probes generated (%llu hosts x %llu ports) in %.2f s; nothing was sent\n",
                 static_cast<unsigned long long>(stats->probes_sent), static_cast<unsigned long long>(targets->size()),
                 static_cast<unsigned long long>(ports.size() + udp_ports.size()), info.elapsed_s);
  }
  if (stop.requested()) {
    std::fprintf(stderr, "lrscan: interrupted: %llu of %llu probes answered; results above are partial\n",
                 static_cast<unsigned long long>(stats->done), static_cast<unsigned long long>(stats->total));
    // Like a shell reports a command killed by the signal: scripts can tell a
    // partial result from a completed scan.
    return 128 + (core::last_signal() > 0 ? core::last_signal() : 2);
  }
  return kExitOk;
}
