// btest/report.hpp — what a finished (or running) test reports, in every format.
//
// One TestRecord describes a test from one side. The same record feeds the
// per-second lines, the summary, --json, the CSV row and the syslog TEST_END
// event, so the numbers can never disagree between outputs. Direction words are
// always RouterOS's client-side words (transmit / receive / both), in both modes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "btest/protocol.hpp"

namespace linerate::btest {

struct IntervalSample {
  uint32_t index = 0;            // 1-based second
  double seconds = 0;            // length of this interval (last one may be partial)
  uint64_t tx_bytes = 0;         // this side sent
  uint64_t rx_bytes = 0;         // this side received
  uint64_t peer_rx_bytes = 0;    // sum of the peer's status byte counts that arrived in this interval
  uint64_t peer_last_bytes = 0;  // the newest such count (one status period: what RouterOS shows)
  bool peer_reported = false;    // a status record arrived in this interval
  int local_cpu = -1;
  int remote_cpu = -1;
  int64_t lost = 0;  // UDP: change in lost datagrams this interval (late arrivals can make it negative)
};

/// UDP datagram counts of one side (spec §11.5); all zero in TCP tests.
struct UdpCounts {
  uint64_t tx_datagrams = 0;
  uint64_t rx_datagrams = 0;  // unique datagrams received
  uint64_t lost = 0;
  uint64_t duplicates = 0;
  uint64_t reordered = 0;
  uint64_t malformed = 0;  // too short / wrong size: ignored
  uint64_t foreign = 0;    // from an address that is not the peer: ignored
  unsigned tx_size = 0;    // our datagrams' on-wire size (IP+UDP header included)
  unsigned overhead = 0;   // header bytes counted per datagram (28 or 48)
  uint16_t port = 0;       // server's UDP port (§11.1)
  bool gso = false;
  bool gro = false;
  /// lost / (received + lost) in percent; 0 when nothing was expected.
  [[nodiscard]] double loss_percent() const {
    uint64_t expected = rx_datagrams + lost;
    return expected == 0 ? 0.0 : 100.0 * static_cast<double>(lost) / static_cast<double>(expected);
  }
};

struct TestRecord {
  std::string mode;  // "client" or "server"
  std::string peer;  // "192.0.2.1:2000"
  std::string user;  // authenticated user, empty when none
  std::string auth;  // "none", "md5"
  Proto proto = Proto::kTcp;
  Direction direction = Direction::kClientTx;
  unsigned connections = 1;
  uint64_t tx_speed_cap_bps = 0;  // this side's transmit cap, 0 unlimited
  int64_t start_unix_ms = 0;
  double duration_s = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_bytes = 0;
  uint64_t status_sent = 0;    // 12-byte status records we wrote (not counted in tx_bytes)
  uint64_t peer_rx_bytes = 0;  // sum of the peer's status byte counts
  UdpCounts udp;               // proto UDP only
  std::vector<IntervalSample> intervals;
  std::string end_reason;
  bool ok = true;

  [[nodiscard]] bool sends() const;     // this side transmitted data
  [[nodiscard]] bool receives() const;  // this side received data
  [[nodiscard]] double tx_avg_bps() const;
  [[nodiscard]] double rx_avg_bps() const;
  [[nodiscard]] int local_cpu_avg() const;   // -1 unknown
  [[nodiscard]] int remote_cpu_avg() const;  // -1 unknown
};

/// "[  5]  TX  285.47 Mbps  RX  281.10 Mbps  cpu: 20%/62%" (TX from the peer's
/// report when it sent one, spec §14).
[[nodiscard]] std::string interval_line(const TestRecord& r, const IntervalSample& s);
/// Multi-line human summary (avg, total bytes, duration, end reason).
[[nodiscard]] std::string summary_text(const TestRecord& r);
/// One JSON object (single line) with the summary and every interval.
[[nodiscard]] std::string summary_json(const TestRecord& r);

[[nodiscard]] std::vector<std::string> csv_header();
[[nodiscard]] std::vector<std::string> csv_row(const TestRecord& r);

/// "peer=... user=... proto=tcp direction=both connections=20 ..." for logs and syslog.
[[nodiscard]] std::string start_fields(const TestRecord& r);
[[nodiscard]] std::string end_fields(const TestRecord& r);

}  // namespace linerate::btest
