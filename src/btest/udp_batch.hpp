// btest/udp_batch.hpp — one sendmmsg(2) worth of btest UDP datagrams (spec §11.2).
//
// The payload buffer, the iovecs, the GSO control messages and the destination
// are prepared once; build() only patches the big-endian sequence numbers of n
// datagrams and describes them as ceil(n/k) messages of k segments each. The
// UDP sender hands the result to the kernel; the micro-benchmark hands it to
// nothing (the null sink), which measures the generator alone.
//
// With k > 1 each message carries UDP_SEGMENT = payload size (UDP GSO): the
// kernel cuts it into k datagrams, each starting with its own sequence number
// because the segments are laid out back to back in the buffer.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace linerate::btest {

class UdpBatch {
 public:
  static constexpr unsigned kMaxMsgs = 64;                   // sendmmsg vector length
  static constexpr unsigned kGsoMaxSegments = 64;            // UDP_MAX_SEGMENTS on older kernels
  static constexpr std::size_t kGsoMaxBytes = 65000;         // one GSO message must fit an IP datagram
  static constexpr std::size_t kMaxBatchBytes = 512 * 1024;  // payload per call: stays cache-warm

  /// Segments per message worth using for this payload (1 = no GSO).
  [[nodiscard]] static unsigned gso_segments(std::size_t payload) {
    return payload * 2 <= kGsoMaxBytes
               ? static_cast<unsigned>(std::min<std::size_t>(kGsoMaxSegments, kGsoMaxBytes / payload))
               : 1U;
  }
  /// Datagrams per call with k segments per message.
  [[nodiscard]] static std::size_t capacity(std::size_t payload, unsigned k) {
    return std::clamp<std::size_t>(kMaxBatchBytes / (k * payload), 1, kMaxMsgs) * k;
  }

  /// payload >= 4 bytes; k segments per message (1 or gso_segments(payload));
  /// `fill` is the payload after the sequence number (zeros or random bytes,
  /// repeated). dest == nullptr for connected sockets. Throws std::bad_alloc.
  UdpBatch(std::size_t payload, unsigned k, const std::byte* fill, std::size_t fill_len, const sockaddr* dest,
           socklen_t dest_len)
      : payload_(payload),
        k_(k),
        max_datagrams_(std::max(capacity(payload, k), capacity(payload, 1))),
        buf_(std::make_unique<std::byte[]>(max_datagrams_ * payload)),
        msgs_(kMaxMsgs),
        iov_(kMaxMsgs),
        cmsg_(kCmsgSpace * kMaxMsgs) {
    std::memset(buf_.get(), 0, max_datagrams_ * payload);
    if (fill != nullptr && fill_len > 0) {
      for (std::size_t off = 0; off < max_datagrams_ * payload; off += fill_len) {
        std::memcpy(buf_.get() + off, fill, std::min(fill_len, max_datagrams_ * payload - off));
      }
    }
    if (dest != nullptr) {
      std::memcpy(&dest_, dest, dest_len);
      dest_len_ = dest_len;
    }
  }

  /// Switch to one datagram per message (the kernel refused GSO).
  void disable_gso() { k_ = 1; }
  [[nodiscard]] unsigned segments() const { return k_; }
  [[nodiscard]] std::size_t capacity() const { return capacity(payload_, k_); }
  void set_dest_port(uint16_t port) {
    if (dest_.ss_family == AF_INET) {
      reinterpret_cast<sockaddr_in*>(&dest_)->sin_port = htons(port);
    } else if (dest_.ss_family == AF_INET6) {
      reinterpret_cast<sockaddr_in6*>(&dest_)->sin6_port = htons(port);
    }
  }

  /// Lay out n <= capacity() datagrams numbered seq, seq+1, ...; returns the
  /// number of messages to pass to sendmmsg(msgs(), count).
  std::size_t build(std::size_t n, uint32_t seq) noexcept {
    std::byte* p = buf_.get();
    for (std::size_t i = 0; i < n; ++i, p += payload_) {
      const uint32_t s = seq + static_cast<uint32_t>(i);
      p[0] = static_cast<std::byte>(s >> 24);
      p[1] = static_cast<std::byte>(s >> 16);
      p[2] = static_cast<std::byte>(s >> 8);
      p[3] = static_cast<std::byte>(s);
    }
    const std::size_t m = (n + k_ - 1) / k_;
    for (std::size_t j = 0; j < m; ++j) {
      const std::size_t segs = std::min<std::size_t>(k_, n - j * k_);
      iov_[j] = iovec{buf_.get() + j * k_ * payload_, segs * payload_};
      msghdr& h = msgs_[j].msg_hdr;
      h = msghdr{};
      if (dest_len_ != 0) {
        h.msg_name = &dest_;
        h.msg_namelen = dest_len_;
      }
      h.msg_iov = &iov_[j];
      h.msg_iovlen = 1;
      if (segs > 1) {
        std::byte* c = cmsg_.data() + j * kCmsgSpace;
        h.msg_control = c;
        h.msg_controllen = kCmsgSpace;
        cmsghdr* cm = CMSG_FIRSTHDR(&h);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const auto seg = static_cast<uint16_t>(payload_);
        std::memcpy(CMSG_DATA(cm), &seg, sizeof(seg));
      }
    }
    return m;
  }

  [[nodiscard]] mmsghdr* msgs() { return msgs_.data(); }
  /// Datagrams in the first `sent_msgs` messages of a batch of n.
  [[nodiscard]] std::size_t datagrams_in(std::size_t sent_msgs, std::size_t n) const {
    return std::min(n, sent_msgs * k_);
  }

 private:
  static constexpr std::size_t kCmsgSpace = CMSG_SPACE(sizeof(uint16_t));
  std::size_t payload_;
  unsigned k_;
  std::size_t max_datagrams_;
  std::unique_ptr<std::byte[]> buf_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iov_;
  std::vector<std::byte> cmsg_;
  sockaddr_storage dest_{};
  socklen_t dest_len_ = 0;
};

}  // namespace linerate::btest
