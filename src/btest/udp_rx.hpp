// btest/udp_rx.hpp — receive-side accounting for UDP tests (spec §11.2, §11.4, §11.5).
//
// Every received datagram goes through UdpRxAccount::on_datagram(): it reads the
// big-endian sequence number, counts the datagram's on-wire bytes (payload plus
// the IP+UDP header overhead, §11.4) and keeps loss, duplicate and reordering
// counts per flow. Pure arithmetic on caller-supplied bytes: no clock, no
// syscalls, no allocation after construction, so it is unit-tested, fuzzed and
// benchmarked on its own and the receive loop stays a thin syscall wrapper.
//
// Flows. Each sender has its own sequence space (§11.2). A flow is one source
// port: a multi-connection client sends from N consecutive ports (§11.6) and our
// client numbers each socket separately. [U] in the spec: whether RouterOS numbers
// its N ports in one space; if it did, per-port gaps would count as loss — the
// first RouterOS capture settles this (spec §18 item 9).
//
// Loss (§11.5, serial-number arithmetic so the u32 wraps): a jump forward of d
// counts d-1 datagrams as lost. A datagram behind the newest one is either a
// duplicate (already seen within the last 64) or a late arrival, which was
// counted lost when the gap opened and is now taken back, or, when the start of
// the flow was reordered, older than every datagram seen so far: it was never
// counted lost, but the ones between it and the oldest seen now are. So at the end
//   unique datagrams received + lost == datagrams the peer sent
// from the first to the last one received (the head and tail beyond are unseen).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace linerate::btest {

/// Totals since the start of a test. All counts are datagrams except `bytes`.
struct UdpRxTotals {
  uint64_t datagrams = 0;   // accepted, duplicates included
  uint64_t bytes = 0;       // on-wire bytes of accepted datagrams (payload + overhead, §11.4)
  uint64_t lost = 0;        // gaps in the sequence not (yet) filled by late arrivals
  uint64_t duplicates = 0;  // sequence numbers seen twice within the window
  uint64_t reordered = 0;   // arrived after a later sequence number (late, not duplicate)
  uint64_t probes = 0;      // zero-length datagrams (NAT probes, §11.3): ignored
  uint64_t malformed = 0;   // 1-3 bytes (no sequence number) or not the expected size: ignored
  uint64_t foreign = 0;     // from an address that is not the test peer: ignored
  [[nodiscard]] uint64_t unique() const { return datagrams - duplicates; }
};

class UdpRxAccount {
 public:
  static constexpr std::size_t kMaxFlows = 512;  // > 255 ports of a multi-connection test

  /// overhead_bytes: header bytes counted per datagram (28 IPv4, 48 or 28 IPv6).
  /// expected_payload: the payload size every datagram must have, 0 = any.
  UdpRxAccount(unsigned overhead_bytes, std::size_t expected_payload)
      : overhead_(overhead_bytes), expected_(expected_payload) {}

  /// One datagram's payload from source port `flow`. Data plane: noexcept, O(1).
  void on_datagram(uint16_t flow, std::span<const std::byte> payload) noexcept {
    if (payload.empty()) {
      ++t_.probes;
      return;
    }
    if (payload.size() < 4 || (expected_ != 0 && payload.size() != expected_)) {
      ++t_.malformed;
      return;
    }
    const uint32_t seq = (static_cast<uint32_t>(payload[0]) << 24) | (static_cast<uint32_t>(payload[1]) << 16) |
                         (static_cast<uint32_t>(payload[2]) << 8) | static_cast<uint32_t>(payload[3]);
    ++t_.datagrams;
    t_.bytes += payload.size() + overhead_;
    Flow& f = flow_for(flow);
    if (!f.started) {
      f.started = true;
      f.next = seq + 1;
      f.seen = 1;
      return;
    }
    // Serial arithmetic: the distance from the expected number, as a signed 32-bit value.
    const auto ahead = static_cast<int32_t>(seq - f.next);
    if (ahead >= 0) {
      // In order (ahead == 0) or after a gap of `ahead` datagrams.
      t_.lost += static_cast<uint32_t>(ahead);
      const unsigned shift = static_cast<unsigned>(ahead) + 1;
      f.seen = shift >= 64 ? 1 : ((f.seen << shift) | 1);
      f.span = shift >= 64U - f.span ? 64 : static_cast<uint8_t>(f.span + shift);
      f.next = seq + 1;
      return;
    }
    // Behind the newest: bit k of `seen` is sequence number (next - 1 - k).
    const auto back = static_cast<uint32_t>(-(static_cast<int64_t>(ahead) + 1));
    if (back < 64) {
      const uint64_t bit = uint64_t{1} << back;
      if ((f.seen & bit) != 0) {
        ++t_.duplicates;
        return;
      }
      f.seen |= bit;
      if (back > f.span) {
        // Older than the oldest datagram seen: the flow's start was reordered.
        // Nothing was counted lost for it; the gap up to the oldest one is lost now.
        t_.lost += back - f.span - 1;
        f.span = static_cast<uint8_t>(back);
        ++t_.reordered;
        return;
      }
    }
    // Late: it was counted lost when the gap opened. Beyond the window we cannot
    // tell a late datagram from a very old duplicate; late is far likelier.
    ++t_.reordered;
    if (t_.lost > 0) {
      --t_.lost;
    }
  }

  void on_foreign(uint64_t datagrams = 1) noexcept { t_.foreign += datagrams; }
  void on_malformed() noexcept { ++t_.malformed; }

  [[nodiscard]] const UdpRxTotals& totals() const { return t_; }
  [[nodiscard]] unsigned overhead_bytes() const { return overhead_; }

 private:
  struct Flow {
    uint16_t port = 0;
    bool used = false;
    bool started = false;
    uint32_t next = 0;  // the sequence number that would continue the flow in order
    uint64_t seen = 0;  // bit k: (next - 1 - k) was received
    uint8_t span = 0;   // newest minus oldest sequence number received, saturated at 64
  };

  // Open addressing on the port. Every flow has a slot unless more than kMaxFlows
  // ports send to us; the excess share the last probed slot (their loss figures
  // then blur, but nothing breaks).
  Flow& flow_for(uint16_t port) noexcept {
    std::size_t i = (port * 40503U) & (kMaxFlows - 1);
    for (std::size_t n = 0; n < kMaxFlows; ++n) {
      Flow& f = flows_[i];
      if (!f.used) {
        f.used = true;
        f.port = port;
        return f;
      }
      if (f.port == port) {
        return f;
      }
      i = (i + 1) & (kMaxFlows - 1);
    }
    return flows_[i];
  }

  unsigned overhead_;
  std::size_t expected_;
  UdpRxTotals t_;
  std::array<Flow, kMaxFlows> flows_{};
};

}  // namespace linerate::btest
