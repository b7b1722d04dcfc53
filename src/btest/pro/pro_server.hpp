// btest/pro/pro_server.hpp — the btest-pro server: `btest -s` with users from a
// Store, per-user and per-IP quotas enforced in the data path, and every test
// recorded (sessions, per-second intervals, rejections).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "btest/pro/store.hpp"
#include "btest/server.hpp"
#include "core/interrupt.hpp"
#include "core/result.hpp"

namespace linerate::btest::pro {

struct ServeConfig {
  /// Port, listeners, timeouts, max_duration, max_sessions, UDP range, CSV,
  /// syslog: exactly as `btest -s`. `server.auth` is unused (users come from the
  /// store); `server.auth_method` is the method offered to every client
  /// (kEcSrp5 by default, kMd5 for old clients: only users with allow_md5 can
  /// then log in; kNone is refused by run_server).
  ServerConfig server;
  std::string db_url;  // as Store::open()
  /// Per-IP limits (per user limits live on each User).
  Limits ip_limits;
  /// Concurrent tests per client IP (a multi-connection test counts once); 0 = unlimited.
  unsigned max_conn_per_ip = 0;
  /// Zone of the calendar windows: "UTC" (default) or an IANA name under /usr/share/zoneinfo.
  std::string time_zone = "UTC";
  /// Recorded with every session and rejection; default "<hostname>:<port>".
  std::string server_name;
  /// The writer thread flushes at least this often (and at every session end).
  std::chrono::milliseconds flush_interval{1000};
  /// The calendar clock that picks quota windows (tests inject one to cross
  /// midnight, a week or a month); empty = the system clock.
  std::function<std::chrono::system_clock::time_point()> clock;
  /// The dashboard, JSON API and /metrics (docs/api.md): "ADDR:PORT" as
  /// web::parse_listen takes it; empty = no HTTP server. Port 0 = any free port.
  std::string web_listen;
  /// The dashboard's admin token (web::check_token rules); empty = no admin access.
  std::string admin_token;
  /// Read the admin token from the first line of this file instead (run_server).
  std::string admin_token_file;
  /// Called once the listeners are bound, before serving: the btest port and the
  /// web port (0 without --web). For tests and embedding.
  std::function<void(uint16_t btest_port, uint16_t web_port)> on_ready;
};

/// Open the store, close stale sessions of this server, serve until `stop`.
/// Returns an error for a bad configuration or an unreachable database.
core::Result<void> run_server(const ServeConfig& cfg, const core::Interrupt& stop);

}  // namespace linerate::btest::pro
