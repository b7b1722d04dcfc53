// scan/connect_scan.cpp — one-thread epoll engine for the TCP connect scan.
//
// Walkthrough of one loop turn (ConnectScanner::run):
//   1. fill: while fewer than `cap_` connects are in flight and the token bucket
//      allows, take the next pair — a re-probe from the retry queue first, else
//      the next permutation index i — and launch it on an idle socket of the
//      right family (socket reuse, below), or on a new one: socket(NONBLOCK),
//      epoll_ctl(ADD, EPOLLOUT|EPOLLET), then connect(). Loopback often answers
//      synchronously (0 or ECONNREFUSED), so an immediate answer is classified on
//      the spot; EINPROGRESS puts the slot on the timer heap. At most kFillBatch
//      launches per turn, so events and the stop request are seen regularly.
//   2. wait: epoll_wait until the earliest of: next timer deadline, next token,
//      resource back-off end, next progress tick (<= 250 ms). The Interrupt's fd
//      is in the same epoll set, so a stop request wakes us at once.
//   3. events: EPOLLOUT alone = connected (open). EPOLLERR/EPOLLHUP = the connect
//      failed: a second connect() on the socket returns the pending error (the
//      same value SO_ERROR would give) and resets the socket for reuse — one
//      syscall for "read the verdict" and "make reusable". An ICMP error that
//      arrived while the socket was busy leaves it in SYN_SENT (connect() says
//      EALREADY): then SO_ERROR has the error, and the socket is reset with
//      AF_UNSPEC. Sockets carry IP_RECVERR/IPV6_RECVERR so such an ICMP error
//      raises EPOLLERR at once; the error queue is emptied before reuse. Open sockets are reset
//      with connect(AF_UNSPEC): the kernel sends RST (no FIN handshake, no
//      TIME_WAIT; nmap closes normally, but on a big scan TIME_WAIT would exhaust
//      local ports) and the socket is reusable too.
//   4. timers: expired slots are reset the same way (connect(AF_UNSPEC) from
//      SYN_SENT); the pair is re-queued (retry queue, the pair index only) until
//      it used max_retries, then reported filtered / no-response.
//
// Socket reuse (Linux): a TCP socket whose connect failed, or that was
// disconnected with AF_UNSPEC, may connect() again. Reusing one costs a single
// connect() per closed port instead of socket + connect + epoll_ctl + getsockopt
// + close, and saves the kernel a socket allocation and free (the sys time that
// dominated: strace -c on a 65535-port lab scan showed those five calls at 19-29 %
// each). The fd stays in the epoll set for its whole life, tagged with its slot
// id. Events are edge-triggered, and epoll computes an fd's event mask when it
// hands the event out, so a wake-up left over from a socket's previous connection
// reports nothing once the socket is connecting again. Any reuse step that does
// not behave as expected (an unexpected errno) falls back to closing the fd;
// the slot then gets a fresh socket.
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
// --min-rate: while the launch rate of the last second is below min_rate_pps, the
// window may exceed the congestion window (up to the fd cap), as nmap does.
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
// active iff its probe is in flight; then it owns an fd and sits on the timer
// heap. An idle slot is on exactly one list: warm_[family] (it owns a reusable
// fd) or free_ (no fd).
#include "scan/connect_scan.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
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
constexpr auto kForwardEvery = std::chrono::milliseconds(20);  // several workers: results to the caller
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
    // The handshake completed and the peer then reset or closed before we looked:
    // Linux reports ECONNRESET/EPIPE only for connections past SYN_SENT (a RST to
    // a SYN is ECONNREFUSED), so the port accepted.
    case ECONNRESET:
    case EPIPE:
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
  core::Fd fd;     // open while the slot is active or on a warm_ list
  int family = 0;  // of fd: AF_INET or AF_INET6
  uint64_t pair = 0;
  uint64_t host = 0;
  Address addr;
  uint16_t port = 0;
  uint32_t attempt = 0;  // 0 = first probe
  TimePoint sent{};
  TimePoint deadline{};
  int64_t heap_pos = -1;
  bool active = false;
};

