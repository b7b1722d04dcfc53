// scan/connect_scan.cpp — one-thread epoll engine for the TCP connect scan.
//
// Walkthrough of one loop turn (ConnectScanner::run):
//   1. fill: while fewer than `cap_` connects are in flight and the token bucket
//      allows, take the next pair — a re-probe from the retry queue first, else
//      the next permutation index i — and launch it: socket(NONBLOCK|CLOEXEC),
//      connect(). Loopback often answers synchronously (0 or ECONNREFUSED), so
//      an immediate answer is classified on the spot; EINPROGRESS registers the
//      fd for EPOLLOUT and puts the slot on the timer heap. At most kFillBatch
//      launches per turn, so events and the stop request are seen regularly.
//   2. wait: epoll_wait until the earliest of: next timer deadline, next token,
//      resource back-off end, next progress tick (<= 250 ms). The Interrupt's fd
//      is in the same epoll set, so a stop request wakes us at once.
//   3. events: getsockopt(SO_ERROR) classifies the answer (nmap -sT table in the
//      header); open sockets are closed with SO_LINGER {1, 0} so the kernel sends
//      RST instead of FIN and leaves no TIME_WAIT (nmap closes normally; on a big
//      scan TIME_WAIT entries would exhaust local ports on a busy 4-tuple space).
//   4. timers: expired slots are closed; the pair is re-queued (retry queue, the
//      pair index only) until it used max_retries, then reported filtered /
//      no-response.
//
// Pair index -> (host, port): x = perm.shuffle(i), host = x % hosts,
// port = x / hosts, so consecutive probes spread over hosts. i is uint64 and the
// pair list is never materialised (a /16 x 65535 ports is 4.3e9 pairs).
//
// Congestion (nmap-like): connects in flight are capped by a window, not only by
// max_parallelism. It starts at 256, grows by slow start on answers (doubling per
// round trip) up to ssthresh and then by one per window, and is halved when a
// re-probe is answered (the first probe was lost, not filtered; at most once per
// min_rtt_timeout, never below 64). A 4096-connect burst into a veth
// (netdev_max_backlog 1000) made retries of a third of a full-range scan.
//
// Timeouts (nmap style, RFC 6298 arithmetic): RTT samples come from connects
// that got an answer (open or refused). srtt/rttvar are kept globally and per
// host; a probe's timeout is srtt + 4*rttvar of its host (the global estimator
// until that host answered; initial_rtt_timeout before any sample), clamped to
// [min_rtt_timeout, max_rtt_timeout].
//
// Memory bounds: slots, the timer heap and the retry queue are O(max_parallelism).
// Per-host state exists only for hosts that replied (the RTT estimator) and, when
// host_timeout > 0, for hosts probed so far (their first-probe time) — O(hosts)
// in that case, because with host-fastest ordering every host is "in progress"
// for most of the scan.
//
// Invariants: every pair index taken from the permutation or the retry queue
// ends in exactly one on_result call, unless the scan is stopped first. A slot is
// active iff it owns an open fd registered in epoll and sits on the timer heap.
// epoll events carry (generation << 32 | slot) so a stale event for a reused slot
// is ignored; fds are closed without EPOLL_CTL_DEL (close removes them, and we
// never dup them), saving a syscall per probe.
#include "scan/connect_scan.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "scan/permutation.hpp"

namespace linerate::scan {

namespace {
// The window starts here and grows by slow start: a veth or NIC queue holds about
// netdev_max_backlog (1000) packets, and 4096 SYNs at once overflowed it in the
// lab (65535 ports: 30-40k retries, 3.3-4.5 s; with the window 0 retries, 1.4 s).
constexpr unsigned kInitialWindow = 256;
// Congestion cuts never take the window below this.
constexpr unsigned kMinWindow = 64;
}  // namespace
namespace {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using std::chrono::microseconds;

constexpr uint64_t kStopTag = ~uint64_t{0};
constexpr unsigned kFdReserve = 64;
constexpr size_t kFillBatch = 1024;  // launches per loop turn
constexpr int kMaxEvents = 256;
constexpr auto kProgressEvery = std::chrono::milliseconds(250);
constexpr auto kResourceBackoff = std::chrono::milliseconds(20);

/// RFC 6298 smoothed RTT, in microseconds.
struct RttEstimator {
  int64_t srtt_us = -1;  // -1 = no sample yet
  int64_t rttvar_us = 0;

