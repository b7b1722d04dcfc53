// btest/pro/pro_server.cpp — the btest-pro server: btest::Server with a policy
// (users, admission, byte budgets) and one writer thread (usage, sessions,
// intervals, rejections).
//
// Walkthrough of one test:
//   1. login: ServerPolicy::md5_password / ecsrp5_verifier read the user from the
//      control store (one query per login, under the control mutex).
//   2. admission (Policy::admit): the per-IP slot (--max-conn-per-ip; a
//      multi-connection test is admitted once), then the budgets of the user and
//      of the IP. A principal's budget (PrincipalBudget) is shared by all its
//      running tests on this server: nine atomic "remaining" counters (day, ISO
//      week, month x total, in, out). It is built from the database when none of
//      the principal's tests is running here: remaining = limit - (usage not yet
//      committed by our writer + usage in the database), read in that order, so a
//      commit racing the read can only make it count twice (refuse early), never
//      not at all. Exhausted already = refused with the reason token.
//   3. data path: TcpTransfer/UdpTransfer call ByteBudget::take_out before each
//      send batch and take_in after each receive batch: atomics only, no lock,
//      no database. The first counter to reach zero fires the grant's Interrupt;
//      the test's ticker wakes at once and ends the test with the reason
//      ("quota_daily_user_out"). N concurrent tests of one principal overshoot
//      its limit by at most one batch each.
//   4. every second: the interval goes to the writer queue as an IntervalRow plus
//      UsageDeltas for the user and the IP (the usage that is stored is the sum
//      of the intervals, i.e. exactly the test's byte totals).
//   5. end: the session end is queued and the writer is woken; the grant's
//      destructor releases the IP slot and the budgets.
// The writer thread commits the queue in one transaction at least every
// flush_interval and right after a test ends. A kill -9 loses at most what was
// queued since the last commit and never counts anything twice: each delta is
// committed exactly once.
//
// Known limits: a test that runs across midnight keeps the day's budget it
// started with (its usage is recorded in the windows it was moved in); with
// several servers sharing PostgreSQL, each server sees the others' usage when it
// rebuilds a budget (at a principal's first test), not during a running test.
#include "btest/pro/pro_server.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "btest/pro/detail/store_pool.hpp"
#include "btest/pro/monitor.hpp"
#include "btest/pro/web/request.hpp"
#include "btest/pro/web/server.hpp"
#include "btest/pro/windows.hpp"
#include "core/file.hpp"

namespace linerate::btest::pro {
namespace {

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string principal_key(const Principal& p) { return (p.kind == PrincipalKind::kUser ? "u:" : "i:") + p.key; }

// ---------------------------------------------------------------------------
// Budgets

// A test is admitted only with at least this much of every limited allowance
// left: more than the largest send batch (a 256 KiB TCP write, a UDP sendmmsg
// batch of up to ~535 KB), so an admitted test can always move data.
constexpr int64_t kMinAdmitBytes = 1 << 20;

// Slot order: for each window (day, week, month) total, in, out.
constexpr std::size_t kSlots = 9;
constexpr std::array<const char*, 3> kWindowNames = {"daily", "weekly", "monthly"};
constexpr std::array<const char*, 3> kDirSuffix = {"", "_in", "_out"};

std::array<uint64_t, kSlots> slot_limits(const Limits& l) {
  return {l.day.total, l.day.in,      l.day.out,  l.week.total, l.week.in,
          l.week.out,  l.month.total, l.month.in, l.month.out};
}

std::array<uint64_t, kSlots> slot_used(const UsageByWindow& u) {
  return {u.day.total(), u.day.in,        u.day.out,  u.week.total(), u.week.in,
          u.week.out,    u.month.total(), u.month.in, u.month.out};
}

bool any_limit(const Limits& l) {
  auto s = slot_limits(l);
  return std::any_of(s.begin(), s.end(), [](uint64_t v) { return v != 0; });
}

/// The shared allowance of one principal (user or IP) on this server.
class PrincipalBudget {
 public:
  PrincipalBudget(const Principal& who, const Limits& limits, const UsageByWindow& used, WindowStarts windows)
      : windows_(std::move(windows)), limits_(limits) {
    auto lim = slot_limits(limits);
    auto use = slot_used(used);
    for (std::size_t i = 0; i < kSlots; ++i) {
      limited_[i] = lim[i] != 0;
      limit_[i] = lim[i];
      int64_t rem = limited_[i] ? static_cast<int64_t>(std::min<uint64_t>(lim[i], INT64_MAX)) -
                                      static_cast<int64_t>(std::min<uint64_t>(use[i], INT64_MAX))
                                : INT64_MAX;
      remaining_[i].store(rem, std::memory_order_relaxed);
      reasons_[i] = std::string("quota_") + kWindowNames[i / 3] + (who.kind == PrincipalKind::kUser ? "_user" : "_ip") +
                    kDirSuffix[i % 3];
    }
  }

