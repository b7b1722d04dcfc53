// scan/raw_io.hpp — the sockets of the stateless scans: batched raw sends, a
// capture ring for replies, the route lookup that picks our source address and
// interface, and pinning of the transmit and receive threads (spec lrscan §4).
//
// Why these choices (measured in bench/e2e/scan_syn.sh, see docs/lrscan.md):
//  * Send: a raw IP socket (IPPROTO_RAW, the header is ours) and sendmmsg() with
//    a whole batch per call. The kernel routes and resolves neighbours, so the
//    scanner needs no gateway MAC and works on loopback, veth and tunnels alike;
//    the cost is one syscall per batch, not per packet. A PACKET_MMAP TX ring
//    would save the routing work but needs our own ARP/ND; not worth it at the
//    rates one veth or NIC queue absorbs here.
//  * Receive: AF_PACKET SOCK_DGRAM (packets start at the IP header) with a
//    TPACKET_V3 ring: the kernel fills blocks of frames and we walk them with no
//    syscall per packet, only a poll() when the ring is empty. A classic BPF
//    filter keeps only what can be a reply (TCP to our source port, UDP to our
//    source port, ICMP/ICMPv6, never our own outgoing packets). The ring's drop counter (PACKET_STATISTICS) is
//    reported.
//
// Thread-safety: a RawSender belongs to the transmit thread, a CaptureRing to the
// receive thread; nothing here is shared.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/socket.hpp"
#include "scan/targets.hpp"

namespace linerate::scan {

/// Where probes to one address family leave from.
struct Route {
  Address source;     // our address on the way to the target
  std::string iface;  // interface carrying it ("" when it could not be found)
  int ifindex = 0;    // 0 when unknown: capture on every interface
};

/// The source address and interface for probes to `dst`: the kernel's own route
/// choice (a UDP socket connected to dst tells its local address; no packet is
/// sent), then the interface holding that address. `iface` (-e) and `source`
/// (-S) override either half; a named interface that does not exist, or a source
/// address of the wrong family, is an error naming it.
[[nodiscard]] core::Result<Route> find_route(const Address& dst, const std::string& iface,
                                             const std::optional<Address>& source);

/// What host discovery needs to know about the segment a route leaves on: ARP
/// (-PR) works only towards addresses on a directly connected Ethernet.
struct LinkInfo {
  bool ethernet = false;         // ARPHRD_ETHER with a 6-byte address
  std::array<uint8_t, 6> mac{};  // our MAC on it
  std::vector<Range4> on_link4;  // IPv4 networks of the interface (address/netmask)
  std::vector<Range6> on_link6;  // IPv6 prefixes of the interface
};
[[nodiscard]] LinkInfo link_info(const Route& route);

/// One packet of a batch: bytes starting at the IP header and the destination.
struct RawPacket {
  std::span<const std::byte> bytes;
  Address dst;
  uint32_t scope_id = 0;  // IPv6 link-local/multicast destinations: the interface
};

/// Raw IPv4 or IPv6 sender (needs CAP_NET_RAW). Blocking: when the socket's send
/// buffer is full, send() waits, which is the back-pressure the pacer wants.
class RawSender {
 public:
  /// iface non-empty binds the socket to it (SO_BINDTODEVICE, -e).
  [[nodiscard]] static core::Result<RawSender> open(Family family, const std::string& iface);

  /// Sends the batch with sendmmsg (several calls if the kernel takes part of it).
  /// Returns packets sent; a packet the kernel refuses (e.g. EHOSTUNREACH with no
  /// route, EPERM from a firewall) is skipped and counted in errors().
  std::size_t send(std::span<const RawPacket> batch);
  [[nodiscard]] uint64_t errors() const { return errors_; }

