// btest/client.hpp — the btest client (RouterOS /tool bandwidth-test compatible).
//
// run_client() connects, performs the handshake of spec Appendix A.2 (none, MD5
// or EC-SRP5; the server chooses), opens the secondaries of a multi-connection
// TCP test or the UDP sockets of a UDP test, and then runs the test for the
// configured duration: TcpTransfer or UdpTransfer moves the data, and this
// thread ticks once a second to sample counters, send UDP status and report a line. The test
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
  Proto proto = Proto::kTcp;
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
  // UDP (spec §11). Sizes are on-wire IP packet sizes, header included (§11.4).
  unsigned udp_tx_size = 1500;         // our datagrams (RouterOS local-udp-tx-size)
  unsigned udp_remote_tx_size = 1500;  // the server's, sent in the command (remote-udp-tx-size)
  unsigned udp_ipv6_overhead = 48;     // header bytes per IPv6 datagram: 48 or 28 ([U] in the spec)
  bool udp_offload = true;             // UDP GSO/GRO where the kernel has them (false: one datagram per message)
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
