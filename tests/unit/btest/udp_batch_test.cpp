// Unit tests for btest/udp_batch (spec §11.2, §19.4): the bytes of every datagram
// in a sendmmsg batch, GSO segmentation and the control message that carries it.
// The batch is only inspected, never sent.
#include "btest/udp_batch.hpp"

#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "hex_test_util.hpp"

namespace linerate::btest {
namespace {

using linerate::testing::from_hex;

// The bytes of message j of the last build().
std::span<const std::byte> message_bytes(UdpBatch& b, std::size_t j) {
  const msghdr& h = b.msgs()[j].msg_hdr;
  EXPECT_EQ(h.msg_iovlen, 1U);
  return {static_cast<const std::byte*>(h.msg_iov[0].iov_base), h.msg_iov[0].iov_len};
}

uint32_t seq_at(std::span<const std::byte> d) {
  return (static_cast<uint32_t>(d[0]) << 24) | (static_cast<uint32_t>(d[1]) << 16) |
         (static_cast<uint32_t>(d[2]) << 8) | static_cast<uint32_t>(d[3]);
}

// The UDP_SEGMENT value of a message, or -1 when it has none.
int gso_segment_size(const msghdr& h) {
  if (h.msg_control == nullptr) {
    return -1;
  }
  int found = -1;
  for (const cmsghdr* cm = CMSG_FIRSTHDR(const_cast<msghdr*>(&h)); cm != nullptr;
       cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(cm))) {
    if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_SEGMENT) {
      EXPECT_EQ(cm->cmsg_len, CMSG_LEN(sizeof(uint16_t)));
      uint16_t v = 0;
      std::memcpy(&v, CMSG_DATA(cm), sizeof(v));
      found = v;
    }
  }
  return found;
}

