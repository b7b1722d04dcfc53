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
#include "scan/result.hpp"
#include "scan/syn_scan.hpp"
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

// --resume: the file holds what identifies the scan and how far it got. Written
// as a temp file and renamed, so a kill at any moment leaves the old or the new
// state, never half of one.
struct ResumeState {
  uint64_t fingerprint = 0;
  uint64_t start = 0;     // the first position of the interrupted run
  uint64_t position = 0;  // round-0 probes sent so far
  unsigned round = 0;
};

uint64_t fnv(uint64_t h, std::string_view s) {
  for (char c : s) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return h;
}

uint64_t scan_fingerprint(const scan::TargetSet& t, const scan::PortSet& p, const scan::SynScanConfig& c) {
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

std::optional<ResumeState> read_resume(const std::string& path) {
  std::ifstream in(path);
  std::string magic;
  ResumeState s;
  if (!(in >> magic) || magic != "lrscan-resume-1" || !(in >> s.fingerprint >> s.start >> s.position >> s.round)) {
    return std::nullopt;
  }
  return s;
}

bool write_resume(const std::string& path, const ResumeState& s) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "lrscan-resume-1 " << s.fingerprint << " " << s.start << " " << s.position << " " << s.round << "\n";
    if (!out.flush()) {
      return false;
    }
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
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

  // Ports: TCP only in this version.
  const scan::ServiceTable& services = scan::ServiceTable::load_default();
  const scan::ScanProtocols tcp_only{true, false};
  scan::PortSet ports;
  if (!o.ports.empty()) {
    auto ps = scan::parse_port_spec(o.ports, tcp_only, &services);
    if (!ps) {
      return fail(ps.error().message(), kExitUsage);
    }
    if (!ps->udp.empty()) {
      std::fprintf(stderr, "lrscan: warning: UDP ports ignored (UDP scanning is not in this version)\n");
    }
    ports = ps->tcp;
  } else {
    ports = services.top_port_set(scan::Protocol::kTcp, o.top_ports != 0 ? o.top_ports : 1000);
  }
  if (!o.exclude_ports.empty()) {
    auto ex = scan::parse_exclude_ports(o.exclude_ports, &services);
    if (!ex) {
      return fail(ex.error().message(), kExitUsage);
    }
    ports = ports.minus(ex->tcp);
  }
  if (ports.empty()) {
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
  const bool use_syn =
      o.scan_type == scan::cli::ScanType::kSyn || (o.scan_type == scan::cli::ScanType::kDefault && ::geteuid() == 0);
  if (!use_syn && !o.resume_file.empty()) {
    close_all();
    return fail("--resume works with -sS only in this version", kExitUsage);
  }
  scan::SynScanConfig syn = o.syn;
  if (use_syn && !o.source_addr.empty()) {
    auto a = scan::Address::parse(o.source_addr);
    if (a && a->family == scan::Family::kV4) {
      syn.source_v4 = *a;
    } else if (a) {
      syn.source_v6 = *a;
    }
  }
  std::optional<ResumeState> resume;
  if (use_syn && !o.resume_file.empty()) {
    ResumeState fresh{scan_fingerprint(*targets, ports, syn), 0, 0, 0};
    if (auto saved = read_resume(o.resume_file)) {
      if (saved->fingerprint != fresh.fingerprint) {
        close_all();
        return fail("--resume " + o.resume_file +
                        ": it holds another scan (different targets, ports, --seed or --shard); remove it or "
                        "choose another file",
                    kExitUsage);
      }
      // Interrupted in round 0: continue after the last probe sent. In a retry
      // round: the whole first walk was sent; redo the run's part from its start.
      fresh.start = saved->round == 0 ? saved->position : saved->start;
      std::fprintf(stderr, "lrscan: resuming from %s: position %llu of this scan\n", o.resume_file.c_str(),
                   static_cast<unsigned long long>(fresh.start));
    }
    fresh.position = fresh.start;
    syn.start_k = fresh.start;
    resume = fresh;
    syn.on_checkpoint = [&](uint64_t position, unsigned round) {
      resume->position = std::max(position, resume->start);
      resume->round = round;
      if (!write_resume(o.resume_file, *resume)) {
        std::fprintf(stderr, "lrscan: warning: cannot write %s\n", o.resume_file.c_str());
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
  info.scan_type = use_syn ? "syn" : "connect";
  info.services = ports.to_string();
  info.num_services = ports.size();
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
  std::optional<scan::SynScanStats> syn_stats;
  if (use_syn) {
    auto st = scan::syn_scan(*targets, ports, syn, stop, on_result, on_progress, o.debug);
    if (st) {
      syn_stats = *st;
      stats = st->progress;
    } else {
      stats = tl::unexpected(st.error());
    }
  } else {
    stats = scan::connect_scan(*targets, ports, o.scan, stop, on_result, on_progress);
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
  if (syn_stats) {
    const scan::SynScanStats& ss = *syn_stats;
    // The first walk's rate: later rounds are a few probes between waits.
    const double pps =
        ss.send_seconds > 0
            ? static_cast<double>(ss.first_round_probes > 0 ? ss.first_round_probes - 1 : 0) / ss.send_seconds
            : 0;
    if (!o.scan.dry_run) {
      std::fprintf(stderr,
                   "lrscan: syn scan: %llu probes sent (%llu retries, %llu refused by the kernel) at %.0f/s in %u "
                   "rounds; %llu replies (%llu duplicates); %llu capture drops; %llu ports unanswered\n",
                   static_cast<unsigned long long>(ss.progress.probes_sent),
                   static_cast<unsigned long long>(ss.progress.retries_sent),
                   static_cast<unsigned long long>(ss.send_errors), pps, ss.rounds,
                   static_cast<unsigned long long>(ss.replies), static_cast<unsigned long long>(ss.duplicates),
                   static_cast<unsigned long long>(ss.capture_drops), static_cast<unsigned long long>(ss.unanswered));
    }
    if (ss.capture_drops > 0) {
      std::fprintf(stderr,
                   "lrscan: warning: the capture ring dropped %llu packets; some ports may be reported filtered "
                   "wrongly: lower --rate\n",
                   static_cast<unsigned long long>(ss.capture_drops));
    }
    if (ss.silent_hosts > 0) {
      std::fprintf(stderr, "lrscan: %llu hosts answered no probe (not listed)\n",
                   static_cast<unsigned long long>(ss.silent_hosts));
    }
    if (resume) {
      if (stop.requested()) {
        std::fprintf(stderr, "lrscan: progress saved in %s; run the same command again to continue\n",
                     o.resume_file.c_str());
      } else {
        std::remove(o.resume_file.c_str());
      }
    }
  }
  if (o.scan.dry_run) {
    std::fprintf(stderr,
                 "lrscan: dry run: %llu probes generated (%llu hosts x %llu ports) in %.2f s; nothing was sent\n",
                 static_cast<unsigned long long>(stats->probes_sent), static_cast<unsigned long long>(targets->size()),
                 static_cast<unsigned long long>(ports.size()), info.elapsed_s);
  }
  if (stop.requested()) {
    std::fprintf(stderr, "lrscan: interrupted: %llu of %llu probes answered; results above are partial\n",
                 static_cast<unsigned long long>(stats->done), static_cast<unsigned long long>(stats->total));
  }
  return kExitOk;
}