struct Pending {
  uint64_t pair = 0;
  uint32_t attempt = 0;
};

/// connect(AF_UNSPEC): the kernel's "disconnect" (RST if a connection exists,
/// abandon a SYN_SENT); the socket may connect() again afterwards.
bool disconnect(int fd) {
  sockaddr sa{};
  sa.sa_family = AF_UNSPEC;
  return ::connect(fd, &sa, sizeof sa) == 0;
}

/// Empties the socket's error queue (ICMP errors queued because of IP_RECVERR),
/// so that a reused socket does not report an old error as EPOLLERR.
void drain_error_queue(int fd) {
  std::array<std::byte, 512> buf{};
  std::array<std::byte, 512> control{};
  for (int k = 0; k < 8; ++k) {
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data();
    msg.msg_controllen = control.size();
    if (::recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
      return;
    }
  }
}

/// Launch rate over the last second, for --min-rate (a ring of per-100 ms counts).
class RateWindow {
 public:
  void add(TimePoint now) {
    advance(now);
    ++buckets_[static_cast<size_t>(current_ % kBuckets)];
  }
  /// Launches in the last second (the running 100 ms bucket included).
  uint64_t last_second(TimePoint now) {
    advance(now);
    uint64_t sum = 0;
    for (uint64_t b : buckets_) {
      sum += b;
    }
    return sum;
  }
  void start(TimePoint now) { origin_ = now; }

 private:
  static constexpr int64_t kBuckets = 10;
  void advance(TimePoint now) {
    int64_t tick = std::chrono::duration_cast<std::chrono::milliseconds>(now - origin_).count() / 100;
    for (int64_t t = std::max(current_ + 1, tick - kBuckets + 1); t <= tick; ++t) {
      buckets_[static_cast<size_t>(t % kBuckets)] = 0;
    }
    current_ = std::max(current_, tick);
  }
  std::array<uint64_t, kBuckets> buckets_{};
  int64_t current_ = 0;
  TimePoint origin_{};
};

// With several workers (ConnectScanConfig::threads), each runs its own
// ConnectScanner on its own share of the permutation indices, and hands results
// and counters to the calling thread through an Outbox.
struct Outbox {
  std::mutex mu;
  std::vector<PortResult> results;  // appended by the worker, drained by the caller
  std::atomic<uint64_t> done{0};
  std::atomic<uint64_t> probes_sent{0};
  std::atomic<uint64_t> retries_sent{0};
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> in_flight{0};
};

struct WorkerSpec {
  unsigned index = 0;
  unsigned count = 1;
  Outbox* outbox = nullptr;                  // nullptr: single worker, callbacks called directly
  const std::atomic<bool>* abort = nullptr;  // another worker failed
};

// Worker k of n takes the index chunks k, k+n, k+2n, ... of kChunk indices each,
// so the workers together walk every index exactly once.
constexpr uint64_t kChunk = 256;

class ConnectScanner {
 public:
  ConnectScanner(const TargetSet& targets, const PortSet& ports, const ConnectScanConfig& cfg,
                 const core::Interrupt& stop, const std::function<void(const PortResult&)>& on_result,
                 const std::function<void(const ScanProgress&)>& on_progress, uint64_t n_hosts, uint64_t total,
                 WorkerSpec worker)
      : targets_(targets),
        ports_(ports),
        cfg_(cfg),
        stop_(stop),
        on_result_(on_result),
        on_progress_(on_progress),
        n_hosts_(n_hosts),
        perm_(total, cfg.seed),
        worker_(worker),
        next_i_(uint64_t{worker.index} * kChunk) {
    progress_.total = total;
  }

  core::Result<ScanProgress> run();

 private:
  enum class Launch { kOk, kResource };

