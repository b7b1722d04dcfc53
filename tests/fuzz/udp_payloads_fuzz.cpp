// tests/fuzz/udp_payloads_fuzz.cpp — parse_nmap_payloads (scan/udp_payloads.hpp)
// on arbitrary text.
//
// Properties: never crashes and stays linear (libFuzzer's timeout); an error is
// one non-empty line naming nmap-payloads; a parsed table has payloads no
// longer than kMaxUdpPayload whose precomputed sums match their bytes, at most
// kMaxEntries distinct payloads, has_specific() true inside its ranges and false
// (with the empty payload) just outside them, and merging it under builtin()
// keeps every builtin payload and covers exactly the union of the two tables.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "scan/udp_payloads.hpp"

namespace {

using linerate::scan::kMaxUdpPayload;
using linerate::scan::parse_nmap_payloads;
using linerate::scan::UdpPayload;
using linerate::scan::UdpPayloads;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto t = parse_nmap_payloads(text);
  if (!t) {
    const std::string msg = t.error().message();
    LR_FUZZ_CHECK(!msg.empty());
    LR_FUZZ_CHECK(msg.find_first_of("\r\n") == std::string::npos);
    LR_FUZZ_CHECK(msg.rfind("nmap-payloads", 0) == 0);
    return 0;
  }
  LR_FUZZ_CHECK(t->payload_count() <= UdpPayloads::kMaxEntries);
  LR_FUZZ_CHECK(t->payload_count() <= t->range_count());
  // Each range's ends and the ports just outside it agree with has_specific();
  // payloads are bounded and their sums match their bytes.
  const auto ports = t->specific_ports();
  for (const auto& r : ports.ranges()) {
    for (uint16_t p : {r.first, r.last}) {
      const UdpPayload& pl = t->for_port(p);
      LR_FUZZ_CHECK(t->has_specific(p));
      LR_FUZZ_CHECK(pl.size() <= kMaxUdpPayload);
      const auto again = UdpPayload::make(pl.bytes());
      LR_FUZZ_CHECK(again && again->sum() == pl.sum());
    }
    if (r.first > 0) {
      const auto below = static_cast<uint16_t>(r.first - 1);
      LR_FUZZ_CHECK(!t->has_specific(below) && t->for_port(below).empty());
    }
    if (r.last < 65535) {
      const auto above = static_cast<uint16_t>(r.last + 1);
      LR_FUZZ_CHECK(!t->has_specific(above) && t->for_port(above).empty());
    }
  }
  // Merged under ours: every builtin payload kept, every other port of theirs filled.
  const UdpPayloads& ours = UdpPayloads::builtin();
  const UdpPayloads merged = ours.merged_with(*t);
  const auto our_ports = ours.specific_ports();
  for (const auto& r : our_ports.ranges()) {
    LR_FUZZ_CHECK(merged.for_port(r.first) == ours.for_port(r.first));
  }
  for (const auto& r : ports.ranges()) {
    for (uint16_t p : {r.first, r.last}) {
      LR_FUZZ_CHECK(merged.has_specific(p));
      LR_FUZZ_CHECK(ours.has_specific(p) || merged.for_port(p) == t->for_port(p));
    }
  }
  LR_FUZZ_CHECK(merged.specific_ports() == our_ports.united(ports));
  return 0;
}