  /// Charge `bytes` in one direction; false when a counter of this principal is
  /// (now) used up. Lock-free.
  bool take(bool out, uint64_t bytes) noexcept {
    const auto b = static_cast<int64_t>(std::min<uint64_t>(bytes, INT64_MAX / 4));
    bool ok = true;
    for (std::size_t w = 0; w < 3; ++w) {
      for (std::size_t d : {std::size_t{0}, out ? std::size_t{2} : std::size_t{1}}) {
        std::size_t i = w * 3 + d;
        if (!limited_[i]) {
          continue;
        }
        if (remaining_[i].fetch_sub(b, std::memory_order_relaxed) - b <= 0) {
          int none = -1;
          first_out_.compare_exchange_strong(none, static_cast<int>(i), std::memory_order_relaxed);
          ok = false;
        }
      }
    }
    return ok;
  }

  /// The reason token of a used-up counter, or empty.
  [[nodiscard]] std::string exhausted() const {
    if (int i = first_out_.load(std::memory_order_relaxed); i >= 0) {
      return reasons_[static_cast<std::size_t>(i)];
    }
    for (std::size_t i = 0; i < kSlots; ++i) {
      if (limited_[i] && remaining_[i].load(std::memory_order_relaxed) <= 0) {
        return reasons_[i];
      }
    }
    return {};
  }

  /// Admission: the reason token of a counter the test would use (total, plus
  /// out when the server sends, in when it receives) that has less than
  /// min(min_left, half its limit) bytes left, or empty. (A send batch is
  /// refused whole, so a used-up "out" counter stops up to one batch short of
  /// its limit; "exhausted" alone would admit tests that cannot move a byte.)
  [[nodiscard]] std::string starved(int64_t min_left, bool sends, bool receives) const {
    for (std::size_t i = 0; i < kSlots; ++i) {
      const std::size_t dir = i % 3;  // 0 total, 1 in, 2 out
      if (!limited_[i] || (dir == 1 && !receives) || (dir == 2 && !sends)) {
        continue;
      }
      const int64_t need =
          std::min<int64_t>(min_left, static_cast<int64_t>(std::min<uint64_t>(limit_[i], INT64_MAX) / 2));
      if (remaining_[i].load(std::memory_order_relaxed) <= std::max<int64_t>(need, 0)) {
        return reasons_[i];
      }
    }
    return {};
  }

  [[nodiscard]] const WindowStarts& windows() const { return windows_; }
  [[nodiscard]] const Limits& limits() const { return limits_; }

  unsigned active = 0;  // running tests on this server; guarded by Policy::mu_