  core::Result<Launch> launch(Pending p);
  /// An idle slot with a socket of `family`, left at the back of warm_[family];
  /// nullopt when fds ran out.
  core::Result<std::optional<uint32_t>> idle_slot(int family);
  void on_event(uint32_t id, uint32_t events, TimePoint now);
  void expire(TimePoint now);
  void timed_out(uint32_t id, TimePoint now);
  void finish(uint32_t id, Verdict v, TimePoint now, bool sample_rtt);
  void report(const Address& addr, uint16_t port, Verdict v, uint32_t rtt_us);
  void retire(uint32_t id, bool reusable);
  void park(uint32_t id, bool reusable);
  [[nodiscard]] bool host_expired(uint64_t host, TimePoint now) const;
  [[nodiscard]] microseconds timeout_for(uint64_t host) const;
  [[nodiscard]] bool have_work() const { return !retry_.empty() || next_i_ < perm_.size(); }
  uint64_t next_index();
  void publish();
  void refill_tokens(TimePoint now);
  /// Re-probes a timed-out pair gets: one more than the most any answered probe
  /// needed so far, up to max_retries (nmap's rule): on a clean path a filtered
  /// port costs one re-probe, on a lossy one as many as the losses call for.
  [[nodiscard]] uint32_t allowed_retries() const {
    return std::min<uint32_t>(cfg_.max_retries, max_answered_attempt_ + 1);
  }
  ScanProgress snapshot(TimePoint now);
  void lower_cap();
  [[nodiscard]] uint64_t window(TimePoint now);

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
  WorkerSpec worker_;
  std::vector<PortResult> outgoing_;  // results not yet in the outbox (several workers)
  double max_rate_ = 0;               // this worker's share of the rate limits
  double min_rate_ = 0;

  uint64_t next_i_ = 0;
  core::Fd epoll_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;                 // idle slots without an fd
  std::array<std::vector<uint32_t>, 2> warm_;  // idle slots with a reusable fd: [0] IPv4, [1] IPv6
  std::vector<uint32_t> heap_;
  std::deque<Pending> retry_;
  unsigned cap_ = 1;
  uint64_t in_flight_ = 0;
  // Congestion window (connects in flight actually allowed, <= cap_): slow start
  // from kInitialWindow, +1/window per answer above ssthresh, halved (at most once
  // per timeout period) when a re-probe is answered. See the file comment.
  double cwnd_ = 1;
  double ssthresh_ = 0;
  TimePoint last_cut_{};
  uint32_t max_answered_attempt_ = 0;  // see allowed_retries()
  uint64_t dry_sink_ = 0;              // --dry-run: keeps the probe's inputs observable
  RateWindow launches_;                // only fed when min_rate_pps > 0

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

uint64_t ConnectScanner::window(TimePoint now) {
  auto w = std::min<uint64_t>(cap_, static_cast<uint64_t>(std::max(1.0, cwnd_)));
  // --min-rate: behind the rate (after the first second), the congestion window
  // does not hold launches back; the fd cap still does.
  if (min_rate_ > 0 && now - start_ >= std::chrono::seconds(1) &&
      static_cast<double>(launches_.last_second(now)) < min_rate_) {
    return cap_;
  }
  return w;
}

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
  if (max_rate_ == 0) {
    return;
  }
  double dt = std::chrono::duration<double>(now - last_refill_).count();
  last_refill_ = now;
  tokens_ = std::min(token_cap_, tokens_ + dt * max_rate_);
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
  if (worker_.outbox != nullptr) {
    outgoing_.push_back(r);
  } else {
    on_result_(r);
  }
}

uint64_t ConnectScanner::next_index() {
  uint64_t i = next_i_++;
  if (worker_.count > 1 && next_i_ % kChunk == 0) {
    uint64_t skip = uint64_t{worker_.count - 1} * kChunk;
    next_i_ = next_i_ > UINT64_MAX - skip ? UINT64_MAX : next_i_ + skip;
  }
  return i;
}

// Several workers: hand results and counters to the calling thread.
void ConnectScanner::publish() {
  Outbox* box = worker_.outbox;
  if (box == nullptr) {
    return;
  }
  if (!outgoing_.empty()) {
    std::lock_guard lock(box->mu);
    box->results.insert(box->results.end(), outgoing_.begin(), outgoing_.end());
    outgoing_.clear();
  }
  box->done.store(progress_.done, std::memory_order_relaxed);
  box->probes_sent.store(progress_.probes_sent, std::memory_order_relaxed);
  box->retries_sent.store(progress_.retries_sent, std::memory_order_relaxed);
  box->open.store(progress_.open, std::memory_order_relaxed);
  box->in_flight.store(in_flight_, std::memory_order_relaxed);
}

