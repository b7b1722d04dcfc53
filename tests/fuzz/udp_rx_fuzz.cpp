// tests/fuzz/udp_rx_fuzz.cpp — UdpRxAccount on arbitrary datagram sequences.
//
// Input layout: byte 0 = flags (bit 0: IPv6 overhead 48 instead of 28; bit 1: a
// fixed expected payload size, given by byte 1 (0 then means any); bit 2: bounded
// mode, see below), byte 1 = expected payload size, then records
//   [port: u16 BE][len: u8][len bytes]
// each one datagram from source port `port` (a short last record takes what is
// left). len 255 is not a datagram: it stands for one datagram from a foreign
// address (on_foreign). Every count must match a model of what was fed; in
// bounded mode each flow's sequence numbers are squeezed into 64 consecutive
// values (inside the duplicate window), where the accounting is exact:
// duplicates are recognised and unique + lost == max - min + 1 for every flow.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <vector>

#include "btest/udp_rx.hpp"
#include "fuzz_check.hpp"

namespace {

using linerate::btest::UdpRxAccount;
using linerate::btest::UdpRxTotals;

struct FlowModel {
  std::set<uint32_t> offsets;  // bounded mode: seq - base of every datagram accepted
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const unsigned overhead = (data[0] & 1) != 0 ? 48 : 28;
  const std::size_t expected = (data[0] & 2) != 0 ? data[1] : 0;
  const bool bounded = (data[0] & 4) != 0;

  UdpRxAccount acct(overhead, expected);
  uint64_t fed = 0;
  uint64_t want_probes = 0;
  uint64_t want_malformed = 0;
  uint64_t want_foreign = 0;
  uint64_t want_datagrams = 0;
  uint64_t want_bytes = 0;
  std::map<uint16_t, FlowModel> flows;
  std::vector<std::byte> buf;

  std::size_t pos = 2;
  while (pos + 3 <= size) {
    const auto port = static_cast<uint16_t>((data[pos] << 8) | data[pos + 1]);
    const std::size_t want_len = data[pos + 2];
    pos += 3;
    if (want_len == 255) {
      acct.on_foreign();
      ++want_foreign;
      continue;
    }
    const std::size_t len = want_len < size - pos ? want_len : size - pos;
    buf.assign(reinterpret_cast<const std::byte*>(data + pos), reinterpret_cast<const std::byte*>(data + pos + len));
    pos += len;
    const bool accepted = len >= 4 && (expected == 0 || len == expected);
    if (bounded && accepted) {
      // seq = base(port) + (last sequence byte mod 64); the base sits near the
      // u32 wrap for odd ports so the window straddles it.
      const uint32_t base = (port & 1) != 0 ? 0xFFFFFFE0U : static_cast<uint32_t>(port) * 1000U;
      const uint32_t off = static_cast<uint32_t>(buf[3]) % 64;
      const uint32_t seq = base + off;
      buf[0] = static_cast<std::byte>(seq >> 24);
      buf[1] = static_cast<std::byte>(seq >> 16);
      buf[2] = static_cast<std::byte>(seq >> 8);
      buf[3] = static_cast<std::byte>(seq);
      flows[port].offsets.insert(off);
    }
    acct.on_datagram(port, buf);
    ++fed;
    if (len == 0) {
      ++want_probes;
    } else if (!accepted) {
      ++want_malformed;
    } else {
      ++want_datagrams;
      want_bytes += len + overhead;
    }
  }

  const UdpRxTotals& t = acct.totals();
  LR_FUZZ_CHECK(t.probes == want_probes);
  LR_FUZZ_CHECK(t.malformed == want_malformed);
  LR_FUZZ_CHECK(t.foreign == want_foreign);
  LR_FUZZ_CHECK(t.datagrams == want_datagrams);
  LR_FUZZ_CHECK(t.probes + t.malformed + t.datagrams == fed);
  LR_FUZZ_CHECK(t.bytes == want_bytes);
  LR_FUZZ_CHECK(t.duplicates <= t.datagrams);
  LR_FUZZ_CHECK(t.reordered + t.duplicates <= t.datagrams);
  LR_FUZZ_CHECK(t.unique() <= t.datagrams);
  // A forward jump counts at most 2^31 - 1 datagrams lost.
  LR_FUZZ_CHECK(t.lost <= t.datagrams * uint64_t{0x7FFFFFFF});

  if (bounded && flows.size() <= UdpRxAccount::kMaxFlows) {
    uint64_t distinct = 0;
    uint64_t span = 0;
    for (const auto& [port, f] : flows) {
      distinct += f.offsets.size();
      span += *f.offsets.rbegin() - *f.offsets.begin() + 1;
    }
    LR_FUZZ_CHECK(t.unique() == distinct);
    LR_FUZZ_CHECK(t.duplicates == t.datagrams - distinct);
    LR_FUZZ_CHECK(t.unique() + t.lost == span);
  }
  return 0;
}
