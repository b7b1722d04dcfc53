// scan/raw_scan.hpp — the stateless raw scans: TCP SYN (nmap -sS) and UDP
// (nmap -sU); spec lrscan §3, §4.
//
// What: one raw probe per (host, port) pair, built from a template. A SYN
// carries a SipHash cookie as sequence number, so a receive thread recognises
// SYN-ACK (open / syn-ack), RST (closed / reset) and ICMP unreachables quoting
// the SYN (filtered, nmap's reason) by the cookie alone. A UDP probe carries the
// port's service payload (DNS, NTP, SNMP, ...); a UDP reply means open /
// udp-response, an ICMP port unreachable quoting it closed / port-unreach. Nothing
// is kept per probe and memory does not grow with the number of probes. Pairs
// that never answer are re-probed in later rounds (a round is another walk over
// the same permutation that skips answered pairs) and, when their retries are
// used up, reported filtered / no-response (TCP) or open|filtered (UDP; reason
// icmp-ratelimit on hosts whose port unreachables are rate-limited).
//
// Shape: a transmit thread and a receive thread, pinned to two CPUs, sharing only
// atomics: the answered-pair bitmap (written by the receive thread alone), a
// lock-free ring of results to the calling thread, counters, and one RTT sample
// slot. See raw_scan.cpp for the walkthrough, the retry rule and memory bounds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/interrupt.hpp"
#include "core/result.hpp"
#include "scan/connect_scan.hpp"
#include "scan/permutation.hpp"
#include "scan/ports.hpp"
#include "scan/raw_io.hpp"
#include "scan/result.hpp"
#include "scan/resume.hpp"
#include "scan/targets.hpp"
#include "scan/udp_payloads.hpp"