 private:
  WindowStarts windows_;
  Limits limits_;
  std::array<std::atomic<int64_t>, kSlots> remaining_{};
  std::array<bool, kSlots> limited_{};
  std::array<uint64_t, kSlots> limit_{};
  std::array<std::string, kSlots> reasons_;
  std::atomic<int> first_out_{-1};
};

// ---------------------------------------------------------------------------
// Writer

/// A session as the writer knows it is its LiveTest (monitor.hpp): the row is
/// inserted by the writer thread (off the login path), which then sets the
/// database id; intervals and the end queued before that are resolved at flush
/// time. The id stays 0 when the insert failed.
using SessionRef = LiveTest;

/// The one thread that writes session starts and ends, usage, intervals and
/// rejections.
class Writer {
 public:
  Writer(std::unique_ptr<Store> store, std::chrono::milliseconds every, Monitor& monitor,
         std::shared_ptr<spdlog::logger> log)
      : store_(std::move(store)), every_(every), monitor_(monitor), log_(std::move(log)) {
    thread_ = std::thread([this] { loop(); });
  }
  ~Writer() { stop(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  /// Flush what is queued and end the thread. Idempotent.
  void stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        return;
      }
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  void usage(const Principal& who, const WindowStarts& w, uint64_t in, uint64_t out) {
    if (in == 0 && out == 0) {
      return;
    }
    std::lock_guard lock(mu_);
    // One delta per principal and window set per flush, however many tests and
    // seconds feed it.
    auto [slot, fresh] = usage_index_.try_emplace(pending_key(who, w), queue_.usage.size());
    if (fresh) {
      queue_.usage.push_back(UsageDelta{who, w, in, out});
    } else {
      queue_.usage[slot->second].in += in;
      queue_.usage[slot->second].out += out;
    }
    auto& p = pending_[pending_key(who, w)];
    p.first = w;
    p.second.in += in;
    p.second.out += out;
  }
  void session_start(std::shared_ptr<SessionRef> ref, SessionRow row) {
    std::lock_guard lock(mu_);
    starts_.emplace_back(std::move(ref), std::move(row));
  }
  void interval(std::shared_ptr<SessionRef> ref, IntervalRow row) {
    std::lock_guard lock(mu_);
    intervals_.emplace_back(std::move(ref), row);
  }
  void rejection(RejectionRow row) {
    std::lock_guard lock(mu_);
    queue_.rejections.push_back(std::move(row));
  }
  /// A session ended: queued, and flushed now rather than at the next period.
  void session_end(std::shared_ptr<SessionRef> ref, SessionRow row) {
    {
      std::lock_guard lock(mu_);
      ends_.emplace_back(std::move(ref), std::move(row));
      urgent_ = true;
    }
    cv_.notify_all();
  }
  /// Bytes of `who` queued or being committed: not in the database yet.
  /// Bytes of `who` queued or being committed (not in the database yet), in the
  /// windows of `at`: a delta counts toward each window it shares with `at`.
  [[nodiscard]] UsageByWindow pending(const Principal& who, const WindowStarts& at) {
    std::lock_guard lock(mu_);
    UsageByWindow sum;
    const std::string prefix = principal_key(who) + '|';
    for (auto it = pending_.lower_bound(prefix); it != pending_.end() && it->first.starts_with(prefix); ++it) {
      const auto& [w, u] = it->second;
      for (auto [mine, theirs, out] : {std::tuple{&w.day, &at.day, &sum.day}, std::tuple{&w.week, &at.week, &sum.week},
                                       std::tuple{&w.month, &at.month, &sum.month}}) {
        if (*mine == *theirs) {
          *out += u;
        }
      }
    }
    return sum;
  }

 private:
  void loop() {
    constexpr int kMaxAttempts = 5;
    int failures = 0;
    WriteBatch batch;
    for (;;) {
      bool last = false;
      std::vector<std::pair<std::shared_ptr<SessionRef>, SessionRow>> starts;
      std::vector<std::pair<std::shared_ptr<SessionRef>, IntervalRow>> intervals;
      std::vector<std::pair<std::shared_ptr<SessionRef>, SessionRow>> ends;
      {
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, every_, [&] { return stopping_ || urgent_; });
        urgent_ = false;
        last = stopping_;
        append(batch, std::move(queue_));
        queue_ = WriteBatch{};
        usage_index_.clear();
        starts.swap(starts_);
        intervals.swap(intervals_);
        ends.swap(ends_);
      }
      // Sessions first (each its own insert: the database assigns the id), then
      // their rows; a session whose insert failed loses its rows (logged).
      const auto flush_start = std::chrono::steady_clock::now();
      bool flush_ok = true;
      if (!starts.empty()) {
        std::vector<SessionRow> rows;
        rows.reserve(starts.size());
        for (auto& st : starts) {
          rows.push_back(st.second);
        }
        if (auto r = store_->begin_sessions(rows); r) {
          for (std::size_t i = 0; i < rows.size(); ++i) {
            starts[i].first->id.store(rows[i].id);
          }
        } else {
          flush_ok = false;
          log_->warn("database: recording {} session start(s) failed: {}", rows.size(), r.error().message());
        }
      }
      for (auto& [ref, row] : intervals) {
        if (int64_t id = ref->id.load(); id != 0) {
          row.session_id = id;
          batch.intervals.push_back(row);
        }
      }
      for (auto& [ref, row] : ends) {
        if (int64_t id = ref->id.load(); id != 0) {
          row.id = id;
          batch.session_ends.push_back(std::move(row));
        }
      }
      const bool work = !starts.empty() || !batch.empty();
      if (!batch.empty()) {
        if (auto r = store_->write(batch); r) {
          settle(batch);
          batch = WriteBatch{};
          failures = 0;
        } else {
          flush_ok = false;
          if (++failures >= kMaxAttempts) {
            log_->error("database: dropping a batch after {} failed writes: {}", failures, r.error().message());
            settle(batch);
            batch = WriteBatch{};
            failures = 0;
          } else {
            log_->warn("database write failed (will retry): {}", r.error().message());
          }
        }
      }
      if (work) {
        monitor_.flush(std::chrono::steady_clock::now() - flush_start, flush_ok, now_unix_ms());
      }
      if (last) {
        return;
      }
    }
  }