 private:
  core::Fd fd_;
  Family family_ = Family::kV4;
  uint64_t errors_ = 0;
};

/// Link-layer frames (ARP requests) on one interface, AF_PACKET SOCK_RAW.
class LinkSender {
 public:
  [[nodiscard]] static core::Result<LinkSender> open(int ifindex);
  /// Sends whole Ethernet frames (the destination MAC is in each frame).
  std::size_t send(std::span<const std::span<const std::byte>> frames);

 private:
  core::Fd fd_;
  int ifindex_ = 0;
};

/// What the receive filter lets through.
struct CaptureFilter {
  uint16_t tcp_dst_port = 0;  // TCP replies to this port (0 = no TCP)
  uint16_t udp_dst_port = 0;  // UDP replies to this port (0 = no UDP)
  bool icmp = true;           // ICMP and ICMPv6 (unreachables, echo replies, ND)
  bool arp = false;           // ARP (host discovery on the local segment)
};

struct CaptureStats {
  uint64_t packets = 0;  // handed to us by the kernel (PACKET_STATISTICS tp_packets)
  uint64_t drops = 0;    // dropped because the ring was full (tp_drops)
};

/// AF_PACKET TPACKET_V3 receive ring. Opened (and filtering) before the first
/// probe leaves, so no early reply is missed.
class CaptureRing {
 public:
  /// ifindex 0 = every interface. ring_bytes is rounded to whole 128 KiB blocks
  /// (at least 64 of them).
  [[nodiscard]] static core::Result<CaptureRing> open(int ifindex, const CaptureFilter& filter,
                                                      std::size_t ring_bytes = std::size_t{32} << 20);
  CaptureRing(CaptureRing&&) noexcept;
  CaptureRing& operator=(CaptureRing&&) noexcept;
  CaptureRing(const CaptureRing&) = delete;
  CaptureRing& operator=(const CaptureRing&) = delete;
  ~CaptureRing();

  /// Waits up to timeout_ms for packets and calls on_packet(bytes) for each one
  /// (bytes start at the IP header, at most the filter's snap length). Returns
  /// the number of packets delivered.
  template <typename F>
  std::size_t poll(int timeout_ms, F&& on_packet) {
    std::size_t n = 0;
    while (auto* block = ready_block(n == 0 ? timeout_ms : 0)) {
      n += walk_block(block, [&](std::span<const std::byte> p) { on_packet(p); });
    }
    return n;
  }

  /// Kernel counters since the last call (PACKET_STATISTICS resets them); the
  /// caller adds them up.
  [[nodiscard]] CaptureStats take_stats();

 private:
  CaptureRing() = default;
  void* ready_block(int timeout_ms);
  template <typename F>
  std::size_t walk_block(void* block, F&& on_packet);
  std::size_t walk_frames(void* block, void (*cb)(void*, std::span<const std::byte>), void* ctx);

  core::Fd fd_;
  std::byte* map_ = nullptr;
  std::size_t map_len_ = 0;
  unsigned block_size_ = 0;
  unsigned block_count_ = 0;
  unsigned next_block_ = 0;
};

template <typename F>
std::size_t CaptureRing::walk_block(void* block, F&& on_packet) {
  return walk_frames(
      block, [](void* ctx, std::span<const std::byte> p) { (*static_cast<std::remove_reference_t<F>*>(ctx))(p); },
      &on_packet);
}

/// CPUs for the transmit and receive threads: two different CPUs of the NUMA
/// node the interface's device sits on (sysfs), or of the whole machine when it
/// has one node or the interface is virtual. `why` says how they were chosen (for
/// -d). Equal CPUs when the machine has one.
struct ThreadPlacement {
  int tx_cpu = -1;
  int rx_cpu = -1;
  int numa_node = -1;
  std::string why;
};
[[nodiscard]] ThreadPlacement place_threads(const std::string& iface);

/// Pins the calling thread to `cpu` (no-op for cpu < 0). False if the kernel refused.
bool pin_this_thread(int cpu);

}  // namespace linerate::scan