// An idle slot goes to warm_ with its fd when that fd may connect again, else its
// fd is closed (close also removes it from the epoll set) and it goes to free_.
void ConnectScanner::park(uint32_t id, bool reusable) {
  Slot& s = slots_[id];
  if (reusable && s.fd) {
    warm_[s.family == AF_INET6 ? 1 : 0].push_back(id);
  } else {
    s.fd.reset();
    free_.push_back(id);
  }
}

void ConnectScanner::retire(uint32_t id, bool reusable) {
  Slot& s = slots_[id];
  heap_remove(id);
  s.active = false;
  --in_flight_;
  park(id, reusable);
}

void ConnectScanner::finish(uint32_t id, Verdict v, TimePoint now, bool sample_rtt) {
  Slot& s = slots_[id];
  auto rtt = std::chrono::duration_cast<microseconds>(now - s.sent).count();
  if (v.reason != Reason::kNoResponse) {
    max_answered_attempt_ = std::max(max_answered_attempt_, s.attempt);
  }
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
  Address addr = s.addr;
  uint16_t port = s.port;
  retire(id, true);
  report(addr, port, v, rtt_field(v, rtt));
}

core::Result<std::optional<uint32_t>> ConnectScanner::idle_slot(int family) {
  auto& warm = warm_[family == AF_INET6 ? 1 : 0];
  if (!warm.empty()) {
    return warm.back();
  }
  if (free_.empty()) {
    // Every idle slot holds a socket of the other family: give one up.
    auto& other = warm_[family == AF_INET6 ? 0 : 1];
    uint32_t id = other.back();
    other.pop_back();
    slots_[id].fd.reset();
    free_.push_back(id);
  }
  uint32_t id = free_.back();
  int fd = ::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    if (is_fd_exhaustion(errno)) {
      return std::nullopt;
    }
    return core::errno_error("connect scan: socket()");
  }
  core::Fd owned(fd);
  // IP_RECVERR / IPV6_RECVERR: an ICMP error that races our own connect() call
  // is queued and raises EPOLLERR at once; without it Linux keeps it only as a
  // "soft" error (IPv6: drops it, TcpExtLockDroppedIcmps) and the port looks
  // silent until the kernel's SYN retransmit a second later.
  const int on = 1;
  if (family == AF_INET6) {
    (void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  } else {
    (void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
  }
  epoll_event ev{};
  ev.events = EPOLLOUT | EPOLLET;
  ev.data.u64 = id;
  if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    if (is_fd_exhaustion(errno) || errno == ENOSPC) {
      return std::nullopt;
    }
    return core::errno_error("connect scan: epoll_ctl");
  }
  free_.pop_back();
  slots_[id].fd = std::move(owned);
  slots_[id].family = family;
  warm.push_back(id);
  return id;
}

