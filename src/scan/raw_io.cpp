// scan/raw_io.cpp — raw sends, the TPACKET_V3 capture ring, route lookup and
// thread placement. See raw_io.hpp for why these mechanisms.
#include "scan/raw_io.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

namespace linerate::scan {
namespace {

// An interface or socket address (IPv4 or IPv6; anything else is nullopt).
std::optional<Address> from_sockaddr(const sockaddr* sa) {
  if (sa == nullptr || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
    return std::nullopt;
  }
  auto len = static_cast<socklen_t>(sa->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
  auto a = Address::from_sockaddr(core::SockAddr(sa, len));
  return a ? std::optional<Address>(*a) : std::nullopt;
}

// The interface that holds `addr` (getifaddrs), or "" if none does.
std::string iface_with(const Address& addr) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return {};
  }
  std::string name;
  for (ifaddrs* p = list; p != nullptr; p = p->ifa_next) {
    auto a = from_sockaddr(p->ifa_addr);
    if (a && *a == addr) {
      name = p->ifa_name;
      break;
    }
  }
  ::freeifaddrs(list);
  return name;
}

}  // namespace

core::Result<Route> find_route(const Address& dst, const std::string& iface, const std::optional<Address>& source) {
  Route r;
  if (!iface.empty()) {
    r.ifindex = static_cast<int>(::if_nametoindex(iface.c_str()));
    if (r.ifindex == 0) {
      return core::fail("-e " + iface + ": no such interface (see `ip link`)");
    }
    r.iface = iface;
  }
  if (source) {
    if (source->family != dst.family) {
      return core::fail("-S " + source->to_string() + ": not the address family of target " + dst.to_string());
    }
    r.source = *source;
  } else {
    // The kernel's own choice: connect a UDP socket (sends nothing) and read the
    // local address it picked.
    int family = dst.family == Family::kV4 ? AF_INET : AF_INET6;
    core::Fd fd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) {
      return core::errno_error("route lookup: socket");
    }
    if (!iface.empty() &&
        ::setsockopt(fd.get(), SOL_SOCKET, SO_BINDTODEVICE, iface.c_str(), static_cast<socklen_t>(iface.size())) != 0) {
      return core::errno_error("-e " + iface + ": cannot bind to it");
    }
    sockaddr_storage ss{};
    socklen_t len = dst.to_sockaddr(9, ss);
    if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      return core::errno_error("no route to " + dst.to_string() + " (give -e IFACE and -S ADDR)");
    }
    sockaddr_storage local{};
    socklen_t llen = sizeof(local);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &llen) != 0) {
      return core::errno_error("route lookup: getsockname");
    }
    auto a = from_sockaddr(reinterpret_cast<sockaddr*>(&local));
    if (!a) {
      return core::fail("route lookup: unexpected local address family");
    }
    r.source = *a;
  }
  if (r.iface.empty()) {
    r.iface = iface_with(r.source);
    r.ifindex = r.iface.empty() ? 0 : static_cast<int>(::if_nametoindex(r.iface.c_str()));
  }
  return r;
}

// ---------------------------------------------------------------- link layer

LinkInfo link_info(const Route& route) {
  LinkInfo li;
  if (route.iface.empty()) {
    return li;
  }
  core::Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", route.iface.c_str());
  if (fd && ::ioctl(fd.get(), SIOCGIFHWADDR, &ifr) == 0 && ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER) {
    li.ethernet = true;
    std::memcpy(li.mac.data(), ifr.ifr_hwaddr.sa_data, 6);
  }
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* p = list; p != nullptr; p = p->ifa_next) {
      if (p->ifa_addr == nullptr || p->ifa_netmask == nullptr || route.iface != p->ifa_name) {
        continue;
      }
      if (p->ifa_addr->sa_family == AF_INET6) {
        auto a = from_sockaddr(p->ifa_addr);
        auto m = from_sockaddr(p->ifa_netmask);
        if (a && m) {
          li.on_link6.push_back(Range6{a->value & m->value, (a->value & m->value) | ~m->value});
        }
        continue;
      }
      if (p->ifa_addr->sa_family != AF_INET) {
        continue;
      }
      uint32_t a = ntohl(reinterpret_cast<const sockaddr_in*>(p->ifa_addr)->sin_addr.s_addr);
      uint32_t m = ntohl(reinterpret_cast<const sockaddr_in*>(p->ifa_netmask)->sin_addr.s_addr);
      li.on_link4.push_back(Range4{a & m, (a & m) | ~m});
    }
    ::freeifaddrs(list);
  }
  return li;
}

