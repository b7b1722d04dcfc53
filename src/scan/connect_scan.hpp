// scan/connect_scan.hpp — the TCP connect scan (nmap -sT; spec lrscan §3, §4).
//
// What: probes every (host, port) pair of a TargetSet x PortSet with a
// non-blocking connect() and reports one PortResult per pair in nmap's -sT
// vocabulary:
//   connect succeeded            -> open      / syn-ack
//   ECONNREFUSED                 -> closed    / conn-refused
//   EHOSTUNREACH, EHOSTDOWN      -> filtered  / host-unreach
//   ENETUNREACH, ENETDOWN        -> filtered  / net-unreach
//   EACCES, EPERM                -> filtered  / admin-prohibited
// (Linux maps ICMP to errno: IPv4 type 3 codes 1, 10 and 13 give EHOSTUNREACH,
// ICMPv6 admin-prohibited gives EACCES — so an IPv4 admin-prohibited port reads
// host-unreach, exactly as it does in nmap -sT.)
//   no answer after max_retries  -> filtered  / no-response
// It needs no privileges, so it is the default scan for unprivileged users.
//
// Shape: one epoll set per worker thread (one per core by default), thousands of
// sockets in flight (spec §4 "Connect scan"). The probe order is a keyed permutation of the pair index, so
// memory does not grow with the number of targets; see connect_scan.cpp for the
// loop walkthrough and the exact memory bounds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "core/interrupt.hpp"
#include "core/result.hpp"
#include "scan/ports.hpp"
#include "scan/result.hpp"
#include "scan/targets.hpp"

namespace linerate::scan {

struct ConnectScanConfig {
  /// Connects in flight at most. Lowered automatically to fit RLIMIT_NOFILE
  /// (soft limit minus a reserve of 64 fds; half the limit when it is 128 or
  /// less) and again at run time when socket() reports EMFILE/ENFILE (or
  /// connect() runs out of local ports); fd exhaustion never fails the scan.
  unsigned max_parallelism = 4096;
  std::chrono::milliseconds initial_rtt_timeout{1000};
  std::chrono::milliseconds min_rtt_timeout{100};
  std::chrono::milliseconds max_rtt_timeout{10000};
  /// Re-probes for pairs that timed out (filtered candidates) only; refused,
  /// unreachable and open pairs are final after one answer. An upper bound: a
  /// timed-out pair gets one re-probe more than the most any answered probe has
  /// needed so far (nmap's rule), so a clean path costs one re-probe per
  /// filtered port and a lossy one up to this many.
  unsigned max_retries = 6;
  /// connect() calls per second (token bucket, burst of 10 ms worth), 0 = no
  /// limit. Fractions are allowed: 1/300.0 is one probe every 5 minutes (-T0).
  double max_rate_pps = 0;
  /// Keep at least this many connect() calls per second: while the launch rate
  /// of the last second is lower, the congestion window stops limiting (the fd
  /// cap and max_rate_pps still do). 0 = off. nmap's --min-rate.
  double min_rate_pps = 0;
  /// Worker threads, each with its own epoll set and share of the probes and
  /// limits; 0 = one per core, up to 4 (one for a paced scan under 10,000/s or a
  /// small one). Callbacks still run on the calling thread.
  unsigned threads = 0;
  /// Give up a host this long after its first probe, 0 = never. Its pairs that
  /// have not been answered by then are reported filtered / no-response.
  std::chrono::milliseconds host_timeout{0};
  /// Permutation key: the probe order (same seed, same order).
  uint64_t seed = 0;
  /// --dry-run: the whole probe pipeline (permutation, target and port lookup,
  /// rate limits, progress) with a null sink: no socket is created, nothing is
  /// sent, no PortResult is reported; every pair counts as done and as a probe.
  bool dry_run = false;
};

struct ScanProgress {
  uint64_t total = 0;         // pairs in the scan (hosts x ports)
  uint64_t done = 0;          // pairs with a final result
  uint64_t probes_sent = 0;   // connect() calls, retries included
  uint64_t retries_sent = 0;  // of which re-probes after a timeout
  uint64_t open = 0;          // pairs reported open
  uint64_t in_flight = 0;     // connects waiting for an answer right now
  double elapsed_s = 0;
};

/// Scan every (host, port) of targets x ports in a keyed random order: index i
/// over [0, hosts*ports) maps to x = Permutation(hosts*ports, cfg.seed).shuffle(i),
/// host = targets.nth(x % hosts), port = ports.nth(x / hosts) — the host varies
/// fastest, so one host is not hammered.
///
/// on_result is called exactly once per (host, port) with its final state, from
/// the calling thread (with several workers, in batches up to 20 ms late).
/// on_progress is called about every 250 ms (may be empty).
/// Returns the final progress/stats. Stops early when `stop` is requested: returns
/// what it has, and unfinished pairs get no result. Only ever connects to
/// addresses returned by targets.nth() — the exclusion list is already subtracted
/// in the TargetSet.
///
/// Errors: hosts*ports above 2^64-1; epoll or socket() failing for a reason other
/// than fd/memory exhaustion (e.g. EAFNOSUPPORT for IPv6 on a host without it).
/// Not thread-safe with respect to its arguments; call from one thread.
core::Result<ScanProgress> connect_scan(const TargetSet& targets, const PortSet& ports, const ConnectScanConfig& cfg,
                                        const core::Interrupt& stop,
                                        const std::function<void(const PortResult&)>& on_result,
                                        const std::function<void(const ScanProgress&)>& on_progress);

}  // namespace linerate::scan