  void sample(int64_t rtt_us) {
    if (srtt_us < 0) {
      srtt_us = rtt_us;
      rttvar_us = rtt_us / 2;
      return;
    }
    int64_t delta = rtt_us > srtt_us ? rtt_us - srtt_us : srtt_us - rtt_us;
    rttvar_us = (3 * rttvar_us + delta) / 4;
    srtt_us = (7 * srtt_us + rtt_us) / 8;
  }
  [[nodiscard]] bool has_sample() const { return srtt_us >= 0; }
};

struct Verdict {
  PortState state;
  Reason reason;
};

/// nmap -sT classification of a connect() errno; nullopt = "no answer yet"
/// (ETIMEDOUT from the kernel's own SYN retries is a timeout like ours).
std::optional<Verdict> classify(int err) {
  switch (err) {
    case 0:
      return Verdict{PortState::kOpen, Reason::kSynAck};
    case ECONNREFUSED:
      return Verdict{PortState::kClosed, Reason::kConnRefused};
    case EHOSTUNREACH:
    case EHOSTDOWN:
      return Verdict{PortState::kFiltered, Reason::kHostUnreach};
    case ENETUNREACH:
    case ENETDOWN:
    case EADDRNOTAVAIL:  // only reached when not local port exhaustion
      return Verdict{PortState::kFiltered, Reason::kNetUnreach};
    case EACCES:
    case EPERM:
      return Verdict{PortState::kFiltered, Reason::kAdminProhibited};
    case ETIMEDOUT:
      return std::nullopt;
    default:
      return Verdict{PortState::kFiltered, Reason::kNoResponse};
  }
}

// TCP simultaneous open: a connect() to a port in the local ephemeral range of
// our own address can be given that very port as its source and "connect" to
// itself, with no listener anywhere (seen scanning 127.0.0.1 -p-: one false open
// per full scan). Such a port is closed.
bool self_connected(int fd) {
  sockaddr_storage local{};
  sockaddr_storage peer{};
  socklen_t llen = sizeof local;
  socklen_t plen = sizeof peer;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &plen) != 0) {
    return false;
  }
  return llen == plen && std::memcmp(&local, &peer, llen) == 0;
}

/// PortResult::rtt_us: 0 when there was no reply at all.
uint32_t rtt_field(Verdict v, int64_t rtt_us) {
  if (v.reason == Reason::kNoResponse) {
    return 0;
  }
  return static_cast<uint32_t>(std::clamp<int64_t>(rtt_us, 0, UINT32_MAX));
}

bool is_fd_exhaustion(int err) { return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM; }

socklen_t fill_sockaddr(const Address& a, uint16_t port, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.family == Family::kV4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(a.v4_value());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  for (int k = 0; k < 16; ++k) {
    sin6->sin6_addr.s6_addr[k] = static_cast<uint8_t>(a.value >> (8 * (15 - k)));
  }
  return sizeof(sockaddr_in6);
}

/// Connects in flight that fit the fd limit (see ConnectScanConfig::max_parallelism).
unsigned fd_cap(unsigned wanted) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) {
    return std::max(1u, wanted);
  }
  rlim_t soft = rl.rlim_cur;
  rlim_t usable = soft > 2 * kFdReserve ? soft - kFdReserve : soft / 2;
  rlim_t cap = std::min<rlim_t>(usable, wanted);
  return std::max(1u, static_cast<unsigned>(cap));
}

struct Slot {
  core::Fd fd;
  uint64_t pair = 0;
  uint64_t host = 0;
  Address addr;
  uint16_t port = 0;
  uint32_t attempt = 0;  // 0 = first probe
  uint32_t gen = 0;
  TimePoint sent{};
  TimePoint deadline{};
  int64_t heap_pos = -1;
  bool active = false;
};

struct Pending {
  uint64_t pair = 0;
  uint32_t attempt = 0;
};

class ConnectScanner {
 public:
  ConnectScanner(const TargetSet& targets, const PortSet& ports, const ConnectScanConfig& cfg,
                 const core::Interrupt& stop, const std::function<void(const PortResult&)>& on_result,
                 const std::function<void(const ScanProgress&)>& on_progress, uint64_t n_hosts, uint64_t total)
      : targets_(targets),
        ports_(ports),
        cfg_(cfg),
        stop_(stop),
        on_result_(on_result),
        on_progress_(on_progress),
        n_hosts_(n_hosts),
        perm_(total, cfg.seed) {
    progress_.total = total;
  }

  core::Result<ScanProgress> run();

