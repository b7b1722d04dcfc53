// tests/fuzz/scan_ports_fuzz.cpp — parse_port_spec, parse_exclude_ports and the
// nmap-services parser on arbitrary text.
//
// Properties: never crashes; an error is one non-empty line; a parsed set's size
// equals the number of ports nth() enumerates (small sets), nth() is increasing and
// every nth(i) is contained; the canonical text re-parses to the same set; the
// frequency table's top ports are distinct.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "scan/ports.hpp"

namespace {

using namespace linerate;
using namespace linerate::scan;

void check_error(const core::Error& e) {
  std::string msg = e.message();
  LR_FUZZ_CHECK(!msg.empty());
  LR_FUZZ_CHECK(msg.find_first_of("\r\n") == std::string::npos);
}

void check_set(const PortSet& set) {
  uint32_t size = set.size();
  LR_FUZZ_CHECK(size <= 65536);
  if (size == 0) {
    return;
  }
  uint32_t from_ranges = 0;
  for (const auto& r : set.ranges()) {
    LR_FUZZ_CHECK(r.first <= r.last);
    from_ranges += uint32_t{r.last} - r.first + 1;
  }
  LR_FUZZ_CHECK(from_ranges == size);
  LR_FUZZ_CHECK(set.contains(set.nth(0)));
  LR_FUZZ_CHECK(set.contains(set.nth(size - 1)));
  LR_FUZZ_CHECK(set.nth(size - 1) == set.ranges().back().last);
  if (size <= 4096) {
    uint32_t count = 0;
    int prev = -1;
    for (uint32_t i = 0; i < size; ++i) {
      int p = set.nth(i);
      LR_FUZZ_CHECK(p > prev);
      LR_FUZZ_CHECK(set.contains(static_cast<uint16_t>(p)));
      prev = p;
      ++count;
    }
    LR_FUZZ_CHECK(count == size);
  }
  auto again = parse_port_spec(set.to_string(), ScanProtocols{true, false});
  LR_FUZZ_CHECK(again && again->tcp == set);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const ServiceTable table = ServiceTable::builtin();

  // The first byte picks the scanned protocols, the rest is the spec.
  ScanProtocols scanned{true, false};
  std::string_view spec = text;
  if (!text.empty()) {
    auto mode = static_cast<unsigned char>(text[0]);
    scanned = ScanProtocols{(mode & 1U) != 0, (mode & 2U) != 0};
    spec = text.substr(1);
  }

  auto ports = parse_port_spec(spec, scanned, (size % 2) != 0 ? &table : nullptr);
  if (ports) {
    LR_FUZZ_CHECK(ports->total() > 0);
    check_set(ports->tcp);
    check_set(ports->udp);
  } else {
    check_error(ports.error());
  }

  auto excl = parse_exclude_ports(text, &table);
  if (excl) {
    check_set(excl->tcp);
    check_set(excl->udp);
    if (ports) {
      auto left = ports->minus(*excl);
      check_set(left.tcp);
      check_set(left.udp);
      for (const auto& r : excl->tcp.ranges()) {
        LR_FUZZ_CHECK(!left.tcp.contains(r.first) && !left.tcp.contains(r.last));
      }
    }
  } else {
    check_error(excl.error());
  }

  auto services = ServiceTable::parse(text);
  if (services) {
    for (Protocol proto : {Protocol::kTcp, Protocol::kUdp}) {
      auto top = services->top_ports(proto, 200);
      LR_FUZZ_CHECK(std::set<uint16_t>(top.begin(), top.end()).size() == top.size());
    }
  } else {
    check_error(services.error());
  }
  return 0;
}
