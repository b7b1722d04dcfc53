// bench/micro/syn_bench.cpp — micro-benchmarks for the stateless SYN-scan core
// (scan/syn_probe.hpp).
//
// What is measured, and why (issue 8 "Performance": packets generated per second
// per core, reply validation per second):
//  * BM_SynBuild_Ipv4 / _Ipv6: one probe = SipHash cookie of the 4-tuple +
//    template copy + field patches + incremental checksums, written into a ring of
//    64 buffers (like one sendmmsg batch) and handed to no sink. Packets/s is the
//    generator's ceiling on one core (goal: >= 10 Mpps in a Release build).
//  * BM_SynValidate_Ipv4: one received SYN-ACK = parse_reply + flag check +
//    cookie recomputation, over 64 distinct pre-built replies.
// Each benchmark checks once, outside the timed loop, that its work happened.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include <benchmark/benchmark.h>

#include "scan/syn_probe.hpp"

namespace {

using linerate::scan::Ip6Bytes;
using linerate::scan::parse_reply;
using linerate::scan::ReplyKind;
using linerate::scan::SynCookie;
using linerate::scan::SynTemplate4;
using linerate::scan::SynTemplate6;
using linerate::scan::Tuple4;
using linerate::scan::Tuple6;

constexpr std::size_t kBatch = 64;
constexpr uint32_t kSrc = 0x0A000001;  // 10.0.0.1
const SynCookie kCookie({0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL});

void BM_SynBuild_Ipv4(benchmark::State& state) {
  const SynTemplate4 tmpl(kSrc);
  std::vector<std::array<std::byte, SynTemplate4::kLen>> ring(kBatch);
  uint32_t i = 0;
  for (auto _ : state) {
    for (auto& buf : ring) {
      // Walk a /16 x 1000 ports, as the permutation would hand them out.
      const Tuple4 t{kSrc, 0xC0A80000U | (i & 0xffffU), 40000, static_cast<uint16_t>(1 + (i >> 16) % 1000)};
      tmpl.build(buf, t.dst_ip, t.src_port, t.dst_port, kCookie.cookie(t), static_cast<uint16_t>(i));
      ++i;
    }
    benchmark::DoNotOptimize(ring.data());
    benchmark::ClobberMemory();
  }
  const auto r = parse_reply(ring.back());
  if (!r || !kCookie.valid_synack(r->seq + 1, Tuple4{kSrc, r->probe_tuple4().src_ip, r->sport, r->dport})) {
    state.SkipWithError("built probe does not carry its cookie");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["pps"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kBatch), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynBuild_Ipv4);

void BM_SynBuild_Ipv6(benchmark::State& state) {
  Ip6Bytes src{0x20, 0x01, 0x0d, 0xb8};
  src[15] = 1;
  const SynTemplate6 tmpl(src);
  std::vector<std::array<std::byte, SynTemplate6::kLen>> ring(kBatch);
  Ip6Bytes dst{0x20, 0x01, 0x0d, 0xb8, 0, 1};
  uint32_t i = 0;
  for (auto _ : state) {
    for (auto& buf : ring) {
      dst[14] = static_cast<uint8_t>(i >> 8);
      dst[15] = static_cast<uint8_t>(i);
      const Tuple6 t{src, dst, 40000, static_cast<uint16_t>(1 + (i >> 16) % 1000)};
      tmpl.build(buf, t.dst_ip, t.src_port, t.dst_port, kCookie.cookie(t));
      ++i;
    }
    benchmark::DoNotOptimize(ring.data());
    benchmark::ClobberMemory();
  }
  const auto r = parse_reply(ring.back());
  if (!r || !r->v6) {
    state.SkipWithError("built IPv6 probe does not parse");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["pps"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kBatch), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynBuild_Ipv6);

void BM_SynValidate_Ipv4(benchmark::State& state) {
  // Replies are built with the probe template itself, then turned around into
  // SYN-ACKs: swap addresses and ports, ack = cookie + 1, flags SYN|ACK. The IP
  // checksum is unchanged by the swap; the TCP checksum is not checked by the
  // parser, so it is left as is.
  std::vector<std::array<std::byte, SynTemplate4::kLen>> replies(kBatch);
  for (uint32_t i = 0; i < kBatch; ++i) {
    const Tuple4 t{kSrc, 0xC0A80000U | i, 40000, static_cast<uint16_t>(80 + i)};
    const SynTemplate4 peer(t.dst_ip);  // the peer's view: its address is the source
    const uint32_t ack = kCookie.cookie(t) + 1;
    auto& b = replies[i];
    peer.build(b, t.src_ip, t.dst_port, t.src_port, 0x5eed0000U + i, 0);
    b[28] = static_cast<std::byte>(ack >> 24);
    b[29] = static_cast<std::byte>(ack >> 16);
    b[30] = static_cast<std::byte>(ack >> 8);
    b[31] = static_cast<std::byte>(ack);
    b[33] = std::byte{0x12};
  }
  uint64_t open = 0;
  for (auto _ : state) {
    for (const auto& b : replies) {
      const auto r = parse_reply(b);
      open += (r && kCookie.classify(*r) == ReplyKind::kSynAck) ? 1 : 0;
    }
    benchmark::DoNotOptimize(open);
  }
  if (open != state.iterations() * kBatch) {
    state.SkipWithError("a valid SYN-ACK was not recognised");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["pps"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kBatch), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SynValidate_Ipv4);

}  // namespace
