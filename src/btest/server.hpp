// btest/server.hpp — the btest server (RouterOS /tool bandwidth-server compatible).
//
// Threads: one acceptor polls the listeners and the stop eventfd; each accepted
// connection gets a handler thread that runs the handshake (HELLO, command,
// auth, OK — spec Appendix A.1) and then, for a primary, the whole test: its
// TcpTransfer data threads plus a 1-second ticker that sends status records.
// A UDP test takes the lowest free port of the UDP range, announces it (§7),
// moves datagrams with a UdpTransfer and exchanges status on the control
// connection (a TcpTransfer that only reads records); it ends when the control
// connection closes or goes idle, and the port returns to the pool.
// Secondary connections of a multi-connection test are matched by token and
// source IP (§10) and handed to the primary's TcpTransfer. Every handshake read
// has a deadline; every failure is logged and drops only that peer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "btest/policy.hpp"
#include "btest/report.hpp"
#include "core/address.hpp"
#include "core/interrupt.hpp"
#include "core/result.hpp"
#include "core/socket.hpp"
#include "core/syslog.hpp"

namespace linerate::btest {

struct Credentials {
  std::string user;
  std::string password;
};

/// How the server authenticates clients (spec §4-§6).
enum class AuthMethod { kNone, kMd5, kEcSrp5 };
[[nodiscard]] std::string_view auth_method_name(AuthMethod m);

struct ServerConfig {
  uint16_t port = kDefaultPort;                   // 0 = any free port (tests)
  std::vector<std::string> listen = {"0.0.0.0"};  // IPv4/IPv6 literals; IPv6 sockets are V6ONLY
  std::optional<Credentials> auth;                // the one user; required unless auth_method is kNone
  AuthMethod auth_method = AuthMethod::kNone;     // kEcSrp5: the password is turned into a verifier at
                                                  // start-up (fresh salt per start) and then dropped
  core::Millis handshake_timeout{10'000};         // accept → command (and auth) complete
  core::Millis secondary_timeout{10'000};         // wait for missing multi-connection secondaries
  core::Millis idle_timeout{30'000};              // a data connection making no progress
  core::Millis max_duration{0};                   // 0 = unlimited
  unsigned max_sessions = 100;                    // concurrent tests; 0 = unlimited
  uint16_t udp_port_first = 2001;                 // UDP data ports, lowest free first (§11.1); keep the
  uint16_t udp_port_last = 2100;                  // range under 256 wide so no server port is a client port
  unsigned udp_ipv6_overhead = 48;                // header bytes per IPv6 datagram: 48 or 28 (§11.4, [U])
  bool udp_offload = true;                        // UDP GSO/GRO where the kernel has them
  std::string csv_path;                           // one row per finished test
  std::string syslog_target;                      // "host[:port]", empty = off
  core::SyslogFormat syslog_format = core::SyslogFormat::kRfc5424;
  bool quiet = false;                                  // warnings and errors only
  std::function<void(const TestRecord&)> on_test_end;  // called after each test (tests, pro server)
  /// Multi-user server (btest-pro): users, admission, byte budgets and records
  /// come from here; `auth` is then unused and auth_method must not be kNone.
  std::shared_ptr<ServerPolicy> policy;
};

struct ServerStats {
  uint64_t accepted = 0;
  uint64_t tests_started = 0;
  uint64_t tests_finished = 0;
  uint64_t auth_failures = 0;
  uint64_t dropped = 0;  // handshakes that failed for any reason
};

/// `--udp-ports FIRST-LAST` as the servers' command lines spell it: 1 <= FIRST <=
/// LAST <= 65279 (clients use port + 256). The error is one line quoting the text.
[[nodiscard]] core::Result<std::pair<uint16_t, uint16_t>> parse_udp_port_range(std::string_view text);

/// ServerConfig::listen from `--listen` (IPv4 literals) and `--listen6` (IPv6
/// literals); neither given = {"0.0.0.0", "::"}. The error names the flag and value.
[[nodiscard]] core::Result<std::vector<std::string>> listen_addresses(const std::vector<std::string>& v4,
                                                                      const std::vector<std::string>& v6);

class Server {
 public:
  /// Bind every listener (errors name the address). Nothing is served until run().
  [[nodiscard]] static core::Result<std::unique_ptr<Server>> create(ServerConfig cfg);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port (the one chosen by the kernel when cfg.port was 0).
  [[nodiscard]] uint16_t port() const;
  /// Serve until `stop` is requested; returns after every session has ended.
  void run(const core::Interrupt& stop);
  [[nodiscard]] ServerStats stats() const;
  [[nodiscard]] unsigned active_sessions() const;
  /// UDP ports currently leased to running tests.
  [[nodiscard]] std::size_t udp_ports_in_use() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace linerate::btest