core::Result<LinkSender> LinkSender::open(int ifindex) {
  LinkSender s;
  s.ifindex_ = ifindex;
  s.fd_ = core::Fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));  // protocol 0: send only
  if (!s.fd_) {
    return core::errno_error("link-layer socket for ARP");
  }
  return s;
}

std::size_t LinkSender::send(std::span<const std::span<const std::byte>> frames) {
  std::size_t sent = 0;
  for (const auto& f : frames) {
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_ifindex = ifindex_;
    sll.sll_halen = 6;
    std::memcpy(sll.sll_addr, f.data(), 6);  // the frame's destination MAC
    if (::sendto(fd_.get(), f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) ==
        static_cast<ssize_t>(f.size())) {
      ++sent;
    }
  }
  return sent;
}

// ---------------------------------------------------------------- RawSender

core::Result<RawSender> RawSender::open(Family family, const std::string& iface) {
  RawSender s;
  s.family_ = family;
  int af = family == Family::kV4 ? AF_INET : AF_INET6;
  // IPPROTO_RAW implies IP_HDRINCL (IPv4) and header inclusion (IPv6, Linux).
  s.fd_ = core::Fd(::socket(af, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW));
  if (!s.fd_) {
    if (errno == EPERM || errno == EACCES) {
      return core::errno_error("raw socket (the SYN scan needs root or CAP_NET_RAW; -sT works without)");
    }
    return core::errno_error(family == Family::kV4 ? "raw IPv4 socket" : "raw IPv6 socket");
  }
  if (!iface.empty() && ::setsockopt(s.fd_.get(), SOL_SOCKET, SO_BINDTODEVICE, iface.c_str(),
                                     static_cast<socklen_t>(iface.size())) != 0) {
    return core::errno_error("-e " + iface + ": cannot bind the raw socket to it");
  }
  int sndbuf = 4 << 20;
  (void)::setsockopt(s.fd_.get(), SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf));
  return s;
}

std::size_t RawSender::send(std::span<const RawPacket> batch) {
  constexpr std::size_t kMax = 256;
  std::array<mmsghdr, kMax> msgs;
  std::array<iovec, kMax> iov;
  std::array<sockaddr_storage, kMax> addrs;
  std::size_t sent = 0;
  const uint64_t errors_before = errors_;
  while (sent < batch.size()) {
    std::size_t n = std::min(kMax, batch.size() - sent);
    for (std::size_t k = 0; k < n; ++k) {
      const RawPacket& p = batch[sent + k];
      iov[k].iov_base = const_cast<std::byte*>(p.bytes.data());
      iov[k].iov_len = p.bytes.size();
      std::memset(&msgs[k], 0, sizeof(mmsghdr));
      msgs[k].msg_hdr.msg_name = &addrs[k];
      msgs[k].msg_hdr.msg_namelen = p.dst.to_sockaddr(0, addrs[k]);
      if (p.scope_id != 0 && p.dst.family == Family::kV6) {
        reinterpret_cast<sockaddr_in6*>(&addrs[k])->sin6_scope_id = p.scope_id;
      }
      msgs[k].msg_hdr.msg_iov = &iov[k];
      msgs[k].msg_hdr.msg_iovlen = 1;
    }
    int rc = ::sendmmsg(fd_.get(), msgs.data(), static_cast<unsigned>(n), 0);
    if (rc > 0) {
      sent += static_cast<std::size_t>(rc);
      continue;
    }
    if (rc < 0 && errno == EINTR) {
      continue;
    }
    if (rc < 0 && (errno == ENOBUFS || errno == EAGAIN)) {
      ::usleep(50);  // qdisc or device queue full: let it drain
      continue;
    }
    // The first packet of the rest was refused (no route, firewall): skip it.
    ++errors_;
    ++sent;
  }
  return sent - static_cast<std::size_t>(errors_ - errors_before);
}

// ---------------------------------------------------------------- CaptureRing