  static void append(WriteBatch& to, WriteBatch&& from) {
    auto move_all = [](auto& dst, auto& src) {
      dst.insert(dst.end(), std::make_move_iterator(src.begin()), std::make_move_iterator(src.end()));
    };
    move_all(to.usage, from.usage);
    move_all(to.session_ends, from.session_ends);
    move_all(to.intervals, from.intervals);
    move_all(to.rejections, from.rejections);
  }

  // The batch is in the database (or given up): it is no longer pending.
  void settle(const WriteBatch& b) {
    std::lock_guard lock(mu_);
    for (const UsageDelta& d : b.usage) {
      auto it = pending_.find(pending_key(d.who, d.windows));
      if (it != pending_.end()) {
        Usage& u = it->second.second;
        u.in -= std::min(u.in, d.in);
        u.out -= std::min(u.out, d.out);
        if (u.in == 0 && u.out == 0) {
          pending_.erase(it);
        }
      }
    }
  }

  std::unique_ptr<Store> store_;
  std::chrono::milliseconds every_;
  Monitor& monitor_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex mu_;
  std::condition_variable cv_;
  WriteBatch queue_;  // usage and rejections
  std::vector<std::pair<std::shared_ptr<SessionRef>, SessionRow>> starts_;
  std::vector<std::pair<std::shared_ptr<SessionRef>, IntervalRow>> intervals_;
  std::vector<std::pair<std::shared_ptr<SessionRef>, SessionRow>> ends_;
  std::map<std::string, std::size_t> usage_index_;  // queue_.usage entry per principal and windows
  // Not yet committed, per principal and window set (key: pending_key).
  std::map<std::string, std::pair<WindowStarts, Usage>> pending_;
  static std::string pending_key(const Principal& who, const WindowStarts& w) {
    return principal_key(who) + '|' + w.day + '|' + w.week + '|' + w.month;
  }
  bool urgent_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

// ---------------------------------------------------------------------------
// Policy and grants

class Policy;

class Grant final : public TestGrant, public ByteBudget {
 public:
  Grant(Policy& p, std::string ip, std::string user, std::shared_ptr<PrincipalBudget> user_budget,
        std::shared_ptr<PrincipalBudget> ip_budget)
      : policy_(p),
        ip_(std::move(ip)),
        user_(std::move(user)),
        user_budget_(std::move(user_budget)),
        ip_budget_(std::move(ip_budget)) {}
  ~Grant() override;

