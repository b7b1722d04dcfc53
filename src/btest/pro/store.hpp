// btest/pro/store.hpp — the btest-pro user database behind one interface, with two
// real backends: SQLite (one file, WAL; the embedded default) and PostgreSQL
// (several btest-pro servers sharing users and quotas).
//
// Who calls what (STYLE: control plane and data plane are different worlds):
//   - the CLI (`user ...`, `usage`) and the server's handshake threads call the
//     user methods and begin_session(): once per command / per test, never per packet;
//   - exactly one writer thread per server calls write() with batched usage deltas,
//     session ends, per-second intervals and rejections, at least every 2 s.
// A Store object is not thread-safe; the server opens one per thread that needs it
// (the writer, the control plane). Both backends run the same versioned migrations
// at open(). Every call that fails returns a one-line error naming what failed
// (never a password).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace linerate::btest::pro {

/// Byte limits of one calendar window; 0 = unlimited. in = client->server,
/// out = server->client; total = in + out.
struct DirLimits {
  uint64_t total = 0;
  uint64_t in = 0;
  uint64_t out = 0;
  bool operator==(const DirLimits&) const = default;
};

/// Calendar windows: day, ISO week (Monday start), month, in the configured zone.
struct Limits {
  DirLimits day;
  DirLimits week;
  DirLimits month;
  bool operator==(const Limits&) const = default;
};

struct User {
  int64_t id = 0;  // assigned by the store
  std::string name;
  bool enabled = true;
  bool allow_md5 = false;
  /// Only for users explicitly allowed MD5 (the MD5 login needs the plaintext).
  std::optional<std::string> md5_password;
  /// EC-SRP5 verifier in ecsrp5::to_text() form; every user has one.
  std::string verifier;
  Limits limits;
  int64_t created_unix = 0;
};

enum class PrincipalKind : uint8_t { kUser, kIp };

/// A quota principal: a user name, or an IP address in canonical text form
/// (IPv4 dotted quad, IPv6 RFC 5952; v4-mapped IPv6 is written as IPv4).
struct Principal {
  PrincipalKind kind = PrincipalKind::kIp;
  std::string key;
  bool operator==(const Principal&) const = default;
};

/// The first day of each window that contains a moment, "YYYY-MM-DD" in the
/// configured zone (see windows.hpp).
struct WindowStarts {
  std::string day;
  std::string week;
  std::string month;
  bool operator==(const WindowStarts&) const = default;
};

struct Usage {
  uint64_t in = 0;
  uint64_t out = 0;
  [[nodiscard]] uint64_t total() const { return in + out; }
  Usage& operator+=(const Usage& o) {
    in += o.in;
    out += o.out;
    return *this;
  }
};

struct UsageByWindow {
  Usage day;
  Usage week;
  Usage month;
  /// Window by window (e.g. committed usage plus what the writer still holds).
  UsageByWindow& operator+=(const UsageByWindow& o) {
    day += o.day;
    week += o.week;
    month += o.month;
    return *this;
  }
};

/// Bytes to add to a principal's three windows (the windows the bytes were moved in).
struct UsageDelta {
  Principal who;
  WindowStarts windows;
  uint64_t in = 0;
  uint64_t out = 0;
};

/// A test as recorded; begin_session() inserts it with status "running".
struct SessionRow {
  int64_t id = 0;      // assigned by begin_session()
  std::string server;  // the server instance that ran it (--server-name)
  int64_t started_unix_ms = 0;
  int64_t ended_unix_ms = 0;  // 0 while running
  std::string user;           // empty for no authentication
  std::string ip;             // canonical client address
  std::string proto;          // "tcp" | "udp"
  std::string direction;      // "transmit" | "receive" | "both": the client's view (btest::direction_name)
  uint32_t connections = 1;
  uint64_t bytes_in = 0;   // client -> server
  uint64_t bytes_out = 0;  // server -> client
  uint64_t lost = 0;       // UDP datagrams lost, both directions
  std::string status;      // "running", "ok", or a reason such as "quota_daily_user", "max_duration", "interrupted"
};

