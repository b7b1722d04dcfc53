// scan/raw_scan.cpp — the stateless raw scans (-sS, -sU). Walkthrough:
//
// Indices. Pair index x in [0, hosts*ports) is host = x % hosts, port index =
// x / hosts (host fastest, as in the connect scan); the probe order is
// i -> x = Permutation(hosts*ports, seed).shuffle(i), restricted to the indices of
// this shard (i % N == I) from position start_k on (resume). The answered bitmap
// is indexed by y = host * ports + port index instead, so one host's pairs are
// contiguous: a host that answers costs ports/8 bytes, a silent one nothing.
//
// Threads (spec §4). The capture ring is open and filtering before the first
// probe leaves.
//  * Transmit (pinned): walks the indices, skips pairs already answered (rounds
//    after the first), builds each probe from the template into a batch buffer
//    and sends the batch with one sendmmsg at its deadline (pacing by absolute
//    deadlines from an anchor, so the long-run rate is exact and a burst is at
//    most one batch; a stall of more than 10 ms is not caught up). No allocation,
//    lock or syscall per probe. It also offers one probe every 10 ms as the RTT
//    sample (a single atomic slot).
//  * Receive (pinned): walks the TPACKET_V3 ring, parses, validates the cookie,
//    maps the reply to y (TargetSet::index_of, PortSet::index_of), sets its bit
//    (first answer wins, later ones count as duplicates) and pushes (y, verdict)
//    into a single-producer/single-consumer ring to the calling thread.
//  * Calling thread: turns ring entries into PortResults for on_result, draws
//    progress, writes checkpoints, and at the end reports every unanswered pair
//    of the scan's domain as filtered / no-response.
//
// Retries. After a round's last probe the transmit thread waits for replies
// (2 srtt + 4 rttvar, clamped; longer while replies still arrive). A pair first
// answered during round r (its probe or a late reply from round r-1: counting it
// as r only makes us retry more) raises max_answered_round. Round r+1 runs while
// some pair is unanswered and r+1 <= max_answered_round + 1 (nmap's rule: one try
// more than any answer needed), and + 2 once any answer needed a retry (a lossy
// path: one empty round is weak evidence there), within max_retries. So a clean
// path costs one re-probe of its filtered ports, and a 1%-lossy one a few short
// rounds instead of guessing. -sU waits at least a second between rounds:
// Linux refills its ICMP budget at one message a second (after a burst of six,
// spec §7), so faster rounds could not see the rate limit that makes a closed
// port look silent.
//
// Memory: the bitmap pages (4 KiB per 32,768 pairs with any answer) behind a
// directory of at most 2^22 slots, mmap'd so untouched slots cost nothing; the
// result ring (64 Ki entries); the capture ring (32 MiB, locked). Nothing else
// grows with the scan.
#include "scan/raw_scan.hpp"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include "scan/discovery_probe.hpp"
#include "scan/siphash.hpp"
#include "scan/syn_probe.hpp"
#include "scan/udp_payloads.hpp"
#include "scan/udp_probe.hpp"