  ByteBudget* budget() noexcept override { return user_budget_ || ip_budget_ ? this : nullptr; }
  const core::Interrupt* exhausted() const noexcept override { return &exhausted_; }
  std::string exhausted_reason() const override {
    std::string r = user_budget_ ? user_budget_->exhausted() : std::string();
    if (r.empty() && ip_budget_) {
      r = ip_budget_->exhausted();
    }
    return r.empty() ? "quota" : r;
  }

  bool take_out(uint64_t bytes) noexcept override { return take(true, bytes); }
  bool take_in(uint64_t bytes) noexcept override { return take(false, bytes); }

  void started(const TestRecord& rec) override;
  void interval(const TestRecord& rec, const IntervalSample& s) override;
  void finishing() override;
  void ended(const TestRecord& rec) override;

 private:
  bool take(bool out, uint64_t bytes) noexcept {
    bool ok = true;
    if (user_budget_) {
      ok = user_budget_->take(out, bytes) && ok;
    }
    if (ip_budget_) {
      ok = ip_budget_->take(out, bytes) && ok;
    }
    if (!ok && !exhausted_.requested()) {
      exhausted_.request();
    }
    return ok;
  }

  Policy& policy_;
  std::string ip_;
  std::string user_;
  std::shared_ptr<PrincipalBudget> user_budget_;
  std::shared_ptr<PrincipalBudget> ip_budget_;
  core::Interrupt exhausted_;
  std::shared_ptr<SessionRef> session_ = std::make_shared<SessionRef>();
  bool slot_released_ = false;
  bool registered_ = false;  // in the Monitor's live list
};

class Policy final : public ServerPolicy {
 public:
  Policy(const ServeConfig& cfg, detail::StorePool control, Writer& writer, Monitor& monitor,
         std::shared_ptr<spdlog::logger> log)
      : cfg_(cfg), control_(std::move(control)), writer_(writer), monitor_(monitor), log_(std::move(log)) {}

  std::optional<std::string> md5_password(std::string_view name) override {
    auto u = find_user(name);
    if (!u || !u->enabled || !u->allow_md5 || !u->md5_password) {
      return std::nullopt;
    }
    return u->md5_password;
  }

  std::optional<ecsrp5::Verifier> ecsrp5_verifier(std::string_view name) override {
    auto u = find_user(name);
    if (!u || !u->enabled) {
      return std::nullopt;
    }
    auto v = ecsrp5::verifier_from_text(u->verifier);
    if (!v) {
      log_->error("user {}: stored verifier unusable: {}", u->name, v.error().message());
      return std::nullopt;
    }
    return *v;
  }

  core::Result<std::unique_ptr<TestGrant>> admit(const TestRequest& req) override {
    monitor_.login(req.auth, true);  // admit() follows every good login, and only those
    const std::string ip = req.peer.ip();
    std::optional<User> user;
    if (!req.user.empty()) {
      user = find_user(req.user);
      if (!user || !user->enabled) {
        return refuse(ip, req.user, "user_disabled");  // disabled between login and here
      }
    }
    const WindowStarts windows = window_starts(now());
    std::lock_guard lock(mu_);
    // The slot is taken only once every check passed, so a refusal has nothing
    // to give back.
    if (auto it = ip_active_.find(ip);
        cfg_.max_conn_per_ip != 0 && it != ip_active_.end() && it->second >= cfg_.max_conn_per_ip) {
      return refuse(ip, req.user, "ip_limit");
    }
    std::shared_ptr<PrincipalBudget> ub;
    std::shared_ptr<PrincipalBudget> ib;
    if (user && any_limit(user->limits)) {
      auto b = budget_locked(Principal{PrincipalKind::kUser, user->name}, user->limits, windows);
      if (!b) {
        return tl::unexpected(b.error());
      }
      ub = *b;
    }
    if (any_limit(cfg_.ip_limits)) {
      auto b = budget_locked(Principal{PrincipalKind::kIp, ip}, cfg_.ip_limits, windows);
      if (!b) {
        return tl::unexpected(b.error());
      }
      ib = *b;
    }
    for (const auto& b : {ub, ib}) {
      if (b) {
        if (std::string why =
                b->starved(kMinAdmitBytes, server_sends(req.cmd.direction), client_sends(req.cmd.direction));
            !why.empty()) {
          return refuse(ip, req.user, why);
        }
      }
    }
    ++ip_active_[ip];
    if (ub) {
      ++ub->active;
    }
    if (ib) {
      ++ib->active;
    }
    return std::unique_ptr<TestGrant>(std::make_unique<Grant>(*this, ip, req.user, ub, ib));
  }

