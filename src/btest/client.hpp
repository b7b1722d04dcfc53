// btest/client.hpp — the btest client (RouterOS /tool bandwidth-test compatible).
//
// run_client() connects, performs the handshake of spec Appendix A.2 (no auth or
// MD5; the server chooses), opens the secondaries of a multi-connection test, and
// then runs the test for the configured duration: TcpTransfer moves the data, and
// this thread ticks once a second to sample counters and report a line. The test
// ends at the duration, on a stop request (Ctrl-C) or when the server closes;
// the summary is produced in every case.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "btest/protocol.hpp"
#include "btest/report.hpp"
#include "btest/server.hpp"
#include "core/interrupt.hpp"
#include "core/result.hpp"
#include "core/socket.hpp"

namespace linerate::btest {

struct ClientConfig {
  std::string host;
  uint16_t port = kDefaultPort;
  Direction direction = Direction::kClientRx;  // RouterOS default
  unsigned connections = 1;                    // 1 = single connection (conn_count 0 on the wire)
  uint64_t local_tx_speed = 0;                 // our transmit cap, bit/s (0 = unlimited)
  uint64_t remote_tx_speed = 0;                // the server's transmit cap, bit/s
  bool random_payload = false;                 // random_data flag; our TCP stream then carries random bytes
  core::Millis duration{10'000};               // 0 = until stopped
  core::Millis connect_timeout{5'000};
  core::Millis handshake_timeout{10'000};
  core::Millis idle_timeout{30'000};
  std::optional<Credentials> auth;
};

/// Client failures that map to distinct exit codes.
enum class ClientFailure { kNone, kConnect, kProtocol, kAuthRequired, kAuthFailed, kUnsupported };

struct ClientOutcome {
  TestRecord record;  // valid when the test started
  bool started = false;
  ClientFailure failure = ClientFailure::kNone;
  std::string error;                  // one line when failure != kNone
  std::vector<std::string> warnings;  // e.g. a secondary connection that could not join
};

/// Run one test. on_interval is called once a second from the calling thread.
ClientOutcome run_client(const ClientConfig& cfg, const core::Interrupt& stop,
                         const std::function<void(const TestRecord&, const IntervalSample&)>& on_interval);

}  // namespace linerate::btest