core::Result<ConnectScanner::Launch> ConnectScanner::launch(Pending p) {
  uint64_t host = p.pair % n_hosts_;
  auto port_index = static_cast<uint32_t>(p.pair / n_hosts_);
  Address addr = targets_.nth(host);
  uint16_t port = ports_.nth(port_index);

  sockaddr_storage ss{};
  socklen_t ss_len = addr.to_sockaddr(port, ss);
  if (cfg_.dry_run) {
    // The null sink: everything up to the connect() call, then count it.
    dry_sink_ ^= static_cast<uint64_t>(ss_len) ^ port ^ static_cast<uint64_t>(addr.value);
    ++progress_.probes_sent;
    ++progress_.done;
    if (max_rate_ > 0) {
      tokens_ -= 1;
    }
    return Launch::kOk;
  }
  auto slot = idle_slot(ss.ss_family);
  if (!slot) {
    return core::fail(slot.error().message() + " for " + addr.to_string());
  }
  if (!*slot) {
    return Launch::kResource;
  }
  const uint32_t id = **slot;  // the back of warm_[family], with an fd
  auto& warm = warm_[ss.ss_family == AF_INET6 ? 1 : 0];
  Slot& s = slots_[id];
  const int fd = s.fd.get();

  TimePoint sent = Clock::now();
  int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), ss_len);
  int err = rc == 0 ? 0 : errno;
  // Local port exhaustion: EAGAIN (Linux, no free ephemeral port) or
  // EADDRNOTAVAIL while our own connects hold ports. Retry later, not a verdict;
  // the socket stays unconnected and idle.
  if (err == EAGAIN || (err == EADDRNOTAVAIL && in_flight_ > 0)) {
    return Launch::kResource;
  }
  ++progress_.probes_sent;
  if (p.attempt > 0) {
    ++progress_.retries_sent;
  }
  if (cfg_.host_timeout.count() > 0) {
    host_started_.try_emplace(host, sent);
  }
  if (max_rate_ > 0) {
    tokens_ -= 1;
  }
  if (min_rate_ > 0) {
    launches_.add(sent);
  }

  if (err == EINPROGRESS || err == EINTR) {
    warm.pop_back();
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

  // Synchronous answer (common on loopback). A refused or unreachable connect
  // leaves the socket unconnected, ready for the next one; a connected one is
  // reset first.
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
  if (err != 0 && err != ECONNREFUSED) {
    drain_error_queue(fd);
  }
  if (err == 0 && !disconnect(fd)) {
    warm.pop_back();
    park(id, false);
  }
  report(addr, port, *v, rtt_field(*v, rtt));
  return Launch::kOk;
}

void ConnectScanner::on_event(uint32_t id, uint32_t events, TimePoint now) {
  if (id >= slots_.size() || !slots_[id].active) {
    return;  // an idle socket's leftover wake-up
  }
  Slot& s = slots_[id];
  const int fd = s.fd.get();
  int err = 0;
  bool reusable = true;  // the socket may connect() again as it is
  if ((events & (EPOLLERR | EPOLLHUP)) != 0) {
    // The connect failed (or the connection already ended). connect() again
    // returns the pending error and leaves the socket reusable (file comment).
    sockaddr_storage ss{};
    socklen_t ss_len = s.addr.to_sockaddr(s.port, ss);
    err = ::connect(fd, reinterpret_cast<const sockaddr*>(&ss), ss_len) == 0 ? 0 : errno;
    if (err == EALREADY || err == EINPROGRESS) {
      // Still in SYN_SENT: an ICMP error that arrived while the socket was busy
      // is kept as a "soft" error (and, with IP_RECVERR, queued), which SO_ERROR
      // returns. Nothing there = a wake-up without an answer: keep waiting.
      socklen_t len = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
        err = errno;
      }
      if (err == 0) {
        return;
      }
      reusable = false;  // still connecting: reset below
    }
    if (err == EISCONN) {
      err = 0;
    }
    if (err != 0 && err != ECONNREFUSED) {
      drain_error_queue(fd);  // an ICMP error: do not let it haunt the next probe
    }
  } else if ((events & EPOLLOUT) == 0) {
    return;
  }
  std::optional<Verdict> v = classify(err);
  if (!v) {
    timed_out(id, now);  // the kernel's own SYN retries gave up (ETIMEDOUT)
    return;
  }
  if (v->state == PortState::kOpen) {
    if (self_connected(fd)) {
      v = Verdict{PortState::kClosed, Reason::kConnRefused};
    }
    reusable = false;  // connected: reset below
  }
  if (!reusable && !disconnect(fd)) {
    s.fd.reset();  // finish() parks the slot without an fd
  }
  bool answered = v->state == PortState::kOpen || v->state == PortState::kClosed;
  finish(id, *v, now, answered);
}

// A probe got no answer in time (or the kernel gave up on it): abandon the
// connect, then re-queue the pair or report it filtered.
void ConnectScanner::timed_out(uint32_t id, TimePoint now) {
  Slot& s = slots_[id];
  bool reusable = disconnect(s.fd.get());
  if (s.attempt < allowed_retries() && !host_expired(s.host, now)) {
    retry_.push_back(Pending{s.pair, s.attempt + 1});
    retire(id, reusable);
  } else {
    if (!reusable) {
      s.fd.reset();
    }
    finish(id, Verdict{PortState::kFiltered, Reason::kNoResponse}, now, false);
  }
}