namespace {

// Small blocks, many of them: a block is handed to us when full or after
// tp_retire_blk_tov, so at low rates every block carries a few packets and the
// ring's slack in time is blocks x timeout. 128 KiB x >= 64 blocks x 8 ms keeps
// half a second of slack however slowly packets come.
constexpr unsigned kBlockSize = 1U << 17;
constexpr unsigned kFrameSize = 2048;
// Whole packets: the parsers check IP total lengths, and an ICMP error quoting
// a large UDP probe (a 272-byte DHCP request) is longer than any fixed header cut.
constexpr unsigned kSnapLen = 0xFFFF;

// A tiny assembler for classic BPF: conditional jumps name labels, patched to
// relative offsets at the end. kNext means "fall through".
class BpfAsm {
 public:
  static constexpr int kNext = -1;
  void stmt(uint16_t code, uint32_t k) { p_.push_back(sock_filter{code, 0, 0, k}); }
  void jeq(uint32_t k, int if_true, int if_false) {
    jumps_.push_back({p_.size(), if_true, if_false});
    p_.push_back(sock_filter{BPF_JMP | BPF_JEQ | BPF_K, 0, 0, k});
  }
  void label(int l) { labels_.emplace_back(l, p_.size()); }
  std::vector<sock_filter> finish() {
    for (const Jump& j : jumps_) {
      p_[j.at].jt = offset(j.at, j.if_true);
      p_[j.at].jf = offset(j.at, j.if_false);
    }
    return p_;
  }

 private:
  struct Jump {
    std::size_t at;
    int if_true;
    int if_false;
  };
  uint8_t offset(std::size_t at, int l) const {
    if (l == kNext) {
      return 0;
    }
    for (const auto& [name, pos] : labels_) {
      if (name == l) {
        return static_cast<uint8_t>(pos - at - 1);  // programs here are far below 256 instructions
      }
    }
    return 0;
  }
  std::vector<sock_filter> p_;
  std::vector<Jump> jumps_;
  std::vector<std::pair<int, std::size_t>> labels_;
};

// Classic BPF over a packet that starts at the IP header (SOCK_DGRAM): accept
// ICMP/ICMPv6 when asked, TCP to f.tcp_dst_port, UDP to
// f.udp_dst_port; drop everything else, and every packet we sent ourselves.
std::vector<sock_filter> build_filter(const CaptureFilter& f) {
  enum { kAccept, kDrop, kV4, kV4Udp, kV6, kV6Udp };
  constexpr auto kNext = BpfAsm::kNext;
  BpfAsm a;
  a.stmt(BPF_LD | BPF_W | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PKTTYPE));
  a.jeq(PACKET_OUTGOING, kDrop, kNext);
  if (f.arp) {
    // The frame's ethertype: ARP packets start at the ARP header here.
    a.stmt(BPF_LD | BPF_H | BPF_ABS, static_cast<uint32_t>(SKF_AD_OFF + SKF_AD_PROTOCOL));
    a.jeq(ETH_P_ARP, kAccept, kNext);
  }
  a.stmt(BPF_LD | BPF_B | BPF_ABS, 0);
  a.stmt(BPF_ALU | BPF_RSH | BPF_K, 4);
  a.jeq(4, kV4, kNext);
  a.jeq(6, kV6, kDrop);
  // IPv4: protocol at byte 9, ports after the IHL-sized header (X = 4 * IHL).
  a.label(kV4);
  a.stmt(BPF_LD | BPF_B | BPF_ABS, 9);
  a.jeq(IPPROTO_ICMP, f.icmp ? kAccept : kDrop, kNext);
  a.jeq(IPPROTO_TCP, f.tcp_dst_port != 0 ? kNext : kDrop, kV4Udp);
  a.stmt(BPF_LDX | BPF_B | BPF_MSH, 0);
  a.stmt(BPF_LD | BPF_H | BPF_IND, 2);
  a.jeq(f.tcp_dst_port, kAccept, kDrop);
  a.label(kV4Udp);
  a.jeq(IPPROTO_UDP, f.udp_dst_port != 0 ? kNext : kDrop, kDrop);
  a.stmt(BPF_LDX | BPF_B | BPF_MSH, 0);
  a.stmt(BPF_LD | BPF_H | BPF_IND, 2);
  a.jeq(f.udp_dst_port, kAccept, kDrop);
  // IPv6: next header at byte 6 (extension headers are not followed: replies to
  // our probes carry none), destination port at 40 + 2.
  a.label(kV6);
  a.stmt(BPF_LD | BPF_B | BPF_ABS, 6);
  a.jeq(IPPROTO_ICMPV6, f.icmp ? kAccept : kDrop, kNext);
  a.jeq(IPPROTO_TCP, f.tcp_dst_port != 0 ? kNext : kDrop, kV6Udp);
  a.stmt(BPF_LD | BPF_H | BPF_ABS, 42);
  a.jeq(f.tcp_dst_port, kAccept, kDrop);
  a.label(kV6Udp);
  a.jeq(IPPROTO_UDP, f.udp_dst_port != 0 ? kNext : kDrop, kDrop);
  a.stmt(BPF_LD | BPF_H | BPF_ABS, 42);
  a.jeq(f.udp_dst_port, kAccept, kDrop);
  a.label(kAccept);
  a.stmt(BPF_RET | BPF_K, kSnapLen);
  a.label(kDrop);
  a.stmt(BPF_RET | BPF_K, 0);
  return a.finish();
}

}  // namespace