/// One second of one session.
struct IntervalRow {
  int64_t session_id = 0;
  uint32_t second = 0;  // 0-based
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t lost = 0;
  int cpu_local = -1;           // percent, -1 = unknown
  int cpu_remote = -1;          // percent, -1 = unknown
  uint32_t duration_ms = 1000;  // the interval's length; the last one of a test is usually shorter
};

/// A refused login or test: reason is a fixed token such as "auth_failed",
/// "user_disabled", "ip_limit", "quota_daily_user", "quota_weekly_ip_in", "max_sessions".
struct RejectionRow {
  int64_t unix_ms = 0;
  std::string server;
  std::string ip;
  std::string user;
  std::string reason;
};

/// Everything the writer thread flushes in one transaction.
struct WriteBatch {
  std::vector<UsageDelta> usage;
  std::vector<SessionRow> session_ends;  // by id: ended_unix_ms, bytes, lost, status, connections
  std::vector<IntervalRow> intervals;
  std::vector<RejectionRow> rejections;
  [[nodiscard]] bool empty() const {
    return usage.empty() && session_ends.empty() && intervals.empty() && rejections.empty();
  }
};

class Store {
 public:
  /// "postgresql://..." or "postgres://..." selects PostgreSQL (libpq URI);
  /// "sqlite:PATH" or a plain PATH selects SQLite. Creates/migrates the schema.
  static core::Result<std::unique_ptr<Store>> open(const std::string& url);
  virtual ~Store() = default;

  [[nodiscard]] virtual std::string_view backend() const = 0;  // "sqlite" | "postgresql"
  [[nodiscard]] virtual int schema_version() const = 0;

  // users
  virtual core::Result<void> add_user(const User& u) = 0;  // error if the name exists
  virtual core::Result<std::optional<User>> find_user(std::string_view name) = 0;
  virtual core::Result<std::vector<User>> list_users() = 0;           // by name
  virtual core::Result<void> update_user(const User& u) = 0;          // by name; error if missing
  virtual core::Result<bool> delete_user(std::string_view name) = 0;  // false if missing

  // quota usage
  virtual core::Result<UsageByWindow> usage(const Principal& who, const WindowStarts& at) = 0;

  /// The principals of `kind` with the most bytes (in + out) in one window
  /// (`window` is "day", "week" or "month", `start` its first day), most first,
  /// at most `limit`. For the dashboard's top IPs / users.
  virtual core::Result<std::vector<std::pair<std::string, Usage>>> top_usage(PrincipalKind kind,
                                                                             std::string_view window,
                                                                             std::string_view start,
                                                                             uint32_t limit) = 0;

  // sessions
  virtual core::Result<int64_t> begin_session(const SessionRow& s) = 0;
  /// begin_session for many rows in one transaction (the writer thread: one
  /// commit per flush instead of one per test); sets each row's id. All or nothing.
  virtual core::Result<void> begin_sessions(std::vector<SessionRow>& rows) = 0;
  /// Sessions of `server` still "running" (a killed process) become "interrupted".
  virtual core::Result<uint64_t> close_stale_sessions(std::string_view server, int64_t now_unix_ms) = 0;
  virtual core::Result<std::optional<SessionRow>> session(int64_t id) = 0;
  /// Newest first; empty ip = all.
  virtual core::Result<std::vector<SessionRow>> recent_sessions(std::string_view ip, uint32_t limit) = 0;
  virtual core::Result<std::vector<IntervalRow>> intervals(int64_t session_id) = 0;
  virtual core::Result<std::vector<RejectionRow>> recent_rejections(uint32_t limit) = 0;

  /// One transaction: usage deltas are added (upsert), session ends applied,
  /// intervals and rejections inserted. All or nothing.
  virtual core::Result<void> write(const WriteBatch& batch) = 0;
};

}  // namespace linerate::btest::pro