 private:
  enum class Launch { kOk, kResource };

  core::Result<Launch> launch(Pending p);
  void on_event(uint64_t tag, TimePoint now);
  void expire(TimePoint now);
  void finish(uint32_t id, Verdict v, TimePoint now, bool sample_rtt);
  void report(const Address& addr, uint16_t port, Verdict v, uint32_t rtt_us);
  void release(uint32_t id);
  [[nodiscard]] bool host_expired(uint64_t host, TimePoint now) const;
  [[nodiscard]] microseconds timeout_for(uint64_t host) const;
  [[nodiscard]] bool have_work() const { return !retry_.empty() || next_i_ < perm_.size(); }
  void refill_tokens(TimePoint now);
  ScanProgress snapshot(TimePoint now);
  void lower_cap();

  // Indexed binary min-heap of active slot ids keyed by deadline.
  bool heap_less(size_t a, size_t b) const { return slots_[heap_[a]].deadline < slots_[heap_[b]].deadline; }
  void heap_swap(size_t a, size_t b);
  void heap_up(size_t i);
  void heap_down(size_t i);
  void heap_push(uint32_t id);
  void heap_remove(uint32_t id);

  const TargetSet& targets_;
  const PortSet& ports_;
  const ConnectScanConfig& cfg_;
  const core::Interrupt& stop_;
  const std::function<void(const PortResult&)>& on_result_;
  const std::function<void(const ScanProgress&)>& on_progress_;
  uint64_t n_hosts_;
  Permutation perm_;

  uint64_t next_i_ = 0;
  core::Fd epoll_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::vector<uint32_t> heap_;
  std::deque<Pending> retry_;
  unsigned cap_ = 1;
  uint64_t in_flight_ = 0;
  // Congestion window (connects in flight actually allowed, <= cap_): slow start
  // from kInitialWindow, +1/window per answer above ssthresh, halved (at most once
  // per timeout period) when a probe times out. See the file comment.
  double cwnd_ = 1;
  double ssthresh_ = 0;
  TimePoint last_cut_{};
  [[nodiscard]] uint64_t window() const {
    return std::min<uint64_t>(cap_, static_cast<uint64_t>(std::max(1.0, cwnd_)));
  }

  RttEstimator global_rtt_;
  std::unordered_map<uint64_t, RttEstimator> host_rtt_;   // hosts that replied
  std::unordered_map<uint64_t, TimePoint> host_started_;  // only when host_timeout > 0

  double tokens_ = 0;
  double token_cap_ = 1;
  TimePoint last_refill_{};
  TimePoint backoff_until_{};

  TimePoint start_{};
  ScanProgress progress_;
};

void ConnectScanner::heap_swap(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  slots_[heap_[a]].heap_pos = static_cast<int64_t>(a);
  slots_[heap_[b]].heap_pos = static_cast<int64_t>(b);
}

void ConnectScanner::heap_up(size_t i) {
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!heap_less(i, parent)) {
      break;
    }
    heap_swap(i, parent);
    i = parent;
  }
}

void ConnectScanner::heap_down(size_t i) {
  for (;;) {
    size_t l = 2 * i + 1;
    size_t r = l + 1;
    size_t m = i;
    if (l < heap_.size() && heap_less(l, m)) {
      m = l;
    }
    if (r < heap_.size() && heap_less(r, m)) {
      m = r;
    }
    if (m == i) {
      return;
    }
    heap_swap(i, m);
    i = m;
  }
}

void ConnectScanner::heap_push(uint32_t id) {
  heap_.push_back(id);
  slots_[id].heap_pos = static_cast<int64_t>(heap_.size() - 1);
  heap_up(heap_.size() - 1);
}

void ConnectScanner::heap_remove(uint32_t id) {
  auto pos = static_cast<size_t>(slots_[id].heap_pos);
  slots_[id].heap_pos = -1;
  uint32_t moved = heap_.back();
  heap_.pop_back();
  if (moved != id) {
    heap_[pos] = moved;
    slots_[moved].heap_pos = static_cast<int64_t>(pos);
    heap_up(pos);
    heap_down(static_cast<size_t>(slots_[moved].heap_pos));
  }
}

bool ConnectScanner::host_expired(uint64_t host, TimePoint now) const {
  if (cfg_.host_timeout.count() <= 0) {
    return false;
  }
  auto it = host_started_.find(host);
  return it != host_started_.end() && now - it->second >= cfg_.host_timeout;
}