core::Result<CaptureRing> CaptureRing::open(int ifindex, const CaptureFilter& filter, std::size_t ring_bytes) {
  CaptureRing r;
  r.fd_ = core::Fd(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL)));
  if (!r.fd_) {
    if (errno == EPERM || errno == EACCES) {
      return core::errno_error("capture socket (the SYN scan needs root or CAP_NET_RAW; -sT works without)");
    }
    return core::errno_error("capture socket");
  }
  int fd = r.fd_.get();
  // The filter goes on before bind, so nothing unfiltered is queued.
  std::vector<sock_filter> code = build_filter(filter);
  sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) != 0) {
    return core::errno_error("capture socket: attach BPF filter");
  }
  int version = TPACKET_V3;
  if (::setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof(version)) != 0) {
    return core::errno_error("capture socket: TPACKET_V3");
  }
  r.block_size_ = kBlockSize;
  r.block_count_ = static_cast<unsigned>(std::max<std::size_t>(64, ring_bytes / kBlockSize));
  tpacket_req3 req{};
  req.tp_block_size = r.block_size_;
  req.tp_block_nr = r.block_count_;
  req.tp_frame_size = kFrameSize;
  req.tp_frame_nr = r.block_size_ / kFrameSize * r.block_count_;
  req.tp_retire_blk_tov = 8;  // ms: a partly filled block is handed over this soon
  if (::setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) != 0) {
    return core::errno_error("capture socket: PACKET_RX_RING");
  }
  r.map_len_ = std::size_t{r.block_size_} * r.block_count_;
  void* m = ::mmap(nullptr, r.map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd, 0);
  if (m == MAP_FAILED) {
    m = ::mmap(nullptr, r.map_len_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);  // without the lock
  }
  if (m == MAP_FAILED) {
    return core::errno_error("capture socket: mmap ring");
  }
  r.map_ = static_cast<std::byte*>(m);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = ifindex;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) != 0) {
    return core::errno_error("capture socket: bind");
  }
  (void)r.take_stats();  // start the counters from zero
  return r;
}

CaptureRing::CaptureRing(CaptureRing&& o) noexcept
    : fd_(std::move(o.fd_)),
      map_(std::exchange(o.map_, nullptr)),
      map_len_(std::exchange(o.map_len_, 0)),
      block_size_(o.block_size_),
      block_count_(o.block_count_),
      next_block_(o.next_block_) {}

CaptureRing& CaptureRing::operator=(CaptureRing&& o) noexcept {
  if (this != &o) {
    if (map_ != nullptr) {
      ::munmap(map_, map_len_);
    }
    fd_ = std::move(o.fd_);
    map_ = std::exchange(o.map_, nullptr);
    map_len_ = std::exchange(o.map_len_, 0);
    block_size_ = o.block_size_;
    block_count_ = o.block_count_;
    next_block_ = o.next_block_;
  }
  return *this;
}

CaptureRing::~CaptureRing() {
  if (map_ != nullptr) {
    ::munmap(map_, map_len_);
  }
}