  void rejected(const core::SockAddr& peer, std::string_view user, std::string_view reason) override {
    if (reason == "auth_failed") {
      // The server offers one method to every client (ServeConfig::server.auth_method).
      monitor_.login(auth_method_name(cfg_.server.auth_method), false);
    }
    monitor_.rejection(reason);
    writer_.rejection(RejectionRow{now_unix_ms(), cfg_.server_name, peer.ip(), std::string(user), std::string(reason)});
  }

  // --- for Grant
  void release_slot(const std::string& ip) {
    std::lock_guard lock(mu_);
    release_ip_locked(ip);
  }
  void release_budgets(const std::shared_ptr<PrincipalBudget>& ub, const std::shared_ptr<PrincipalBudget>& ib) {
    std::lock_guard lock(mu_);
    for (const auto& b : {ub, ib}) {
      if (b && b->active > 0) {
        --b->active;
      }
    }
  }
  Writer& writer() { return writer_; }
  Monitor& monitor() { return monitor_; }
  const ServeConfig& cfg() const { return cfg_; }
  /// The calendar clock of the quota windows (ServeConfig::clock).
  [[nodiscard]] std::chrono::system_clock::time_point now() const {
    return cfg_.clock ? cfg_.clock() : std::chrono::system_clock::now();
  }

 private:
  // A user row is read once per kUserCacheTtl at most: a login asks for it twice
  // (credentials, then admission), and a burst of logins by one user or of
  // unknown names does not turn into a burst of queries. Changes to users (user
  // set/del/passwd) therefore take effect within kUserCacheTtl.
  std::optional<User> find_user(std::string_view name) {
    const auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard lock(cache_mu_);
      if (auto it = user_cache_.find(name); it != user_cache_.end() && now - it->second.second < kUserCacheTtl) {
        return it->second.first;
      }
    }
    std::optional<User> user;
    {
      auto u = control_.with([&](Store& st) { return st.find_user(name); });
      if (!u) {
        log_->error("database: looking up user {}: {}", name, u.error().message());
        return std::nullopt;  // not cached: the next login asks again
      }
      user = std::move(*u);
    }
    std::lock_guard lock(cache_mu_);
    if (user_cache_.size() >= kUserCacheMax) {
      user_cache_.clear();
    }
    user_cache_.insert_or_assign(std::string(name), std::make_pair(user, now));
    return user;
  }
  static constexpr auto kUserCacheTtl = std::chrono::seconds(2);
  static constexpr std::size_t kUserCacheMax = 100'000;

  core::Result<std::unique_ptr<TestGrant>> refuse(const std::string& ip, const std::string& user,
                                                  const std::string& reason) {
    monitor_.rejection(reason);
    writer_.rejection(RejectionRow{now_unix_ms(), cfg_.server_name, ip, user, reason});
    return core::fail(reason);
  }

  void release_ip_locked(const std::string& ip) {
    auto it = ip_active_.find(ip);
    if (it != ip_active_.end() && --it->second == 0) {
      ip_active_.erase(it);
    }
  }