namespace linerate::scan {
namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until_ns(int64_t t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// ---------------------------------------------------------------- AnsweredSet

// A bitmap over [0, n) that only pays for pages with a set bit. One writer (the
// receive thread) and any number of readers; readers may miss a bit being set
// right now, never see a torn page.
class AnsweredSet {
 public:
  static constexpr uint64_t kPageBits = uint64_t{1} << 15;  // 4 KiB pages
  static constexpr uint64_t kMaxSlots = uint64_t{1} << 22;

  explicit AnsweredSet(uint64_t n) {
    uint64_t pages = n / kPageBits + 1;
    uint64_t want = std::min<uint64_t>(kMaxSlots, std::max<uint64_t>(64, pages * 2));
    slots_ = uint64_t{1} << (64 - __builtin_clzll(want - 1));
    mask_ = slots_ - 1;
    void* m = ::mmap(nullptr, slots_ * sizeof(Slot), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    dir_ = m == MAP_FAILED ? nullptr : static_cast<Slot*>(m);  // zero pages until touched
  }
  ~AnsweredSet() {
    if (dir_ == nullptr) {
      return;
    }
    for (uint64_t s = 0; s < slots_; ++s) {
      delete dir_[s].page.load(std::memory_order_relaxed);
    }
    ::munmap(dir_, slots_ * sizeof(Slot));
  }
  AnsweredSet(const AnsweredSet&) = delete;
  AnsweredSet& operator=(const AnsweredSet&) = delete;

  /// Writer only. True when the bit was newly set; false when already set or
  /// when the directory is full (counted in overflow()).
  bool set(uint64_t y) {
    Page* p = find(y / kPageBits, true);
    if (p == nullptr) {
      ++overflow_;
      return false;
    }
    uint64_t bit = y % kPageBits;
    uint64_t mask = uint64_t{1} << (bit % 64);
    auto& w = p->words[bit / 64];
    uint64_t old = w.load(std::memory_order_relaxed);
    if ((old & mask) != 0) {
      return false;
    }
    w.store(old | mask, std::memory_order_release);  // single writer: no RMW needed
    return true;
  }
  [[nodiscard]] bool test(uint64_t y) const {
    Page* p = const_cast<AnsweredSet*>(this)->find(y / kPageBits, false);
    if (p == nullptr) {
      return false;
    }
    uint64_t bit = y % kPageBits;
    return (p->words[bit / 64].load(std::memory_order_acquire) >> (bit % 64) & 1) != 0;
  }
  /// Page numbers with any set bit, ascending (readers; for the final sweep).
  [[nodiscard]] std::vector<uint64_t> pages() const {
    std::vector<uint64_t> out;
    if (dir_ == nullptr) {
      return out;
    }
    for (uint64_t s = 0; s < slots_; ++s) {
      uint64_t k = dir_[s].key.load(std::memory_order_acquire);
      if (k != 0) {
        out.push_back(k - 1);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  [[nodiscard]] uint64_t overflow() const { return overflow_; }

 private:
  struct Page {
    std::array<std::atomic<uint64_t>, kPageBits / 64> words{};
  };
  struct Slot {
    std::atomic<uint64_t> key;  // page number + 1; 0 = empty
    std::atomic<Page*> page;
  };

  Page* find(uint64_t page, bool create) {
    if (dir_ == nullptr) {
      return nullptr;
    }
    uint64_t s = splitmix(page) & mask_;
    for (uint64_t probe = 0; probe < slots_; ++probe, s = (s + 1) & mask_) {
      uint64_t k = dir_[s].key.load(std::memory_order_acquire);
      if (k == page + 1) {
        return dir_[s].page.load(std::memory_order_relaxed);
      }
      if (k == 0) {
        if (!create) {
          return nullptr;
        }
        auto* p = new Page();
        dir_[s].page.store(p, std::memory_order_relaxed);
        dir_[s].key.store(page + 1, std::memory_order_release);
        return p;
      }
    }
    return nullptr;
  }

  Slot* dir_ = nullptr;
  uint64_t slots_ = 0;
  uint64_t mask_ = 0;
  uint64_t overflow_ = 0;
};

// ---------------------------------------------------------------- SPSC ring

struct Event {
  uint64_t y = 0;
  PortState state = PortState::kFiltered;
  Reason reason = Reason::kNoResponse;
  uint8_t round = 0;  // the round running when the answer came (255 = later)
};

class EventRing {
 public:
  static constexpr std::size_t kSize = std::size_t{1} << 16;
  bool push(const Event& e) {
    std::size_t h = head_.load(std::memory_order_relaxed);
    if (h - tail_.load(std::memory_order_acquire) == kSize) {
      return false;
    }
    buf_[h % kSize] = e;
    head_.store(h + 1, std::memory_order_release);
    return true;
  }
  template <typename F>
  std::size_t drain(F&& f) {
    std::size_t t = tail_.load(std::memory_order_relaxed);
    std::size_t h = head_.load(std::memory_order_acquire);
    for (std::size_t k = t; k < h; ++k) {
      f(buf_[k % kSize]);
    }
    tail_.store(h, std::memory_order_release);
    return h - t;
  }

 private:
  std::vector<Event> buf_ = std::vector<Event>(kSize);
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

// ---------------------------------------------------------------- shared state

struct Shared {
  explicit Shared(uint64_t pairs) : answered(pairs) {}
  AnsweredSet answered;
  EventRing events;
  // Transmit side.
  std::atomic<uint64_t> probes{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> position{0};  // resume position within the shard (round 0)
  std::atomic<unsigned> round{0};
  std::atomic<bool> tx_done{false};
  std::atomic<int64_t> first_send_ns{0};
  std::atomic<int64_t> last_send_ns{0};
  std::atomic<int64_t> round0_end_ns{0};
  std::atomic<uint64_t> round0_probes{0};
  // Receive side.
  std::atomic<uint64_t> answered_count{0};
  std::atomic<uint64_t> replies{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<unsigned> max_answered_round{0};
  std::atomic<int64_t> last_reply_ns{0};
  std::atomic<int64_t> srtt_ns{-1};
  std::atomic<int64_t> rttvar_ns{0};
  std::atomic<bool> rx_stop{false};
  // RTT sample slot: tx writes (t, y), rx clears it when y answers.
  std::atomic<uint64_t> sample_y{~uint64_t{0}};
  std::atomic<int64_t> sample_t{0};
};

struct Geometry {
  const TargetSet* targets;
  const PortSet* ports;
  uint64_t hosts;
  uint32_t nports;
  uint64_t pairs;
};

// The probe templates and the cookie for one scan.
struct Prober {
  explicit Prober(SipKey key) : cookie(key), dcookie(key) {}
  Protocol proto = Protocol::kTcp;
  SynCookie cookie;
  DiscoveryCookie dcookie;  // same key: -PS/-PA replies validate with `cookie` too
  const PortSet* ports = nullptr;
  const std::vector<DiscoveryProbe>* probes = nullptr;  // host discovery when set
  std::optional<SynTemplate4> a4;                       // -PA probes
  std::optional<SynTemplate6> a6;
  std::optional<IcmpTemplate4> i4;
  std::optional<IcmpTemplate6> i6;
  std::optional<ArpRequestTemplate> arp;      // -PR, when the IPv4 route is an Ethernet
  std::vector<Range4> on_link4;               // ... and only to these networks
  std::optional<NeighborSolicitTemplate> ns;  // -PR over IPv6 (neighbour discovery)
  std::vector<Range6> on_link6;
  uint32_t ifindex6 = 0;

  [[nodiscard]] bool neighbour_probe(uint32_t pidx) const {
    return probes != nullptr && (*probes)[pidx].kind == DiscoveryProbe::Kind::kArp;
  }
  /// True for probes that leave as Ethernet frames (ARP), not IP packets.
  [[nodiscard]] bool link_frame(const Address& dst, uint32_t pidx) const {
    return dst.family == Family::kV4 && neighbour_probe(pidx);
  }
  /// Where an IP probe goes: its target, except a Neighbor Solicitation, which
  /// goes to the target's solicited-node multicast address on our interface.
  [[nodiscard]] RawPacket ip_packet(std::span<const std::byte> bytes, const Address& dst, uint32_t pidx) const {
    if (dst.family == Family::kV6 && neighbour_probe(pidx)) {
      return RawPacket{bytes, Address::from_wire(true, solicited_node_address(dst.wire6())), ifindex6};
    }
    return RawPacket{bytes, dst};
  }
  [[nodiscard]] bool on_link6_has(const Address& dst) const {
    return std::any_of(on_link6.begin(), on_link6.end(),
                       [&](const Range6& r) { return dst.value >= r.first && dst.value <= r.last; });
  }
  [[nodiscard]] bool on_link(uint32_t ip) const {
    return std::any_of(on_link4.begin(), on_link4.end(),
                       [&](const Range4& r) { return ip >= r.first && ip <= r.last; });
  }
  uint16_t sport = 0;
  std::optional<SynTemplate4> t4;
  std::optional<SynTemplate6> t6;
  std::optional<UdpTemplate4> u4;
  std::optional<UdpTemplate6> u6;
  const UdpPayloads* payloads = nullptr;

  /// Bytes a probe may take: the SYN's 64, the largest UDP probe, or 128 for
  /// discovery.
  [[nodiscard]] std::size_t slot_bytes() const {
    if (probes != nullptr) {
      return 128;  // the largest discovery probe: a Neighbor Solicitation (72)
    }
    return proto == Protocol::kTcp ? 64 : UdpTemplate6::kMaxLen;
  }

  // Builds the probe for `dst`:`port` into out; returns its length (0 = no
  // template for that family).
  std::size_t build(std::span<std::byte> out, const Address& dst, uint32_t pidx) const {
    if (probes != nullptr) {
      return build_discovery(out, dst, (*probes)[pidx]);
    }
    return build_port(out, dst, ports->nth(pidx));
  }

  // One host-discovery probe (nmap -PE/-PP/-PS/-PA). ICMP ids carry the cookie;
  // an ACK probe carries it as its ack number, so the RST answering it (seq =
  // that ack) validates statelessly. Timestamp requests have no IPv6 form.
  std::size_t build_discovery(std::span<std::byte> out, const Address& dst, const DiscoveryProbe& pr) const {
    const bool v4 = dst.family == Family::kV4;
    const uint32_t d4 = v4 ? dst.v4_value() : 0;
    const Ip6Bytes d6 = v4 ? Ip6Bytes{} : dst.wire6();
    const auto id = static_cast<uint16_t>(splitmix(static_cast<uint64_t>(dst.value)));
    switch (pr.kind) {
      case DiscoveryProbe::Kind::kEcho:
        if (v4) {
          return i4 ? i4->build_echo(out, d4, dcookie.echo4(i4_src, d4), id) : 0;
        }
        return i6 ? i6->build_echo(out, d6, dcookie.echo6(src6, d6)) : 0;
      case DiscoveryProbe::Kind::kTimestamp:
        return v4 && i4 ? i4->build_timestamp(out, d4, dcookie.timestamp4(i4_src, d4), id) : 0;
      case DiscoveryProbe::Kind::kArp:
        if (v4) {
          return arp && on_link(d4) ? arp->build(out, d4) : 0;
        }
        return ns && on_link6_has(dst) ? ns->build(out, d6) : 0;
      case DiscoveryProbe::Kind::kSyn:
        return build_port(out, dst, pr.port);
      case DiscoveryProbe::Kind::kAck:
        if (v4) {
          if (!a4) {
            return 0;
          }
          uint32_t c = cookie.cookie(Tuple4{i4_src, d4, sport, pr.port});
          return a4->build(out, d4, sport, pr.port, c, id, c);
        }
        if (!a6) {
          return 0;
        }
        uint32_t c = cookie.cookie(Tuple6{src6, d6, sport, pr.port});
        return a6->build(out, d6, sport, pr.port, c, c);
    }
    return 0;
  }

  std::size_t build_port(std::span<std::byte> out, const Address& dst, uint16_t port) const {
    const bool v4 = dst.family == Family::kV4;
    if (proto == Protocol::kUdp) {
      // UDP carries no cookie (the payload is the service's request): replies are
      // recognised by our address and source port, ICMP errors by the quote.
      const UdpPayload& pl = payloads->for_port(port);
      if (v4) {
        auto id = static_cast<uint16_t>(splitmix(uint64_t{dst.v4_value()} << 16 | port));
        return u4 ? u4->build(out, dst.v4_value(), sport, port, pl, id) : 0;
      }
      return u6 ? u6->build(out, dst.wire6(), sport, port, pl) : 0;
    }
    if (v4) {
      if (!t4) {
        return 0;
      }
      uint32_t c = cookie.cookie(Tuple4{t4->src_ip(), dst.v4_value(), sport, port});
      return t4->build(out, dst.v4_value(), sport, port, c, static_cast<uint16_t>(c >> 16));
    }
    if (!t6) {
      return 0;
    }
    Ip6Bytes d = dst.wire6();
    uint32_t c = cookie.cookie(Tuple6{t6->src_ip(), d, sport, port});
    return t6->build(out, d, sport, port, c);
  }

  [[nodiscard]] bool our_source(bool v6, const Ip6Bytes& src) const {
    if (v6) {
      return src == src6;
    }
    return std::equal(src.begin(), src.begin() + 4, src4.begin());
  }
  Ip6Bytes src4{};  // our IPv4 address in the first 4 bytes (wire order)
  Ip6Bytes src6{};
  uint32_t i4_src = 0;  // our IPv4 address, host order
};

Address reply_source(const Reply& r) { return Address::from_wire(r.v6, r.src); }

// ---------------------------------------------------------------- transmit

struct TxPlan {
  const RawScanConfig* cfg;
  Geometry g;
  Permutation perm;
  const Prober* prober;
  RawSender* send4;  // null in dry run / no IPv4 targets
  RawSender* send6;
  LinkSender* send_link;  // ARP frames (discovery on an Ethernet), else null
  int cpu;
  const core::Interrupt* stop;
  int debug;
};

class Transmitter {
 public:
  Transmitter(const TxPlan& plan, Shared& sh) : p_(plan), sh_(sh) {
    double rate = p_.cfg->rate_pps;
    unlimited_ = p_.cfg->dry_run && rate <= 0;
    if (rate <= 0) {
      rate = kDefaultRawRate;
    }
    rate_ = rate;
    // A batch is at most ~1 ms of the rate (a bounded burst), at least 1 probe.
    batch_ = static_cast<unsigned>(std::clamp(rate / 1000.0, 1.0, static_cast<double>(p_.cfg->batch_size)));
    if (unlimited_) {
      batch_ = std::max(1U, p_.cfg->batch_size);
    }
    slot_ = p_.prober->slot_bytes();
    buf_.resize(std::size_t{batch_} * slot_);
    pkts4_.reserve(batch_);
    pkts6_.reserve(batch_);
  }

  void run() {
    pin_this_thread(p_.cpu);
    const RawScanConfig& cfg = *p_.cfg;
    const uint64_t shard_n = shard_size(p_.g.pairs, cfg.shard);
    const unsigned max_round = cfg.dry_run ? 0 : cfg.max_retries;
    const int64_t start_ns = now_ns();
    for (unsigned r = 0; r <= max_round && !stopped(); ++r) {
      sh_.round.store(r, std::memory_order_relaxed);
      for (uint64_t k = r == 0 ? cfg.start_k : 0; k < shard_n; ++k) {
        if ((k & 255) == 0 && stopped()) {
          break;
        }
        uint64_t x = p_.perm.shuffle(shard_nth(cfg.shard, k));
        uint64_t host = x % p_.g.hosts;
        auto pidx = static_cast<uint32_t>(x / p_.g.hosts);
        uint64_t y = host * p_.g.nports + pidx;
        if (r > 0 && sh_.answered.test(y)) {
          continue;
        }
        queue(p_.g.targets->nth(host), pidx, y, r > 0);
        if (r == 0) {
          pending_position_ = k + 1;
        }
      }
      flush();
      if (r == 0) {
        sh_.round0_probes.store(sh_.probes.load(std::memory_order_relaxed), std::memory_order_relaxed);
        sh_.round0_end_ns.store(sh_.last_send_ns.load(std::memory_order_relaxed), std::memory_order_relaxed);
      }
      if (stopped() || cfg.dry_run) {
        break;
      }
      const int64_t sent_at = now_ns();
      wait_for_replies();
      if (p_.debug > 0) {
        std::fprintf(stderr,
                     "lrscan: debug: round %u: %llu probes in all, sent by %.3f s, waited %.3f s (srtt %.2f ms, "
                     "rttvar %.2f ms), %llu pairs answered\n",
                     r, static_cast<unsigned long long>(sh_.probes.load()),
                     static_cast<double>(sent_at - start_ns) / 1e9, static_cast<double>(now_ns() - sent_at) / 1e9,
                     static_cast<double>(sh_.srtt_ns.load()) / 1e6, static_cast<double>(sh_.rttvar_ns.load()) / 1e6,
                     static_cast<unsigned long long>(sh_.answered_count.load()));
      }
      if (!another_round(r + 1)) {
        break;
      }
    }
    sh_.tx_done.store(true, std::memory_order_release);
  }

 private:
  bool stopped() const { return p_.stop->requested(); }

  void queue(const Address& dst, uint32_t pidx, uint64_t y, bool retry) {
    std::size_t slot = pkts4_.size() + pkts6_.size() + frames_.size();
    std::span<std::byte> out(buf_.data() + slot * slot_, slot_);
    std::size_t len = p_.prober->build(out, dst, pidx);
    if (len == 0) {
      return;
    }
    if (p_.prober->link_frame(dst, pidx)) {
      frames_.push_back(out.first(len));
    } else {
      (dst.family == Family::kV4 ? pkts4_ : pkts6_).push_back(p_.prober->ip_packet(out.first(len), dst, pidx));
    }
    retries_pending_ += retry ? 1 : 0;
    if (sample_y_ == ~uint64_t{0}) {
      sample_y_ = y;
    }
    if (pkts4_.size() + pkts6_.size() + frames_.size() >= batch_) {
      flush();
    }
  }

  void flush() {
    std::size_t n = pkts4_.size() + pkts6_.size() + frames_.size();
    if (n == 0) {
      return;
    }
    pace(n);
    if (!p_.cfg->dry_run) {
      // Offer the batch's first probe as the RTT sample when the slot is free or
      // its probe never answered (a filtered port) within a second.
      int64_t t = now_ns();
      if (t - last_sample_ns_ >= 10'000'000) {
        uint64_t cur = sh_.sample_y.load(std::memory_order_acquire);
        if (cur == ~uint64_t{0} || t - sh_.sample_t.load(std::memory_order_relaxed) > 1'000'000'000) {
          sh_.sample_t.store(t, std::memory_order_relaxed);
          sh_.sample_y.store(sample_y_, std::memory_order_release);
          last_sample_ns_ = t;
        }
      }
      if (!pkts4_.empty() && p_.send4 != nullptr) {
        p_.send4->send(pkts4_);
      }
      if (!pkts6_.empty() && p_.send6 != nullptr) {
        p_.send6->send(pkts6_);
      }
      if (!frames_.empty() && p_.send_link != nullptr) {
        p_.send_link->send(frames_);
      }
    }
    int64_t t = now_ns();
    int64_t zero = 0;
    sh_.first_send_ns.compare_exchange_strong(zero, t, std::memory_order_relaxed);
    sh_.last_send_ns.store(t, std::memory_order_relaxed);
    sh_.probes.fetch_add(n, std::memory_order_relaxed);
    sh_.retries.fetch_add(retries_pending_, std::memory_order_relaxed);
    sh_.position.store(pending_position_, std::memory_order_relaxed);
    retries_pending_ = 0;
    sample_y_ = ~uint64_t{0};
    pkts4_.clear();
    pkts6_.clear();
    frames_.clear();
  }

  // Waits until `n` more probes may leave: deadline = anchor + sent / rate.
  void pace(std::size_t n) {
    if (unlimited_) {
      return;
    }
    int64_t t = now_ns();
    if (anchor_ns_ == 0) {
      anchor_ns_ = t;
      paced_ = 0;
    }
    auto due = anchor_ns_ + static_cast<int64_t>(static_cast<double>(paced_) * 1e9 / rate_);
    // Behind schedule (the thread was descheduled, the send buffer was full):
    // catch up, so the rate over seconds stays exact on a busy machine, but
    // never by more than 50 ms of probes at once; a longer stall is forgiven
    // (re-anchored) instead of turning into a burst.
    const auto max_lag = std::max<int64_t>(50'000'000, static_cast<int64_t>(2e9 * batch_ / rate_));
    if (t > due + max_lag) {
      anchor_ns_ = t;
      paced_ = 0;
      due = t;
    }
    if (due - t > 200'000) {
      sleep_until_ns(due - 100'000);
    }
    while (now_ns() < due) {
      // spin the last 100 us: nanosleep overshoots by ~60 us
    }
    paced_ += n;
  }

  [[nodiscard]] int64_t wait_ns() const {
    const RawScanConfig& cfg = *p_.cfg;
    int64_t srtt = sh_.srtt_ns.load(std::memory_order_relaxed);
    int64_t w = srtt < 0 ? std::chrono::nanoseconds(cfg.initial_wait).count()
                         : 2 * srtt + 4 * sh_.rttvar_ns.load(std::memory_order_relaxed);
    return std::clamp<int64_t>(w, std::chrono::nanoseconds(cfg.min_wait).count(),
                               std::chrono::nanoseconds(cfg.max_wait).count());
  }

  // After a round's last probe: wait one timeout, and longer while replies keep
  // coming (a reply within the last half timeout), up to max_wait more.
  void wait_for_replies() {
    int64_t start = now_ns();
    int64_t hard_end = start + std::chrono::nanoseconds(p_.cfg->max_wait).count() + wait_ns();
    while (!stopped()) {
      int64_t t = now_ns();
      int64_t w = wait_ns();
      int64_t last = sh_.last_reply_ns.load(std::memory_order_relaxed);
      if ((t >= start + w && t >= last + w / 2) || t >= hard_end) {
        return;
      }
      if (sh_.answered_count.load(std::memory_order_acquire) >= domain_pairs()) {
        return;  // everything answered: nothing more to wait for
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  [[nodiscard]] uint64_t domain_pairs() const { return shard_size(p_.g.pairs, p_.cfg->shard); }

  [[nodiscard]] bool another_round(unsigned next) const {
    if (sh_.answered_count.load(std::memory_order_acquire) >= domain_pairs()) {
      return false;
    }
    unsigned m = sh_.max_answered_round.load(std::memory_order_acquire);
    unsigned allowed = m == 0 ? 1 : m + 2;
    return next <= allowed;
  }

  TxPlan p_;
  Shared& sh_;
  double rate_ = 0;
  bool unlimited_ = false;
  unsigned batch_ = 1;
  std::size_t slot_ = 64;
  std::vector<std::byte> buf_;
  std::vector<RawPacket> pkts4_;
  std::vector<RawPacket> pkts6_;
  std::vector<std::span<const std::byte>> frames_;
  uint64_t retries_pending_ = 0;
  uint64_t pending_position_ = 0;
  uint64_t sample_y_ = ~uint64_t{0};
  int64_t last_sample_ns_ = 0;
  int64_t anchor_ns_ = 0;
  uint64_t paced_ = 0;
};

// ---------------------------------------------------------------- receive

class Receiver {
 public:
  Receiver(Geometry g, const Prober& prober, CaptureRing& ring, Shared& sh, int cpu)
      : g_(g), prober_(prober), ring_(ring), sh_(sh), cpu_(cpu) {}

  void run() {
    pin_this_thread(cpu_);
    while (!sh_.rx_stop.load(std::memory_order_acquire)) {
      ring_.poll(5, [&](std::span<const std::byte> pkt) { on_packet(pkt); });
      CaptureStats st = ring_.take_stats();
      stats_.packets += st.packets;
      stats_.drops += st.drops;
    }
    // Whatever is already in the ring still counts.
    ring_.poll(0, [&](std::span<const std::byte> pkt) { on_packet(pkt); });
    CaptureStats st = ring_.take_stats();
    stats_.packets += st.packets;
    stats_.drops += st.drops;
  }

  [[nodiscard]] CaptureStats stats() const { return stats_; }

 private:
  void on_packet(std::span<const std::byte> pkt) {
    if (prober_.probes != nullptr) {
      on_discovery(pkt);
      return;
    }
    if (prober_.proto == Protocol::kUdp) {
      on_udp_scan_event(pkt);
      return;
    }
    auto r = parse_reply(pkt);
    if (!r) {
      on_icmp(pkt);
      return;
    }
    if (r->dport != prober_.sport) {
      return;
    }
    // The cookie also binds our source address: a reply to a probe from another
    // address cannot validate.
    ReplyKind kind = prober_.cookie.classify(*r);
    if (kind == ReplyKind::kSynAck) {
      answer(reply_source(*r), r->sport, PortState::kOpen, Reason::kSynAck);
    } else if (kind == ReplyKind::kRst) {
      answer(reply_source(*r), r->sport, PortState::kClosed, Reason::kReset);
    }
  }

  // An ICMP destination unreachable quoting one of our SYNs (spec §3: filtered,
  // with nmap's reason for the code). The quote carries the SYN's sequence
  // number, which must be our cookie for the quoted tuple; a quote too short to
  // hold it cannot be proven ours and is ignored (the pair is retried).
  void on_icmp(std::span<const std::byte> pkt) {
    auto e = parse_scan_event(pkt);
    if (!e || e->kind != ScanEvent::Kind::kIcmpUnreach || e->quoted.proto != kIpProtoTcp || !e->quoted.has_seq ||
        e->quoted.sport != prober_.sport) {
      return;
    }
    uint32_t want = 0;
    if (e->v6) {
      Tuple6 t = e->probe_tuple6();
      if (!prober_.t6 || t.src_ip != prober_.t6->src_ip()) {
        return;
      }
      want = prober_.cookie.cookie(t);
    } else {
      Tuple4 t = e->probe_tuple4();
      if (!prober_.t4 || t.src_ip != prober_.t4->src_ip()) {
        return;
      }
      want = prober_.cookie.cookie(t);
    }
    auto v = verdict_for(*e);
    if (want != e->quoted.seq || !v) {
      return;
    }
    answer(Address::from_wire(e->v6, e->quoted.dst), e->quoted.dport, v->state, v->reason);
  }

  // -sU: a datagram from a scanned port to our source port is open /
  // udp-response; an ICMP unreachable quoting our probe (our address and source
  // port, UDP) gives closed / port-unreach or filtered (spec §3).
  void on_udp_scan_event(std::span<const std::byte> pkt) {
    auto e = parse_scan_event(pkt);
    if (!e) {
      return;
    }
    if (e->kind == ScanEvent::Kind::kUdp) {
      if (e->dport == prober_.sport && prober_.our_source(e->v6, e->dst)) {
        answer(Address::from_wire(e->v6, e->src), e->sport, PortState::kOpen, Reason::kUdpResponse);
      }
      return;
    }
    if (e->kind != ScanEvent::Kind::kIcmpUnreach || e->quoted.proto != kIpProtoUdp ||
        e->quoted.sport != prober_.sport || !prober_.our_source(e->v6, e->quoted.src)) {
      return;
    }
    if (auto v = verdict_for(*e)) {
      answer(Address::from_wire(e->v6, e->quoted.dst), e->quoted.dport, v->state, v->reason);
    }
  }

  // Host discovery: any valid answer (echo or timestamp reply, SYN-ACK or RST
  // carrying our cookie) means the host is up; all its probes count as answered
  // so no retry goes to it. The event's y is the host's first pair.
  void on_discovery(std::span<const std::byte> pkt) {
    const unsigned version = pkt.empty() ? 0 : std::to_integer<unsigned>(pkt[0]) >> 4;
    if (version != 4 && version != 6) {
      on_arp(pkt);
      return;
    }
    auto r = parse_discovery_reply(pkt);
    if (!r || !prober_.our_source(r->v6, r->dst)) {
      return;
    }
    if (r->kind == DiscoveryKind::kNeighborAdvert) {
      // No cookie in ND: the advertised target must be one of ours (host_up
      // checks), sent to our address, and we must have solicited (the parser
      // checked hop limit 255).
      if (prober_.ns) {
        host_up(Address::from_wire(true, r->target), Reason::kNdResponse);
      }
      return;
    }
    if (!prober_.dcookie.valid(*r)) {
      return;
    }
    if ((r->kind == DiscoveryKind::kTcpSynAck || r->kind == DiscoveryKind::kTcpReset) &&
        r->tcp.dport != prober_.sport) {
      return;
    }
    Reason why = Reason::kSynAck;
    switch (r->kind) {
      case DiscoveryKind::kEchoReply4:
      case DiscoveryKind::kEchoReply6:
        why = Reason::kEchoReply;
        break;
      case DiscoveryKind::kTimestampReply4:
        why = Reason::kTimestampReply;
        break;
      case DiscoveryKind::kTcpReset:
        why = Reason::kReset;
        break;
      default:
        break;
    }
    host_up(Address::from_wire(r->v6, r->src), why);
  }

  // An ARP reply (captured from the ARP header on) to our address from a
  // target: up. ARP has no cookie; the sender must be a target and the reply
  // addressed to our IPv4 address.
  void on_arp(std::span<const std::byte> pkt) {
    auto a = parse_arp_reply(pkt);
    if (!a || !prober_.arp || a->target_ip != prober_.i4_src) {
      return;
    }
    host_up(Address::v4(a->sender_ip), Reason::kArpResponse);
  }

  void host_up(const Address& from, Reason why) {
    auto host = g_.targets->index_of(from);
    if (!host) {
      return;
    }
    const uint64_t y0 = *host * g_.nports;
    uint64_t newly = 0;
    for (uint64_t k = 0; k < g_.nports; ++k) {
      newly += sh_.answered.set(y0 + k) ? 1 : 0;
    }
    count_reply();
    publish(Event{y0, PortState::kOpen, why, 0}, newly);
  }

  void answer(const Address& from, uint16_t port, PortState state, Reason reason) {
    auto host = g_.targets->index_of(from);
    int64_t pidx = g_.ports->index_of(port);
    if (!host || pidx < 0) {
      return;  // a valid cookie for a pair we did not probe: not ours
    }
    uint64_t y = *host * g_.nports + static_cast<uint64_t>(pidx);
    const int64_t t = count_reply();
    if (y == sh_.sample_y.load(std::memory_order_acquire)) {
      rtt_sample(t - sh_.sample_t.load(std::memory_order_relaxed));
      sh_.sample_y.store(~uint64_t{0}, std::memory_order_release);
    }
    publish(Event{y, state, reason, 0}, sh_.answered.set(y) ? 1 : 0);
  }

  // Every valid reply counts, first answers and duplicates alike. Returns now.
  int64_t count_reply() {
    const int64_t t = now_ns();
    sh_.replies.fetch_add(1, std::memory_order_relaxed);
    sh_.last_reply_ns.store(t, std::memory_order_relaxed);
    return t;
  }

  // `newly` pairs were answered for the first time by this reply (0: a
  // duplicate): hand the event to the calling thread, stamped with the round.
  void publish(Event e, uint64_t newly) {
    if (newly == 0) {
      sh_.duplicates.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    unsigned round = sh_.round.load(std::memory_order_relaxed);
    if (round > sh_.max_answered_round.load(std::memory_order_relaxed)) {
      sh_.max_answered_round.store(round, std::memory_order_release);
    }
    e.round = static_cast<uint8_t>(std::min(round, 255U));
    while (!sh_.events.push(e)) {
      std::this_thread::yield();  // the caller drains every millisecond; the kernel ring buffers meanwhile
    }
    sh_.answered_count.fetch_add(newly, std::memory_order_release);
  }

  // RFC 6298 smoothing, as the connect scan does.
  void rtt_sample(int64_t rtt) {
    if (rtt < 0) {
      return;
    }
    int64_t srtt = sh_.srtt_ns.load(std::memory_order_relaxed);
    int64_t var = sh_.rttvar_ns.load(std::memory_order_relaxed);
    if (srtt < 0) {
      srtt = rtt;
      var = rtt / 2;
    } else {
      var = (3 * var + std::abs(srtt - rtt)) / 4;
      srtt = (7 * srtt + rtt) / 8;
    }
    sh_.rttvar_ns.store(var, std::memory_order_relaxed);
    sh_.srtt_ns.store(srtt, std::memory_order_relaxed);
  }

  Geometry g_;
  const Prober& prober_;
  CaptureRing& ring_;
  Shared& sh_;
  int cpu_;
  CaptureStats stats_;
};

// ---------------------------------------------------------------- helpers

uint16_t pick_source_port(const RawScanConfig& cfg) {
  if (cfg.source_port >= 0) {
    return static_cast<uint16_t>(cfg.source_port);
  }
  // Above the usual ephemeral range's busiest part and below 61000.
  return static_cast<uint16_t>(40000 + splitmix(cfg.seed ^ 0x5eed) % 20000);
}

// A fresh key per run: the order may be reproducible (--seed), the cookie must
// not be predictable, or a third party could forge replies.
SipKey cookie_key() {
  std::random_device rd;
  auto word = [&] { return (uint64_t{rd()} << 32) ^ rd(); };
  return SipKey{word(), word()};
}

void debug_line(int debug, const std::string& s) {
  if (debug > 0) {
    std::fprintf(stderr, "lrscan: debug: %s\n", s.c_str());
  }
}

}  // namespace

namespace {

// The port scans and host discovery share everything but what a pair's second
// coordinate means: a port (ports != null) or a discovery probe (probes != null).
core::Result<RawScanStats> run(const TargetSet& targets, const PortSet* ports_in,
                               const std::vector<DiscoveryProbe>* probes, const RawScanConfig& cfg_in,
                               const core::Interrupt& stop, const std::function<void(const PortResult&)>& on_result,
                               const std::function<void(const Address&, Reason)>& on_up,
                               const std::function<void(const ScanProgress&)>& on_progress, int debug) {
  RawScanConfig tuned = cfg_in;
  if (probes == nullptr && tuned.protocol == Protocol::kUdp) {
    tuned.min_wait = std::max(tuned.min_wait, std::chrono::milliseconds(1000));  // see "Retries" above
    tuned.max_wait = std::max(tuned.max_wait, tuned.min_wait);
  }
  const RawScanConfig& cfg = tuned;
  RawScanStats stats;
  static const PortSet kNoPorts;
  const PortSet& ports = ports_in != nullptr ? *ports_in : kNoPorts;
  const bool discovery = probes != nullptr;
  Geometry g{&targets, &ports, targets.size(), discovery ? static_cast<uint32_t>(probes->size()) : ports.size(), 0};
  if (g.hosts == 0 || g.nports == 0) {
    return stats;
  }
  if (g.hosts > ~uint64_t{0} / g.nports) {
    return core::fail("the scan has more than 2^64 (host, port) pairs; split it");
  }
  if (!cfg.shard.valid()) {
    return core::fail("--shard: invalid shard");
  }
  g.pairs = g.hosts * g.nports;
  stats.progress.total = shard_size(g.pairs, cfg.shard);

  Prober prober{cookie_key()};
  prober.proto = discovery ? Protocol::kTcp : cfg.protocol;
  prober.ports = &ports;
  prober.probes = probes;
  prober.sport = pick_source_port(cfg);
  if (cfg.protocol == Protocol::kUdp) {
    prober.payloads = cfg.udp_payloads != nullptr ? cfg.udp_payloads : &UdpPayloads::load_default();
  }
  stats.source_port = prober.sport;
  const bool has4 = targets.size_v4() > 0;
  const bool has6 = targets.size_v6() > 0;
  std::optional<RawSender> send4;
  std::optional<RawSender> send6;
  std::optional<LinkSender> send_link;
  std::optional<CaptureRing> ring;
  auto ttl = static_cast<uint8_t>(std::clamp(cfg.ttl, 1, 255));
  if (has4) {
    if (cfg.dry_run) {
      stats.route_v4.source = cfg.source_v4.value_or(Address::v4(0x0a000001));  // any address: nothing leaves
    } else {
      auto r = find_route(targets.nth(0), cfg.iface, cfg.source_v4);
      if (!r) {
        return tl::unexpected(r.error());
      }
      stats.route_v4 = *r;
    }
    uint32_t src4 = stats.route_v4.source.v4_value();
    prober.i4_src = src4;
    if (prober.proto == Protocol::kUdp) {
      prober.u4.emplace(src4, ttl);
    } else {
      prober.t4.emplace(src4, ttl);
    }
    if (discovery) {
      prober.a4.emplace(src4, ttl, uint16_t{1024}, uint16_t{1460}, kTcpAck);
      prober.i4.emplace(src4, ttl);
      const bool wants_arp = std::any_of(probes->begin(), probes->end(),
                                         [](const DiscoveryProbe& p) { return p.kind == DiscoveryProbe::Kind::kArp; });
      if (wants_arp && !cfg.dry_run) {
        LinkInfo li = link_info(stats.route_v4);
        if (li.ethernet && stats.route_v4.ifindex > 0) {
          prober.arp.emplace(li.mac, src4);
          prober.on_link4 = li.on_link4;
        }
      }
    }
    prober.src4 = {static_cast<uint8_t>(src4 >> 24), static_cast<uint8_t>(src4 >> 16), static_cast<uint8_t>(src4 >> 8),
                   static_cast<uint8_t>(src4)};
  }
  if (has6) {
    if (cfg.dry_run) {
      stats.route_v6.source = cfg.source_v6.value_or(Address::v6(U128{1}));
    } else {
      auto r = find_route(targets.nth(targets.size_v4()), cfg.iface, cfg.source_v6);
      if (!r) {
        return tl::unexpected(r.error());
      }
      stats.route_v6 = *r;
    }
    prober.src6 = stats.route_v6.source.wire6();
    if (prober.proto == Protocol::kUdp) {
      prober.u6.emplace(prober.src6, ttl);
    } else {
      prober.t6.emplace(prober.src6, ttl);
    }
    if (discovery) {
      prober.a6.emplace(prober.src6, ttl, uint16_t{1024}, uint16_t{1440}, kTcpAck);
      prober.i6.emplace(prober.src6, ttl);
      const bool wants_nd = std::any_of(probes->begin(), probes->end(),
                                        [](const DiscoveryProbe& p) { return p.kind == DiscoveryProbe::Kind::kArp; });
      if (wants_nd && !cfg.dry_run) {
        LinkInfo li = link_info(stats.route_v6);
        if (li.ethernet && stats.route_v6.ifindex > 0) {
          prober.ns.emplace(prober.src6, li.mac);
          prober.on_link6 = li.on_link6;
          prober.ifindex6 = static_cast<uint32_t>(stats.route_v6.ifindex);
        }
      }
    }
  }
  std::string iface = has4 ? stats.route_v4.iface : stats.route_v6.iface;
  int ifindex = has4 ? stats.route_v4.ifindex : stats.route_v6.ifindex;
  if (has4 && has6 && stats.route_v4.ifindex != stats.route_v6.ifindex) {
    ifindex = 0;  // two interfaces: capture on all
  }
  if (!cfg.dry_run) {
    // The receive path first, so no early reply is missed (spec §4).
    // About 250 ms of replies at the send rate (~128 B a frame), 8-64 MiB.
    double rate = cfg.rate_pps > 0 ? cfg.rate_pps : kDefaultRawRate;
    auto ring_bytes = static_cast<std::size_t>(std::clamp(rate * 128 / 4, 8.0 * (1 << 20), 64.0 * (1 << 20)));
    auto cr = CaptureRing::open(
        ifindex,
        CaptureFilter{prober.proto == Protocol::kTcp ? prober.sport : uint16_t{0},
                      prober.proto == Protocol::kUdp ? prober.sport : uint16_t{0}, true, prober.arp.has_value()},
        ring_bytes);
    if (!cr) {
      return tl::unexpected(cr.error());
    }
    ring.emplace(std::move(*cr));
    if (has4) {
      auto s = RawSender::open(Family::kV4, cfg.iface);
      if (!s) {
        return tl::unexpected(s.error());
      }
      send4.emplace(std::move(*s));
    }
    if (prober.arp) {
      auto s = LinkSender::open(stats.route_v4.ifindex);
      if (!s) {
        return tl::unexpected(s.error());
      }
      send_link.emplace(std::move(*s));
    }
    if (has6) {
      auto s = RawSender::open(Family::kV6, cfg.iface);
      if (!s) {
        return tl::unexpected(s.error());
      }
      send6.emplace(std::move(*s));
    }
  }
  stats.placement = place_threads(iface);
  if (debug > 0) {
    if (has4) {
      debug_line(debug, "IPv4 probes from " + stats.route_v4.source.to_string() + " via " +
                            (stats.route_v4.iface.empty() ? "?" : stats.route_v4.iface));
    }
    if (has6) {
      debug_line(debug, "IPv6 probes from " + stats.route_v6.source.to_string() + " via " +
                            (stats.route_v6.iface.empty() ? "?" : stats.route_v6.iface));
    }
    debug_line(debug, "source port " + std::to_string(prober.sport) + "; transmit thread on CPU " +
                          std::to_string(stats.placement.tx_cpu) + ", receive thread on CPU " +
                          std::to_string(stats.placement.rx_cpu) + " (" + stats.placement.why + ")");
  }

  Shared sh(g.pairs);
  std::vector<Event> preloaded;
  // -sU: hosts whose port unreachables came only after retries, the mark of an
  // ICMP rate limit (a host that answers every probe at once is not limited).
  std::unordered_set<uint64_t> icmp_limited_hosts;
  TxPlan plan{&cfg,
              g,
              Permutation(g.pairs, cfg.seed),
              &prober,
              send4 ? &*send4 : nullptr,
              send6 ? &*send6 : nullptr,
              send_link ? &*send_link : nullptr,
              stats.placement.tx_cpu,
              &stop,
              debug};
  // Answers from an interrupted run (--resume): reported again, never re-probed.
  for (const JournalAnswer& a : cfg.preanswered) {
    if (a.y < g.pairs && sh.answered.set(a.y)) {
      sh.answered_count.fetch_add(1, std::memory_order_relaxed);
      preloaded.push_back(Event{a.y, a.state, a.reason});
    }
  }
  std::optional<Receiver> receiver;
  std::thread rx_thread;
  if (ring) {
    receiver.emplace(g, prober, *ring, sh, stats.placement.rx_cpu);
    rx_thread = std::thread([&] { receiver->run(); });
  }
  Transmitter tx(plan, sh);
  std::thread tx_thread([&] { tx.run(); });

  const auto t0 = Clock::now();
  auto last_progress = t0;
  auto last_checkpoint = t0;
  auto report = [&](const Event& e) {
    uint64_t host = e.y / g.nports;
    auto pidx = static_cast<uint32_t>(e.y % g.nports);
    if (discovery) {
      ++stats.progress.done;
      ++stats.progress.open;  // hosts up
      on_up(targets.nth(host), e.reason);
      return;
    }
    PortResult r;
    r.addr = targets.nth(host);
    r.port = ports.nth(pidx);
    r.proto = cfg.protocol;
    if (e.reason == Reason::kPortUnreach && e.round > 0) {
      icmp_limited_hosts.insert(host);  // its port unreachables needed retries: rate-limited
    }
    r.state = e.state;
    r.reason = e.reason;
    stats.progress.open += e.state == PortState::kOpen ? 1 : 0;
    ++stats.progress.done;
    on_result(r);
  };
  auto answer = [&](const Event& e) {
    report(e);
    if (cfg.on_answer) {
      cfg.on_answer(JournalAnswer{e.y, e.state, e.reason});
    }
  };
  for (const Event& e : preloaded) {
    report(e);
  }
  auto fill_progress = [&] {
    stats.progress.probes_sent = sh.probes.load(std::memory_order_relaxed);
    stats.progress.retries_sent = sh.retries.load(std::memory_order_relaxed);
    stats.progress.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (cfg.dry_run) {
      stats.progress.done = stats.progress.probes_sent;
    }
  };
  while (!sh.tx_done.load(std::memory_order_acquire)) {
    if (sh.events.drain(answer) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto now = Clock::now();
    if (now - last_progress >= std::chrono::milliseconds(250)) {
      last_progress = now;
      fill_progress();
      if (on_progress) {
        on_progress(stats.progress);
      }
    }
    if (cfg.on_checkpoint && now - last_checkpoint >= std::chrono::seconds(1)) {
      last_checkpoint = now;
      cfg.on_checkpoint(sh.position.load(std::memory_order_relaxed), sh.round.load(std::memory_order_relaxed));
    }
  }
  tx_thread.join();
  if (rx_thread.joinable()) {
    sh.rx_stop.store(true, std::memory_order_release);
    rx_thread.join();
    CaptureStats cs = receiver->stats();
    stats.capture_packets = cs.packets;
    stats.capture_drops = cs.drops;
  }
  sh.events.drain(answer);
  fill_progress();
  if (cfg.on_checkpoint) {
    cfg.on_checkpoint(sh.position.load(std::memory_order_relaxed), sh.round.load(std::memory_order_relaxed));
  }
  stats.replies = sh.replies.load();
  stats.duplicates = sh.duplicates.load();
  stats.rounds = sh.round.load() + 1;
  stats.send_errors = (send4 ? send4->errors() : 0) + (send6 ? send6->errors() : 0);
  stats.send_seconds = static_cast<double>(sh.round0_end_ns.load() - sh.first_send_ns.load()) / 1e9;
  stats.first_round_probes = sh.round0_probes.load();

  // Unanswered pairs of the domain (this shard, from start_k, probed) are
  // filtered / no-response. An interrupted scan reports only what it learned.
  // Hosts without any answer are listed only when the scan is small; in a big
  // scan they are counted (like hosts that fail discovery in nmap).
  if (!cfg.dry_run && !stop.requested() && !discovery) {
    const Permutation& perm = plan.perm;
    auto in_domain = [&](uint64_t host, uint32_t pidx) {
      uint64_t i = perm.unshuffle(host + g.hosts * pidx);
      return i % cfg.shard.count == cfg.shard.index;
    };
    auto sweep_host = [&](uint64_t host) {
      for (uint32_t p = 0; p < g.nports; ++p) {
        if (!sh.answered.test(host * g.nports + p) && in_domain(host, p)) {
          ++stats.unanswered;
          if (cfg.protocol == Protocol::kTcp) {
            report(Event{host * g.nports + p, PortState::kFiltered, Reason::kNoResponse});
          } else if (icmp_limited_hosts.count(host) != 0) {
            // The host rate-limits its port unreachables, so this silence may be
            // a closed port whose answer the limit ate (spec §3): say so.
            ++stats.icmp_ratelimited;
            report(Event{host * g.nports + p, PortState::kOpenFiltered, Reason::kIcmpRatelimit});
          } else {
            report(Event{host * g.nports + p, PortState::kOpenFiltered, Reason::kNoResponse});
          }
        }
      }
    };
    constexpr uint64_t kListSilentUpTo = uint64_t{1} << 20;  // pairs
    if (stats.progress.total <= kListSilentUpTo) {
      for (uint64_t h = 0; h < g.hosts; ++h) {
        sweep_host(h);
      }
    } else {
      // Hosts with an answer: the pages with set bits name them.
      uint64_t last_host = ~uint64_t{0};
      uint64_t answered_hosts = 0;
      for (uint64_t page : sh.answered.pages()) {
        uint64_t y0 = page * AnsweredSet::kPageBits;
        uint64_t y1 = std::min(g.pairs, y0 + AnsweredSet::kPageBits);
        for (uint64_t h = y0 / g.nports; h * g.nports < y1; ++h) {
          if (h == last_host) {
            continue;
          }
          bool any = false;
          for (uint32_t p = 0; p < g.nports && !any; ++p) {
            any = sh.answered.test(h * g.nports + p);
          }
          if (any) {
            sweep_host(h);
            ++answered_hosts;
          }
          last_host = h;
        }
      }
      stats.silent_hosts = g.hosts - std::min(g.hosts, answered_hosts);
    }
  }
  stats.progress.in_flight = 0;
  return stats;
}

}  // namespace

core::Result<RawScanStats> raw_scan(const TargetSet& targets, const PortSet& ports, const RawScanConfig& cfg,
                                    const core::Interrupt& stop,
                                    const std::function<void(const PortResult&)>& on_result,
                                    const std::function<void(const ScanProgress&)>& on_progress, int debug) {
  return run(targets, &ports, nullptr, cfg, stop, on_result, {}, on_progress, debug);
}

core::Result<RawScanStats> discover_hosts(const TargetSet& targets, const std::vector<DiscoveryProbe>& probes,
                                          const RawScanConfig& cfg, const core::Interrupt& stop,
                                          const std::function<void(const Address&, Reason)>& on_up,
                                          const std::function<void(const ScanProgress&)>& on_progress, int debug) {
  if (probes.empty()) {
    return core::fail("host discovery needs at least one probe");
  }
  // Discovery is one whole pass: no resume journal, no shard, no preloaded answers.
  RawScanConfig whole = cfg;
  whole.shard = Shard{};
  whole.start_k = 0;
  whole.preanswered = {};
  whole.on_checkpoint = nullptr;
  whole.on_answer = nullptr;
  return run(targets, nullptr, &probes, whole, stop, {}, on_up, on_progress, debug);
}

}  // namespace linerate::scan