sockaddr_in loopback(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

TEST(UdpBatch, Spec19_4FirstDatagramOfTxSize1500) {
  // §19.4: tx_size 1500 over IPv4 -> payload 1472 = [00 00 00 01][1468 x 00].
  constexpr std::size_t kPayload = 1500 - 28;
  UdpBatch b(kPayload, 1, nullptr, 0, nullptr, 0);
  ASSERT_EQ(b.build(1, 1), 1U);
  auto d = message_bytes(b, 0);
  ASSERT_EQ(d.size(), 1472U);
  std::vector<std::byte> want = from_hex("00 00 00 01");
  want.resize(1472, std::byte{0});
  EXPECT_TRUE(std::equal(d.begin(), d.end(), want.begin()));
  EXPECT_EQ(b.msgs()[0].msg_hdr.msg_control, nullptr);  // one datagram: no GSO cmsg
  EXPECT_EQ(b.msgs()[0].msg_hdr.msg_name, nullptr);     // connected socket: no address
}

TEST(UdpBatch, SequenceNumbersAreBigEndianAndConsecutive) {
  UdpBatch b(100, 1, nullptr, 0, nullptr, 0);
  const std::size_t n = 10;
  ASSERT_EQ(b.build(n, 0x01020304U), n);
  for (std::size_t j = 0; j < n; ++j) {
    auto d = message_bytes(b, j);
    ASSERT_EQ(d.size(), 100U);
    EXPECT_EQ(seq_at(d), 0x01020304U + j);
    EXPECT_EQ(d[0], std::byte{0x01});
    EXPECT_EQ(d[3], static_cast<std::byte>(0x04 + j));
    for (std::size_t k = 4; k < d.size(); ++k) {
      ASSERT_EQ(d[k], std::byte{0}) << "datagram " << j << " byte " << k;
    }
  }
}

TEST(UdpBatch, SequenceWrapsAt2To32) {
  UdpBatch b(4, 1, nullptr, 0, nullptr, 0);
  ASSERT_EQ(b.build(3, 0xFFFFFFFFU), 3U);
  EXPECT_EQ(seq_at(message_bytes(b, 0)), 0xFFFFFFFFU);
  EXPECT_EQ(seq_at(message_bytes(b, 1)), 0U);
  EXPECT_EQ(seq_at(message_bytes(b, 2)), 1U);
  auto d = message_bytes(b, 0);
  EXPECT_EQ(std::vector<std::byte>(d.begin(), d.end()), from_hex("ff ff ff ff"));
}

TEST(UdpBatch, RebuildPatchesOnlySequenceNumbers) {
  UdpBatch b(64, 1, nullptr, 0, nullptr, 0);
  b.build(5, 1);
  ASSERT_EQ(b.build(2, 1000), 2U);
  EXPECT_EQ(seq_at(message_bytes(b, 0)), 1000U);
  EXPECT_EQ(seq_at(message_bytes(b, 1)), 1001U);
}

TEST(UdpBatch, FillPatternFollowsTheSequenceNumber) {
  // Random payload (random_data = 0): the fill bytes repeat after the sequence number.
  std::vector<std::byte> fill(7);
  for (std::size_t i = 0; i < fill.size(); ++i) {
    fill[i] = static_cast<std::byte>(0xA0 + i);
  }
  UdpBatch b(20, 1, fill.data(), fill.size(), nullptr, 0);
  ASSERT_EQ(b.build(2, 5), 2U);
  auto d0 = message_bytes(b, 0);
  auto d1 = message_bytes(b, 1);
  EXPECT_EQ(seq_at(d0), 5U);
  EXPECT_EQ(seq_at(d1), 6U);
  // The buffer (two datagrams back to back) holds the pattern, bytes 0-3 of each
  // datagram overwritten by its sequence number.
  for (std::size_t k = 4; k < 20; ++k) {
    EXPECT_EQ(d0[k], fill[k % fill.size()]) << k;
    EXPECT_EQ(d1[k], fill[(20 + k) % fill.size()]) << k;
  }
}

TEST(UdpBatch, GsoSegmentsPerPayload) {
  // Up to 64 segments that fit 65000 bytes; none when two do not fit.
  EXPECT_EQ(UdpBatch::gso_segments(4), 64U);
  EXPECT_EQ(UdpBatch::gso_segments(1472), 44U);  // 65000 / 1472
  EXPECT_EQ(UdpBatch::gso_segments(8972), 7U);   // 9000 - 28
  EXPECT_EQ(UdpBatch::gso_segments(32500), 2U);
  EXPECT_EQ(UdpBatch::gso_segments(32501), 1U);
  EXPECT_EQ(UdpBatch::gso_segments(63972), 1U);  // 64000 - 28
  for (std::size_t p : {4U, 100U, 1472U, 8972U, 20000U, 63972U}) {
    const unsigned k = UdpBatch::gso_segments(p);
    EXPECT_GE(k, 1U);
    EXPECT_LE(k, UdpBatch::kGsoMaxSegments);
    EXPECT_LE(k == 1 ? 0 : k * p, UdpBatch::kGsoMaxBytes) << p;
  }
}

TEST(UdpBatch, GsoMessagesCarrySegmentSizeCmsg) {
  constexpr std::size_t kPayload = 1472;
  const unsigned k = UdpBatch::gso_segments(kPayload);
  ASSERT_EQ(k, 44U);
  UdpBatch b(kPayload, k, nullptr, 0, nullptr, 0);
  EXPECT_EQ(b.segments(), k);
  // 100 datagrams -> 44 + 44 + 12.
  const std::size_t n = 100;
  ASSERT_LE(n, b.capacity());
  ASSERT_EQ(b.build(n, 1), 3U);
  const std::size_t sizes[] = {44, 44, 12};
  uint32_t next = 1;
  for (std::size_t j = 0; j < 3; ++j) {
    auto m = message_bytes(b, j);
    ASSERT_EQ(m.size(), sizes[j] * kPayload) << "message " << j;
    EXPECT_EQ(gso_segment_size(b.msgs()[j].msg_hdr), static_cast<int>(kPayload)) << "message " << j;
    // The kernel cuts the message every kPayload bytes: each piece starts with its number.
    for (std::size_t s = 0; s < sizes[j]; ++s) {
      EXPECT_EQ(seq_at(m.subspan(s * kPayload)), next++) << "message " << j << " segment " << s;
    }
  }
  // A message of one datagram needs no UDP_SEGMENT.
  ASSERT_EQ(b.build(45, 1), 2U);
  EXPECT_EQ(gso_segment_size(b.msgs()[0].msg_hdr), static_cast<int>(kPayload));
  EXPECT_EQ(message_bytes(b, 1).size(), kPayload);
  EXPECT_EQ(b.msgs()[1].msg_hdr.msg_control, nullptr);
}

TEST(UdpBatch, DisableGsoFallsBackToOneDatagramPerMessage) {
  UdpBatch b(1472, 44, nullptr, 0, nullptr, 0);
  b.disable_gso();
  EXPECT_EQ(b.segments(), 1U);
  ASSERT_EQ(b.build(10, 7), 10U);
  for (std::size_t j = 0; j < 10; ++j) {
    EXPECT_EQ(message_bytes(b, j).size(), 1472U);
    EXPECT_EQ(b.msgs()[j].msg_hdr.msg_control, nullptr);
    EXPECT_EQ(seq_at(message_bytes(b, j)), 7U + j);
  }
  // The buffer was sized for the non-GSO capacity as well.
  EXPECT_EQ(b.capacity(), UdpBatch::capacity(1472, 1));
  EXPECT_EQ(b.build(b.capacity(), 1), b.capacity());
}

TEST(UdpBatch, DatagramsInCountsWholeMessages) {
  UdpBatch gso(1472, 44, nullptr, 0, nullptr, 0);
  EXPECT_EQ(gso.datagrams_in(0, 100), 0U);
  EXPECT_EQ(gso.datagrams_in(1, 100), 44U);
  EXPECT_EQ(gso.datagrams_in(2, 100), 88U);
  EXPECT_EQ(gso.datagrams_in(3, 100), 100U);  // the last message is short
  UdpBatch plain(1472, 1, nullptr, 0, nullptr, 0);
  EXPECT_EQ(plain.datagrams_in(0, 10), 0U);
  EXPECT_EQ(plain.datagrams_in(7, 10), 7U);
  EXPECT_EQ(plain.datagrams_in(10, 10), 10U);
}

TEST(UdpBatch, CapacityBoundsBytesAndMessages) {
  // Without GSO: at most 64 messages, at most 512 KiB of payload, at least one datagram.
  EXPECT_EQ(UdpBatch::capacity(4, 1), UdpBatch::kMaxMsgs);
  EXPECT_EQ(UdpBatch::capacity(1472, 1), 64U);
  EXPECT_EQ(UdpBatch::capacity(8972, 1), 58U);  // 524288 / 8972
  EXPECT_EQ(UdpBatch::capacity(63972, 1), 8U);
  EXPECT_EQ(UdpBatch::capacity(600'000, 1), 1U);
  // With GSO k segments per message: whole messages, same byte budget.
  EXPECT_EQ(UdpBatch::capacity(1472, 44), 8U * 44U);  // 524288 / 64768 = 8 messages
  EXPECT_EQ(UdpBatch::capacity(4, 64), 64U * 64U);    // message count bound
  for (std::size_t p : {4U, 32U, 1472U, 8972U, 63972U}) {
    for (unsigned k : {1U, UdpBatch::gso_segments(p)}) {
      const std::size_t c = UdpBatch::capacity(p, k);
      EXPECT_EQ(c % k, 0U) << p << " " << k;
      EXPECT_LE(c / k, UdpBatch::kMaxMsgs);
      EXPECT_TRUE(c == k || c * p <= UdpBatch::kMaxBatchBytes) << p << " " << k;
    }
  }
  UdpBatch b(1472, 44, nullptr, 0, nullptr, 0);
  EXPECT_EQ(b.capacity(), UdpBatch::capacity(1472, 44));
  // A full batch: every datagram numbered, no message beyond kMaxMsgs.
  const std::size_t m = b.build(b.capacity(), 100);
  EXPECT_LE(m, UdpBatch::kMaxMsgs);
  auto last = message_bytes(b, m - 1);
  EXPECT_EQ(seq_at(last.subspan(last.size() - 1472)), 100U + b.capacity() - 1);
}

TEST(UdpBatch, DestinationIsSetOnEveryMessageAndPortCanChange) {
  sockaddr_in dest = loopback(2257);
  UdpBatch b(32, 1, nullptr, 0, reinterpret_cast<const sockaddr*>(&dest), sizeof(dest));
  ASSERT_EQ(b.build(3, 1), 3U);
  for (std::size_t j = 0; j < 3; ++j) {
    const msghdr& h = b.msgs()[j].msg_hdr;
    ASSERT_NE(h.msg_name, nullptr);
    ASSERT_EQ(h.msg_namelen, sizeof(sockaddr_in));
    const auto* a = static_cast<const sockaddr_in*>(h.msg_name);
    EXPECT_EQ(a->sin_family, AF_INET);
    EXPECT_EQ(ntohs(a->sin_port), 2257);
    EXPECT_EQ(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);
  }
  b.set_dest_port(40000);  // §11.3: a NAT rewrote the client's port
  ASSERT_EQ(b.build(2, 4), 2U);
  for (std::size_t j = 0; j < 2; ++j) {
    const auto* a = static_cast<const sockaddr_in*>(b.msgs()[j].msg_hdr.msg_name);
    EXPECT_EQ(ntohs(a->sin_port), 40000);
    EXPECT_EQ(ntohl(a->sin_addr.s_addr), INADDR_LOOPBACK);
  }
}

TEST(UdpBatch, Ipv6DestinationPortChanges) {
  sockaddr_in6 dest{};
  dest.sin6_family = AF_INET6;
  dest.sin6_port = htons(2300);
  dest.sin6_addr = in6addr_loopback;
  UdpBatch b(52, 1, nullptr, 0, reinterpret_cast<const sockaddr*>(&dest), sizeof(dest));
  b.set_dest_port(2301);
  ASSERT_EQ(b.build(1, 1), 1U);
  const msghdr& h = b.msgs()[0].msg_hdr;
  ASSERT_EQ(h.msg_namelen, sizeof(sockaddr_in6));
  const auto* a = static_cast<const sockaddr_in6*>(h.msg_name);
  EXPECT_EQ(ntohs(a->sin6_port), 2301);
  EXPECT_EQ(std::memcmp(&a->sin6_addr, &in6addr_loopback, sizeof(in6_addr)), 0);
}

TEST(UdpBatch, SetDestPortWithoutDestinationIsHarmless) {
  UdpBatch b(32, 1, nullptr, 0, nullptr, 0);
  b.set_dest_port(5000);
  ASSERT_EQ(b.build(1, 1), 1U);
  EXPECT_EQ(b.msgs()[0].msg_hdr.msg_name, nullptr);
  EXPECT_EQ(b.msgs()[0].msg_hdr.msg_namelen, 0U);
}

}  // namespace
}  // namespace linerate::btest