  // The principal's shared budget; rebuilt from the database when none of its
  // tests runs here or the calendar window changed (file comment, step 2).
  core::Result<std::shared_ptr<PrincipalBudget>> budget_locked(const Principal& who, const Limits& limits,
                                                               const WindowStarts& windows) {
    const std::string key = principal_key(who);
    auto it = budgets_.find(key);
    if (it != budgets_.end() && it->second->active > 0 && it->second->windows() == windows &&
        it->second->limits() == limits) {
      return it->second;
    }
    const UsageByWindow pending = writer_.pending(who, windows);  // first: see the file comment
    UsageByWindow used;
    {
      auto u = control_.with([&](Store& st) { return st.usage(who, windows); });
      if (!u) {
        log_->error("database: reading usage of {}: {}", who.key, u.error().message());
        return core::fail("db_error");
      }
      used = *u;
    }
    used += pending;
    auto b = std::make_shared<PrincipalBudget>(who, limits, used, windows);
    if (it != budgets_.end() && it->second->active > 0) {
      // The window or the limits changed while tests run: they keep the old
      // budget object, new tests get the new one.
      it->second = b;
    } else {
      budgets_[key] = b;
    }
    return b;
  }

  const ServeConfig& cfg_;
  detail::StorePool control_;  // the control-plane connections
  Writer& writer_;
  Monitor& monitor_;
  std::shared_ptr<spdlog::logger> log_;
  std::mutex cache_mu_;
  std::map<std::string, std::pair<std::optional<User>, std::chrono::steady_clock::time_point>, std::less<>> user_cache_;
  std::mutex mu_;  // admission state below
  std::map<std::string, unsigned> ip_active_;
  std::map<std::string, std::shared_ptr<PrincipalBudget>> budgets_;
};

// The per-IP slot goes back before the server's FIN (the client may start its
// next test at once); the budgets stay with the grant until the data threads
// are joined.
void Grant::finishing() {
  if (!slot_released_) {
    slot_released_ = true;
    policy_.release_slot(ip_);
  }
}

Grant::~Grant() {
  if (registered_) {
    policy_.monitor().test_ended(session_);
  }
  finishing();
  policy_.release_budgets(user_budget_, ip_budget_);
}

void Grant::started(const TestRecord& rec) {
  SessionRow row;
  row.server = policy_.cfg().server_name;
  row.started_unix_ms = rec.start_unix_ms;
  row.user = user_;
  row.ip = ip_;
  row.proto = rec.proto == Proto::kUdp ? "udp" : "tcp";
  row.direction = std::string(direction_name(rec.direction));
  row.connections = rec.connections;
  row.status = "running";
  session_->ip = row.ip;
  session_->user = row.user;
  session_->proto = row.proto;
  session_->direction = row.direction;
  session_->connections = row.connections;
  session_->started_unix_ms = row.started_unix_ms;
  policy_.monitor().test_started(session_);
  registered_ = true;
  policy_.writer().session_start(session_, std::move(row));
}

void Grant::interval(const TestRecord& /*rec*/, const IntervalSample& s) {
  // in = client -> server = what we received; out = what we sent.
  const WindowStarts windows = window_starts(policy_.now());
  Writer& w = policy_.writer();
  if (!user_.empty()) {
    w.usage(Principal{PrincipalKind::kUser, user_}, windows, s.rx_bytes, s.tx_bytes);
  }
  w.usage(Principal{PrincipalKind::kIp, ip_}, windows, s.rx_bytes, s.tx_bytes);
  {
    IntervalRow row;
    row.second = s.index > 0 ? s.index - 1 : 0;
    row.bytes_in = s.rx_bytes;
    row.bytes_out = s.tx_bytes;
    row.lost = s.lost > 0 ? static_cast<uint64_t>(s.lost) : 0;
    policy_.monitor().test_interval(*session_, s.rx_bytes, s.tx_bytes, row.lost);
    row.cpu_local = s.local_cpu;
    row.cpu_remote = s.remote_cpu;
    row.duration_ms = static_cast<uint32_t>(std::clamp(s.seconds * 1000.0 + 0.5, 1.0, 3'600'000.0));
    w.interval(session_, row);
  }
}

void Grant::ended(const TestRecord& rec) {
  SessionRow row;
  row.ended_unix_ms = now_unix_ms();
  row.connections = rec.connections;
  row.bytes_in = rec.rx_bytes;
  row.bytes_out = rec.tx_bytes;
  row.lost = rec.udp.lost;
  if (exhausted_.requested()) {
    row.status = exhausted_reason();
  } else if (rec.end_reason == "max duration reached") {
    row.status = "max_duration";
  } else if (rec.ok) {
    row.status = "ok";
  } else {
    row.status = "error";
  }
  policy_.writer().session_end(session_, std::move(row));
  if (registered_) {
    registered_ = false;
    policy_.monitor().test_ended(session_);
  }
}

}  // namespace

core::Result<void> run_server(const ServeConfig& cfg, const core::Interrupt& stop) {
  if (cfg.server.auth_method == AuthMethod::kNone) {
    return core::fail("serve: btest-pro needs an authentication method (--auth ecsrp5 or md5)");
  }
  // The admin token is read first: a bad token file stops the start before
  // anything listens or logs.
  std::string admin_token = cfg.admin_token;
  if (!cfg.admin_token_file.empty()) {
    auto text = core::read_file_capped(cfg.admin_token_file, 4096);
    if (!text) {
      return core::fail("--admin-token-file: " + text.error().message());
    }
    admin_token = text->substr(0, text->find_first_of("\r\n"));
    if (auto t = web::check_token(admin_token); !t) {
      return core::fail("--admin-token-file " + cfg.admin_token_file + ": " + t.error());
    }
  }
  constexpr int kControlConnections = 4;
  auto control = detail::StorePool::open(cfg.db_url, kControlConnections);
  if (!control) {
    return tl::unexpected(control.error());
  }
  auto writer_store = Store::open(cfg.db_url);
  if (!writer_store) {
    return tl::unexpected(writer_store.error());
  }
  auto log = spdlog::stderr_color_mt("btest-pro");
  log->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  log->set_level(cfg.server.quiet ? spdlog::level::warn : spdlog::level::info);
  struct DropLogger {
    ~DropLogger() { spdlog::drop("btest-pro"); }
  } drop_logger;
  if (auto n = control->with([&](Store& st) { return st.close_stale_sessions(cfg.server_name, now_unix_ms()); }); !n) {
    return tl::unexpected(n.error());
  } else if (*n > 0) {
    log->warn("{} session(s) of {} were still 'running' (killed process): marked interrupted", *n, cfg.server_name);
  }

  Monitor monitor;
  Writer writer(std::move(*writer_store), cfg.flush_interval, monitor, log);
  auto policy = std::make_shared<Policy>(cfg, std::move(*control), writer, monitor, log);
  ServerConfig sc = cfg.server;
  sc.auth.reset();
  sc.policy = policy;
  auto server = Server::create(std::move(sc));
  if (!server) {
    return tl::unexpected(server.error());
  }
  log->info("btest-pro {} on port {} ({} database, auth {})", cfg.server_name, (*server)->port(),
            cfg.db_url.rfind("postgres", 0) == 0 ? "postgresql" : "sqlite", auth_method_name(cfg.server.auth_method));
  // The dashboard: its own threads and database connections, so a busy web
  // side slows only itself (web/server.hpp).
  std::unique_ptr<web::WebServer> dashboard;
  if (!cfg.web_listen.empty()) {
    web::WebContext ctx{cfg,
                        admin_token,
                        (*server)->port(),
                        monitor,
                        [&writer](const Principal& who, const WindowStarts& at) { return writer.pending(who, at); },
                        [policy] { return policy->now(); }};
    auto w = web::WebServer::start(std::move(ctx));
    if (!w) {
      return tl::unexpected(w.error());
    }
    dashboard = std::move(*w);
    log->info("web dashboard on http://{}/", dashboard->address());
  }
  if (cfg.on_ready) {
    cfg.on_ready((*server)->port(), dashboard ? dashboard->port() : uint16_t{0});
  }
  (*server)->run(stop);
  dashboard.reset();  // no reader of the writer or the monitor is left
  server->reset();    // every test has ended: their grants are gone
  writer.stop();      // the last flush
  return {};
}

}  // namespace linerate::btest::pro