microseconds ConnectScanner::timeout_for(uint64_t host) const {
  const RttEstimator* est = &global_rtt_;
  if (auto it = host_rtt_.find(host); it != host_rtt_.end()) {
    est = &it->second;
  }
  microseconds t = est->has_sample() ? microseconds(est->srtt_us + 4 * est->rttvar_us)
                                     : std::chrono::duration_cast<microseconds>(cfg_.initial_rtt_timeout);
  auto lo = std::chrono::duration_cast<microseconds>(cfg_.min_rtt_timeout);
  auto hi = std::max(lo, std::chrono::duration_cast<microseconds>(cfg_.max_rtt_timeout));
  return std::clamp(t, lo, hi);
}

void ConnectScanner::refill_tokens(TimePoint now) {
  if (cfg_.max_rate_pps == 0) {
    return;
  }
  double dt = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ = std::min(token_cap_, tokens_ + dt * static_cast<double>(cfg_.max_rate_pps));
}

ScanProgress ConnectScanner::snapshot(TimePoint now) {
  progress_.in_flight = in_flight_;
  progress_.elapsed_s = std::chrono::duration<double>(now - start_).count();
  return progress_;
}

void ConnectScanner::lower_cap() {
  // Out of fds (or local ports): what is in flight now is what fits. Never below
  // one; with nothing in flight we back off and try again (see run()).
  cap_ = static_cast<unsigned>(std::max<uint64_t>(1, in_flight_));
}

void ConnectScanner::report(const Address& addr, uint16_t port, Verdict v, uint32_t rtt_us) {
  PortResult r;
  r.addr = addr;
  r.port = port;
  r.proto = Protocol::kTcp;
  r.state = v.state;
  r.reason = v.reason;
  r.rtt_us = rtt_us;
  ++progress_.done;
  if (v.state == PortState::kOpen) {
    ++progress_.open;
  }
  on_result_(r);
}

void ConnectScanner::release(uint32_t id) {
  Slot& s = slots_[id];
  heap_remove(id);
  s.fd.reset();
  s.active = false;
  ++s.gen;
  --in_flight_;
  free_.push_back(id);
}

