// tests/fuzz/udp_probe_fuzz.cpp — parse_scan_event (scan/udp_probe.hpp) on
// arbitrary bytes, as if captured off the wire starting at the IP header.
//
// Properties: never reads outside the input (ASan; the replay main gives each
// input a heap buffer of exactly its size); an accepted packet's family matches
// its version nibble; a UDP event's ports are the bytes at the offsets the
// headers imply and its payload lies inside the input; an ICMP event's type and
// code are those bytes and its quoted protocol is TCP or UDP, with a sequence
// number only for TCP; verdict_for() is total and gives only spec §3 states;
// and a UDP probe built by the templates for the event's probe tuple parses
// back to that tuple.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.hpp"
#include "packet_fuzz_util.hpp"
#include "scan/udp_probe.hpp"

namespace {

using linerate::fuzz::be16;
using linerate::fuzz::checked_ip_header_len;
using linerate::scan::kIpProtoTcp;
using linerate::scan::kIpProtoUdp;
using linerate::scan::parse_scan_event;
using linerate::scan::PortState;
using linerate::scan::ScanEvent;
using linerate::scan::UdpPayload;
using linerate::scan::UdpTemplate4;
using linerate::scan::UdpTemplate6;
using linerate::scan::verdict_for;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto e = parse_scan_event(std::as_bytes(std::span(data, size)));
  if (!e) {
    return 0;
  }
  const std::size_t hl = checked_ip_header_len(data, e->v6);
  LR_FUZZ_CHECK(hl + 8 <= size);
  const uint8_t* l4 = data + hl;

  if (e->kind == ScanEvent::Kind::kUdp) {
    LR_FUZZ_CHECK(e->sport == be16(l4));
    LR_FUZZ_CHECK(e->dport == be16(l4 + 2));
    LR_FUZZ_CHECK(e->payload_off == hl + 8);
    LR_FUZZ_CHECK(std::size_t{e->payload_off} + e->payload_len <= size);
    LR_FUZZ_CHECK(e->payload_len + 8U == be16(l4 + 4));
  } else {
    LR_FUZZ_CHECK(e->icmp_type == l4[0] && e->icmp_code == l4[1]);
    LR_FUZZ_CHECK(e->quoted.proto == kIpProtoTcp || e->quoted.proto == kIpProtoUdp);
    LR_FUZZ_CHECK(!e->quoted.has_seq || e->quoted.proto == kIpProtoTcp);
    // The quote holds at least an IP header and the ports.
    LR_FUZZ_CHECK(hl + 8 + (e->v6 ? 40U : 20U) + 4 <= size);
  }

  const auto v = verdict_for(*e);
  if (v) {
    LR_FUZZ_CHECK(v->state == PortState::kOpen || v->state == PortState::kClosed || v->state == PortState::kFiltered);
    LR_FUZZ_CHECK(v->state != PortState::kOpen || e->kind == ScanEvent::Kind::kUdp);
  }

  // Build the probe this event answers and parse it back.
  static const std::array<std::byte, 3> kBody = {std::byte{1}, std::byte{2}, std::byte{3}};
  static const UdpPayload payload = *UdpPayload::make(kBody);
  if (e->v6) {
    const auto t = e->probe_tuple6();
    const UdpTemplate6 tmpl(t.src_ip);
    std::array<std::byte, UdpTemplate6::kHeaderLen + 3> buf{};
    LR_FUZZ_CHECK(tmpl.build(buf, t.dst_ip, t.src_port, t.dst_port, payload) == buf.size());
    const auto back = parse_scan_event(buf);
    LR_FUZZ_CHECK(back && back->v6 && back->kind == ScanEvent::Kind::kUdp);
    LR_FUZZ_CHECK(back->src == t.src_ip && back->dst == t.dst_ip);
    LR_FUZZ_CHECK(back->sport == t.src_port && back->dport == t.dst_port && back->payload_len == 3);
  } else {
    const auto t = e->probe_tuple4();
    const UdpTemplate4 tmpl(t.src_ip);
    std::array<std::byte, UdpTemplate4::kHeaderLen + 3> buf{};
    LR_FUZZ_CHECK(tmpl.build(buf, t.dst_ip, t.src_port, t.dst_port, payload, 1) == buf.size());
    const auto back = parse_scan_event(buf);
    LR_FUZZ_CHECK(back && !back->v6 && back->kind == ScanEvent::Kind::kUdp);
    const auto rt = back->probe_tuple4();  // reversed: the reply to our built probe
    LR_FUZZ_CHECK(rt.src_ip == t.dst_ip && rt.dst_ip == t.src_ip);
    LR_FUZZ_CHECK(back->sport == t.src_port && back->dport == t.dst_port && back->payload_len == 3);
  }
  return 0;
}