void* CaptureRing::ready_block(int timeout_ms) {
  auto* desc = reinterpret_cast<tpacket_block_desc*>(map_ + std::size_t{next_block_} * block_size_);
  auto ready = [&] { return (__atomic_load_n(&desc->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0; };
  if (ready()) {
    return desc;
  }
  if (timeout_ms <= 0) {
    return nullptr;
  }
  pollfd pfd{fd_.get(), POLLIN | POLLERR, 0};
  (void)::poll(&pfd, 1, timeout_ms);
  return ready() ? desc : nullptr;
}

std::size_t CaptureRing::walk_frames(void* block, void (*cb)(void*, std::span<const std::byte>), void* ctx) {
  auto* desc = static_cast<tpacket_block_desc*>(block);
  auto* base = reinterpret_cast<std::byte*>(desc);
  uint32_t count = desc->hdr.bh1.num_pkts;
  uint32_t off = desc->hdr.bh1.offset_to_first_pkt;
  for (uint32_t k = 0; k < count; ++k) {
    if (off == 0 || off + sizeof(tpacket3_hdr) > block_size_) {
      break;  // a corrupt block descriptor never makes us read outside the ring
    }
    auto* h = reinterpret_cast<tpacket3_hdr*>(base + off);
    if (h->tp_mac + std::size_t{h->tp_snaplen} <= block_size_ - off) {
      cb(ctx, {base + off + h->tp_mac, h->tp_snaplen});
    }
    if (h->tp_next_offset == 0) {
      break;
    }
    off += h->tp_next_offset;
  }
  __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
  next_block_ = (next_block_ + 1) % block_count_;
  return count;
}

CaptureStats CaptureRing::take_stats() {
  tpacket_stats_v3 st{};
  socklen_t len = sizeof(st);
  if (::getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) != 0) {
    return {};
  }
  return {st.tp_packets, st.tp_drops};
}

// ---------------------------------------------------------------- placement

namespace {

std::string read_line(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// "0-3,8,10-11" -> {0,1,2,3,8,10,11}; malformed parts are skipped.
std::vector<int> parse_cpulist(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ',')) {
    int a = 0;
    int b = 0;
    if (std::sscanf(part.c_str(), "%d-%d", &a, &b) == 2 && a >= 0 && b >= a && b < 4096) {
      for (int c = a; c <= b; ++c) {
        out.push_back(c);
      }
    } else if (std::sscanf(part.c_str(), "%d", &a) == 1 && a >= 0 && a < 4096) {
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace

ThreadPlacement place_threads(const std::string& iface) {
  ThreadPlacement pl;
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (::sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    pl.why = "CPU affinity unknown; threads not pinned";
    return pl;
  }
  std::vector<int> cpus;
  std::string node_text;
  if (!iface.empty()) {
    node_text = read_line("/sys/class/net/" + iface + "/device/numa_node");
  }
  if (!node_text.empty() && node_text != "-1") {
    pl.numa_node = std::atoi(node_text.c_str());
    for (int c : parse_cpulist(read_line("/sys/devices/system/node/node" + node_text + "/cpulist"))) {
      if (CPU_ISSET(c, &allowed)) {
        cpus.push_back(c);
      }
    }
  }
  if (cpus.empty()) {
    pl.numa_node = -1;
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &allowed)) {
        cpus.push_back(c);
      }
    }
  }
  if (cpus.empty()) {
    pl.why = "no usable CPU found; threads not pinned";
    return pl;
  }
  // Transmit on the first CPU, receive on the next one (the same one on a
  // single-CPU machine).
  pl.tx_cpu = cpus[0];
  pl.rx_cpu = cpus.size() > 1 ? cpus[1] : cpus[0];
  if (pl.numa_node >= 0) {
    pl.why = "NUMA node " + std::to_string(pl.numa_node) + " of " + iface;
  } else if (!iface.empty()) {
    pl.why = iface + " has no NUMA node (virtual device or one-node machine); first allowed CPUs";
  } else {
    pl.why = "interface unknown; first allowed CPUs";
  }
  return pl;
}

bool pin_this_thread(int cpu) {
  if (cpu < 0) {
    return true;
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return ::pthread_setaffinity_np(::pthread_self(), sizeof(set), &set) == 0;
}

}  // namespace linerate::scan