void ConnectScanner::finish(uint32_t id, Verdict v, TimePoint now, bool sample_rtt) {
  Slot& s = slots_[id];
  auto rtt = std::chrono::duration_cast<microseconds>(now - s.sent).count();
  if (sample_rtt) {
    global_rtt_.sample(rtt);
    host_rtt_[s.host].sample(rtt);
    if (s.attempt > 0) {
      // A re-probe got an answer, so the first probe was lost on the way, not
      // filtered: congestion. Halve the window, at most once per minimum
      // timeout so one burst of losses is one cut. (Timeouts alone are no
      // signal: silently filtered ports time out by design.)
      if (now - last_cut_ >= cfg_.min_rtt_timeout) {
        ssthresh_ = std::max(cwnd_ / 2, static_cast<double>(kMinWindow));
        cwnd_ = ssthresh_;
        last_cut_ = now;
      }
    } else {
      // The path took this probe. Slow start doubles the window per round
      // trip, congestion avoidance adds one per window.
      cwnd_ += cwnd_ < ssthresh_ ? 1.0 : 1.0 / cwnd_;
      cwnd_ = std::min(cwnd_, static_cast<double>(cap_));
    }
  }
  if (v.state == PortState::kOpen) {
    linger lg{1, 0};  // RST on close: no TIME_WAIT (file comment)
    (void)setsockopt(s.fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  Address addr = s.addr;
  uint16_t port = s.port;
  release(id);
  report(addr, port, v, rtt_field(v, rtt));
}

core::Result<ConnectScanner::Launch> ConnectScanner::launch(Pending p) {
  uint64_t host = p.pair % n_hosts_;
  auto port_index = static_cast<uint32_t>(p.pair / n_hosts_);
  Address addr = targets_.nth(host);
  uint16_t port = ports_.nth(port_index);

  sockaddr_storage ss{};
  socklen_t ss_len = fill_sockaddr(addr, port, ss);
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (is_fd_exhaustion(errno)) {
      return Launch::kResource;
    }
    return core::errno_error("connect scan: socket() for " + addr.to_string());
  }
  core::Fd owned(fd);
  TimePoint sent = Clock::now();
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), ss_len);
  int err = rc == 0 ? 0 : errno;
  // Local port exhaustion: EAGAIN (Linux, no free ephemeral port) or
  // EADDRNOTAVAIL while our own connects hold ports. Retry later, not a verdict.
  if (err == EAGAIN || (err == EADDRNOTAVAIL && in_flight_ > 0)) {
    return Launch::kResource;
  }
  bool pending = err == EINPROGRESS || err == EINTR;
  uint32_t id = 0;
  if (pending) {
    id = free_.back();
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u64 = (uint64_t{slots_[id].gen} << 32) | id;
    if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      if (is_fd_exhaustion(errno) || errno == ENOSPC) {
        return Launch::kResource;
      }
      return core::errno_error("connect scan: epoll_ctl");
    }
  }
  ++progress_.probes_sent;
  if (p.attempt > 0) {
    ++progress_.retries_sent;
  }
  if (cfg_.host_timeout.count() > 0) {
    host_started_.try_emplace(host, sent);
  }
  if (cfg_.max_rate_pps > 0) {
    tokens_ -= 1;
  }

  if (!pending) {
    // Synchronous answer (common on loopback).
    auto rtt = std::chrono::duration_cast<microseconds>(Clock::now() - sent).count();
    std::optional<Verdict> v = classify(err);
    if (!v) {  // ETIMEDOUT cannot come synchronously; treat it as no answer
      v = Verdict{PortState::kFiltered, Reason::kNoResponse};
    }
    if (v->state == PortState::kOpen && self_connected(fd)) {
      v = Verdict{PortState::kClosed, Reason::kConnRefused};
    }
    if (v->state == PortState::kOpen || v->state == PortState::kClosed) {
      global_rtt_.sample(rtt);
      host_rtt_[host].sample(rtt);
    }
    if (v->state == PortState::kOpen) {
      linger lg{1, 0};  // RST on close: no TIME_WAIT (file comment)
      (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    owned.reset();
    report(addr, port, *v, rtt_field(*v, rtt));
    return Launch::kOk;
  }

  free_.pop_back();
  Slot& s = slots_[id];
  s.fd = std::move(owned);
  s.pair = p.pair;
  s.host = host;
  s.addr = addr;
  s.port = port;
  s.attempt = p.attempt;
  s.sent = sent;
  s.deadline = sent + timeout_for(host);
  s.active = true;
  ++in_flight_;
  heap_push(id);
  return Launch::kOk;
}

void ConnectScanner::on_event(uint64_t tag, TimePoint now) {
  auto id = static_cast<uint32_t>(tag & 0xffffffffu);
  auto gen = static_cast<uint32_t>(tag >> 32);
  if (id >= slots_.size() || !slots_[id].active || slots_[id].gen != gen) {
    return;  // stale event for a slot released earlier in this batch
  }
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(slots_[id].fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
    err = errno;
  }
  std::optional<Verdict> v = classify(err);
  if (v && v->state == PortState::kOpen && self_connected(slots_[id].fd.get())) {
    v = Verdict{PortState::kClosed, Reason::kConnRefused};
  }
  if (!v) {
    // Kernel-side timeout (ETIMEDOUT): the fd stays readable, so expire it now
    // rather than spin on it; expire() runs right after this batch.
    heap_remove(id);
    slots_[id].deadline = now;
    heap_push(id);
    return;
  }
  bool answered = v->state == PortState::kOpen || v->state == PortState::kClosed;
  finish(id, *v, now, answered);
}

void ConnectScanner::expire(TimePoint now) {
  while (!heap_.empty() && slots_[heap_.front()].deadline <= now) {
    uint32_t id = heap_.front();
    Slot& s = slots_[id];
    if (s.attempt < cfg_.max_retries && !host_expired(s.host, now)) {
      retry_.push_back(Pending{s.pair, s.attempt + 1});
      release(id);
    } else {
      finish(id, Verdict{PortState::kFiltered, Reason::kNoResponse}, now, false);
    }
  }
}

core::Result<ScanProgress> ConnectScanner::run() {
  start_ = Clock::now();
  last_refill_ = start_;
  if (perm_.size() == 0) {
    return snapshot(start_);
  }
  cap_ = fd_cap(cfg_.max_parallelism);
  cwnd_ = static_cast<double>(std::min<unsigned>(cap_, kInitialWindow));
  ssthresh_ = static_cast<double>(cap_);
  slots_.resize(cap_);
  free_.reserve(cap_);
  for (uint32_t id = cap_; id > 0; --id) {
    free_.push_back(id - 1);
  }
  heap_.reserve(cap_);
  if (cfg_.max_rate_pps > 0) {
    token_cap_ = std::max(1.0, static_cast<double>(cfg_.max_rate_pps) / 100.0);
    tokens_ = 1.0;
  }

  int efd = epoll_create1(EPOLL_CLOEXEC);
  if (efd < 0) {
    return core::errno_error("connect scan: epoll_create1");
  }
  epoll_ = core::Fd(efd);
  epoll_event sev{};
  sev.events = EPOLLIN;
  sev.data.u64 = kStopTag;
  if (epoll_ctl(efd, EPOLL_CTL_ADD, stop_.fd(), &sev) != 0) {
    return core::errno_error("connect scan: epoll_ctl(interrupt)");
  }

  std::array<epoll_event, kMaxEvents> events{};
  TimePoint next_progress = start_ + kProgressEvery;

  while (!stop_.requested() && progress_.done < progress_.total) {
    // 1. fill
    TimePoint now = Clock::now();
    refill_tokens(now);
    size_t launched = 0;
    while (launched < kFillBatch && in_flight_ < window() && have_work() && now >= backoff_until_ &&
           (cfg_.max_rate_pps == 0 || tokens_ >= 1.0)) {
      Pending p;
      if (!retry_.empty()) {
        p = retry_.front();
        retry_.pop_front();
      } else {
        p = Pending{perm_.shuffle(next_i_++), 0};
      }
      ++launched;
      if (host_expired(p.pair % n_hosts_, now)) {
        report(targets_.nth(p.pair % n_hosts_), ports_.nth(static_cast<uint32_t>(p.pair / n_hosts_)),
               Verdict{PortState::kFiltered, Reason::kNoResponse}, 0);
        continue;
      }
      auto r = launch(p);
      if (!r) {
        return tl::unexpected(r.error());
      }
      if (*r == Launch::kResource) {
        retry_.push_front(p);  // not probed: same attempt number again later
        lower_cap();
        if (in_flight_ == 0) {
          backoff_until_ = now + kResourceBackoff;
        }
        break;
      }
    }
    if (progress_.done >= progress_.total) {
      break;
    }

    // 2. wait until the earliest thing we must act on
    now = Clock::now();
    TimePoint wake = next_progress;
    if (!heap_.empty()) {
      wake = std::min(wake, slots_[heap_.front()].deadline);
    }
    if (have_work() && in_flight_ < window()) {
      if (now < backoff_until_) {
        wake = std::min(wake, backoff_until_);
      } else if (cfg_.max_rate_pps > 0 && tokens_ < 1.0) {
        auto need = std::chrono::duration<double>((1.0 - tokens_) / static_cast<double>(cfg_.max_rate_pps));
        wake = std::min(wake, now + std::chrono::duration_cast<Clock::duration>(need));
      } else {
        wake = now;  // more to launch right away
      }
    }
    int timeout_ms = 0;
    if (wake > now) {
      auto us = std::chrono::duration_cast<microseconds>(wake - now).count();
      timeout_ms = static_cast<int>(std::min<int64_t>((us + 999) / 1000, kProgressEvery.count()));
    }
    int n = epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return core::errno_error("connect scan: epoll_wait");
    }

    // 3. answers
    now = Clock::now();
    for (int k = 0; k < n; ++k) {
      uint64_t tag = events[static_cast<size_t>(k)].data.u64;
      if (tag != kStopTag) {
        on_event(tag, now);
      }
    }

    // 4. timeouts
    expire(now);

    if (now >= next_progress) {
      next_progress = now + kProgressEvery;
      if (on_progress_) {
        on_progress_(snapshot(now));
      }
    }
  }
  return snapshot(Clock::now());
}

}  // namespace

core::Result<ScanProgress> connect_scan(const TargetSet& targets, const PortSet& ports, const ConnectScanConfig& cfg,
                                        const core::Interrupt& stop,
                                        const std::function<void(const PortResult&)>& on_result,
                                        const std::function<void(const ScanProgress&)>& on_progress) {
  uint64_t n_hosts = targets.size();
  uint64_t n_ports = ports.size();
  uint64_t total = 0;
  if (__builtin_mul_overflow(n_hosts, n_ports, &total)) {
    return core::fail("connect scan: " + std::to_string(n_hosts) + " hosts x " + std::to_string(n_ports) +
                      " ports is more than 2^64-1 pairs");
  }
  ConnectScanner scanner(targets, ports, cfg, stop, on_result, on_progress, n_hosts, total);
  return scanner.run();
}

}  // namespace linerate::scan