namespace linerate::scan {

struct RawScanConfig {
  /// kTcp: SYN probes (-sS). kUdp: UDP probes with the port's payload (-sU).
  Protocol protocol = Protocol::kTcp;
  /// -sU payloads; null = UdpPayloads::load_default() (ours plus nmap's file).
  const UdpPayloads* udp_payloads = nullptr;
  /// Probes per second, exactly (deadline pacing from an anchor; after a stall
  /// the sender catches up at most 50 ms of probes at once, so bursts are
  /// bounded and the rate over seconds holds on a busy machine).
  /// 0 = the default rate (kDefaultRawRate).
  double rate_pps = 0;
  /// Probes per sendmmsg call, at most; lowered for slow rates so a batch is
  /// never more than about 1 ms of the rate.
  unsigned batch_size = 64;
  /// Re-probe rounds for unanswered pairs, at most. A round runs while it can
  /// still find something (see raw_scan.cpp "Retries"): a clean path costs one.
  unsigned max_retries = 6;
  /// Wait for replies after a round: 2 x smoothed RTT + 4 x its variance, within
  /// [min_wait, max_wait]; initial_wait until the first RTT sample. -sU raises
  /// min_wait to a second (ICMP rate limits; see raw_scan.cpp "Retries").
  std::chrono::milliseconds min_wait{30};
  std::chrono::milliseconds max_wait{1000};
  std::chrono::milliseconds initial_wait{500};
  uint64_t seed = 0;  // permutation order (the cookie key is random per run)
  Shard shard{};      // --shard I/N (0-based here)
  /// --resume: the first walk starts at this position within the shard, and
  /// these pairs are already answered (reported again, never re-probed). Retry
  /// rounds and the final filtered sweep cover the whole shard.
  uint64_t start_k = 0;
  std::span<const JournalAnswer> preanswered;
  int source_port = -1;              // -g; -1 = one port derived from the seed
  int ttl = 64;                      // --ttl (IPv4 TTL and IPv6 hop limit)
  std::string iface;                 // -e
  std::optional<Address> source_v4;  // -S for IPv4 targets
  std::optional<Address> source_v6;  // -S for IPv6 targets
  bool dry_run = false;              // whole transmit pipeline, null sink, no socket
  /// Called about every second from the calling thread with the position the
  /// scan can be resumed from (RawScanConfig::start_k of the next run) and the
  /// round it is in, for --resume checkpoints.
  std::function<void(uint64_t resume_k, unsigned round)> on_checkpoint;
  /// Called from the calling thread for every answer as it is learned (before
  /// the checkpoint that covers it), for the --resume journal.
  std::function<void(const JournalAnswer&)> on_answer;
};

/// One host-discovery probe (nmap's -PE, -PP, -PS<port>, -PA<port>, -PR).
/// kArp (ARP, or IPv6 neighbour discovery) goes only to targets on a directly
/// connected Ethernet segment.
struct DiscoveryProbe {
  enum class Kind : uint8_t { kEcho, kTimestamp, kSyn, kAck, kArp };
  Kind kind = Kind::kEcho;
  uint16_t port = 0;  // kSyn, kAck
  friend bool operator==(const DiscoveryProbe&, const DiscoveryProbe&) = default;
};

/// nmap's default discovery for a privileged user: ARP for IPv4 targets on the
/// local Ethernet segment, and ICMP echo, SYN to 443, ACK to 80, ICMP timestamp
/// (no IPv6 form; skipped there). nmap uses ARP alone on the local segment; we
/// send both, so a host that ignores ARP but answers a ping still counts.
inline const std::vector<DiscoveryProbe>& default_discovery_probes() {
  static const std::vector<DiscoveryProbe> kProbes{{DiscoveryProbe::Kind::kArp, 0},
                                                   {DiscoveryProbe::Kind::kEcho, 0},
                                                   {DiscoveryProbe::Kind::kSyn, 443},
                                                   {DiscoveryProbe::Kind::kAck, 80},
                                                   {DiscoveryProbe::Kind::kTimestamp, 0}};
  return kProbes;
}

/// Probes per second when --rate is not given (scans of up to 65,536 addresses;
/// larger ones must say --rate). Where the machine or path cannot send that
/// fast, the scan simply runs at what it can (this 2-vCPU VM: 150-300k/s).
inline constexpr double kDefaultRawRate = 500'000;

struct RawScanStats {
  ScanProgress progress;          // total, done, probes_sent, retries_sent, open
  uint64_t replies = 0;           // valid replies (first answers and duplicates)
  uint64_t duplicates = 0;        // valid replies for pairs already answered
  uint64_t capture_packets = 0;   // packets the capture ring handed over
  uint64_t capture_drops = 0;     // packets the kernel dropped because the ring was full
  uint64_t send_errors = 0;       // probes the kernel refused
  uint64_t unanswered = 0;        // pairs reported filtered (TCP) or open|filtered (UDP) for lack of an answer
  uint64_t icmp_ratelimited = 0;  // of which (UDP) on hosts that answered other ports with ICMP: rate-limited
  uint64_t silent_hosts = 0;      // hosts without any answer (not listed in big scans)
  unsigned rounds = 0;            // walks over the pairs (1 + re-probe rounds)
  double send_seconds = 0;        // first round: from its first probe to its last
  uint64_t first_round_probes = 0;
  ThreadPlacement placement;
  Route route_v4;
  Route route_v6;
  uint16_t source_port = 0;
};

/// Scans every (host, port) pair of targets x ports in a keyed random order
/// (index i -> x = Permutation(hosts*ports, seed).shuffle(i), host = x % hosts,
/// port = x / hosts, as in connect_scan). on_result: once per pair, from the
/// calling thread. on_progress: about every 250 ms. `debug` > 0 prints the route
/// and thread pinning to stderr. Needs CAP_NET_RAW unless dry_run.
core::Result<RawScanStats> raw_scan(const TargetSet& targets, const PortSet& ports, const RawScanConfig& cfg,
                                    const core::Interrupt& stop,
                                    const std::function<void(const PortResult&)>& on_result,
                                    const std::function<void(const ScanProgress&)>& on_progress, int debug = 0);

/// Host discovery (nmap's default before a port scan, or -sn alone): every probe
/// to every host, stateless like the port scans (cookies in ICMP ids, SYN
/// sequence and ACK numbers), with the same rate, rounds and pinning. Always
/// one whole pass: cfg's shard, start_k, preanswered and callbacks are ignored;
/// on_up is called once per host that answered anything (with nmap's reason:
/// arp-response, nd-response, echo-reply, timestamp-reply, syn-ack or reset), from the
/// calling thread. Hosts that never answer are simply not reported. kArp means
/// ARP for IPv4 and a Neighbor Solicitation for IPv6 (reason nd-response).
core::Result<RawScanStats> discover_hosts(const TargetSet& targets, const std::vector<DiscoveryProbe>& probes,
                                          const RawScanConfig& cfg, const core::Interrupt& stop,
                                          const std::function<void(const Address&, Reason)>& on_up,
                                          const std::function<void(const ScanProgress&)>& on_progress, int debug = 0);

}  // namespace linerate::scan