void ConnectScanner::expire(TimePoint now) {
  while (!heap_.empty() && slots_[heap_.front()].deadline <= now) {
    timed_out(heap_.front(), now);
  }
}

core::Result<ScanProgress> ConnectScanner::run() {
  start_ = Clock::now();
  last_refill_ = start_;
  if (perm_.size() == 0) {
    return snapshot(start_);
  }
  // Each of n workers gets 1/n of the parallelism, the initial window and the
  // rate limits.
  const unsigned n = worker_.count;
  cap_ = std::max(1u, fd_cap(cfg_.max_parallelism) / n);
  cwnd_ = static_cast<double>(std::min<unsigned>(cap_, std::max(kMinWindow, kInitialWindow / n)));
  max_rate_ = cfg_.max_rate_pps / n;
  min_rate_ = cfg_.min_rate_pps / n;
  ssthresh_ = static_cast<double>(cap_);
  slots_.resize(cap_);
  free_.reserve(cap_);
  warm_[0].reserve(cap_);
  warm_[1].reserve(cap_);
  for (uint32_t id = cap_; id > 0; --id) {
    free_.push_back(id - 1);
  }
  heap_.reserve(cap_);
  if (max_rate_ > 0) {
    token_cap_ = std::max(1.0, max_rate_ / 100.0);
    tokens_ = 1.0;
  }

  int efd = epoll_create1(EPOLL_CLOEXEC);
  if (efd < 0) {
    return core::errno_error("connect scan: epoll_create1");
  }
  epoll_ = core::Fd(efd);
  launches_.start(start_);
  epoll_event sev{};
  sev.events = EPOLLIN;
  sev.data.u64 = kStopTag;
  if (epoll_ctl(efd, EPOLL_CTL_ADD, stop_.fd(), &sev) != 0) {
    return core::errno_error("connect scan: epoll_ctl(interrupt)");
  }

  std::array<epoll_event, kMaxEvents> events{};
  TimePoint next_progress = start_ + kProgressEvery;

  auto aborted = [this] { return worker_.abort != nullptr && worker_.abort->load(std::memory_order_relaxed); };
  while (!stop_.requested() && !aborted() && (have_work() || in_flight_ > 0)) {
    // 1. fill
    TimePoint now = Clock::now();
    refill_tokens(now);
    size_t launched = 0;
    while (launched < kFillBatch && in_flight_ < window(now) && have_work() && now >= backoff_until_ &&
           (max_rate_ == 0 || tokens_ >= 1.0)) {
      Pending p;
      if (!retry_.empty()) {
        p = retry_.front();
        retry_.pop_front();
      } else {
        p = Pending{perm_.shuffle(next_index()), 0};
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
    if (!have_work() && in_flight_ == 0) {
      break;
    }

    // 2. wait until the earliest thing we must act on
    now = Clock::now();
    TimePoint wake = next_progress;
    if (!heap_.empty()) {
      wake = std::min(wake, slots_[heap_.front()].deadline);
    }
    if (have_work() && in_flight_ < window(now)) {
      if (now < backoff_until_) {
        wake = std::min(wake, backoff_until_);
      } else if (max_rate_ > 0 && tokens_ < 1.0) {
        auto need = std::chrono::duration<double>((1.0 - tokens_) / max_rate_);
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
    int got = epoll_wait(epoll_.get(), events.data(), kMaxEvents, timeout_ms);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      return core::errno_error("connect scan: epoll_wait");
    }

    // 3. answers
    now = Clock::now();
    for (int k = 0; k < got; ++k) {
      const epoll_event& ev = events[static_cast<size_t>(k)];
      if (ev.data.u64 != kStopTag) {
        on_event(static_cast<uint32_t>(ev.data.u64), ev.events, now);
      }
    }

    // 4. timeouts
    expire(now);

    publish();
    if (now >= next_progress) {
      next_progress = now + kProgressEvery;
      if (on_progress_ && worker_.outbox == nullptr) {
        on_progress_(snapshot(now));
      }
    }
  }
  publish();
  return snapshot(Clock::now());
}

// Workers for a scan: cfg.threads, or when 0 one per core up to 4 — the kernel's
// per-connect work (socket hash, route, the target's answer on a veth or
// loopback) runs on the sending core, so cores are the limit. One worker when
// there is little to parallelise: a paced or serialised scan, or a small one.
unsigned worker_count(const ConnectScanConfig& cfg, uint64_t total) {
  constexpr uint64_t kMinPairsPerWorker = 4096;
  constexpr unsigned kMinParallelismPerWorker = 64;
  unsigned n = cfg.threads;
  if (n == 0) {
    n = std::clamp(std::thread::hardware_concurrency(), 1u, 4u);
    if (cfg.max_rate_pps > 0 && cfg.max_rate_pps < 10'000) {
      n = 1;
    }
  }
  n = static_cast<unsigned>(std::min<uint64_t>(n, std::max<uint64_t>(1, total / kMinPairsPerWorker)));
  n = std::min(n, std::max(1u, cfg.max_parallelism / kMinParallelismPerWorker));
  return std::max(1u, n);
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
  unsigned workers = worker_count(cfg, total);
  if (workers <= 1) {
    ConnectScanner scanner(targets, ports, cfg, stop, on_result, on_progress, n_hosts, total, WorkerSpec{});
    return scanner.run();
  }

  // Several workers; this thread forwards their results and progress, so the
  // callbacks still run here only.
  std::vector<Outbox> boxes(workers);
  std::vector<core::Result<ScanProgress>> returns(workers, ScanProgress{});
  std::atomic<bool> abort{false};
  std::mutex done_mu;
  std::condition_variable done_cv;
  unsigned running = workers;
  std::vector<std::thread> threads;
  threads.reserve(workers);
  for (unsigned k = 0; k < workers; ++k) {
    threads.emplace_back([&, k] {
      ConnectScanner scanner(targets, ports, cfg, stop, on_result, on_progress, n_hosts, total,
                             WorkerSpec{k, workers, &boxes[k], &abort});
      returns[k] = scanner.run();
      if (!returns[k]) {
        abort.store(true, std::memory_order_relaxed);
      }
      std::lock_guard lock(done_mu);
      --running;
      done_cv.notify_all();
    });
  }

  const auto start = Clock::now();
  auto next_progress = start + kProgressEvery;
  std::vector<PortResult> batch;
  auto drain = [&] {
    for (Outbox& box : boxes) {
      {
        std::lock_guard lock(box.mu);
        batch.swap(box.results);
      }
      for (const PortResult& r : batch) {
        on_result(r);
      }
      batch.clear();
    }
  };
  auto totals = [&](TimePoint now) {
    ScanProgress p;
    p.total = total;
    for (const Outbox& box : boxes) {
      p.done += box.done.load(std::memory_order_relaxed);
      p.probes_sent += box.probes_sent.load(std::memory_order_relaxed);
      p.retries_sent += box.retries_sent.load(std::memory_order_relaxed);
      p.open += box.open.load(std::memory_order_relaxed);
      p.in_flight += box.in_flight.load(std::memory_order_relaxed);
    }
    p.elapsed_s = std::chrono::duration<double>(now - start).count();
    return p;
  };
  for (;;) {
    bool finished = false;
    {
      std::unique_lock lock(done_mu);
      finished = done_cv.wait_for(lock, kForwardEvery, [&] { return running == 0; });
    }
    drain();
    auto now = Clock::now();
    if (finished) {
      break;
    }
    if (now >= next_progress && on_progress) {
      next_progress = now + kProgressEvery;
      on_progress(totals(now));
    }
  }
  for (std::thread& t : threads) {
    t.join();
  }
  drain();
  for (auto& r : returns) {
    if (!r) {
      return r;
    }
  }
  return totals(Clock::now());
}

}  // namespace linerate::scan
