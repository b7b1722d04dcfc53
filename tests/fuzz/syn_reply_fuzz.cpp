// tests/fuzz/syn_reply_fuzz.cpp — parse_reply (scan/syn_probe.hpp) on arbitrary
// bytes, as if captured off the wire starting at the IP header.
//
// Properties: never reads outside the input (ASan; the replay main gives each
// input a heap buffer of exactly its size); an accepted packet's family matches
// its version nibble and its ports/seq/ack/flags are the bytes at the offsets the
// headers imply; classify() on it is total; and a SYN probe built from the
// parsed tuple by the templates parses back to the same tuple.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_check.hpp"
#include "packet_fuzz_util.hpp"
#include "scan/syn_probe.hpp"

namespace {

using linerate::fuzz::be16;
using linerate::fuzz::be32;
using linerate::fuzz::checked_ip_header_len;
using linerate::scan::parse_reply;
using linerate::scan::ReplyKind;
using linerate::scan::SynCookie;
using linerate::scan::SynTemplate4;
using linerate::scan::SynTemplate6;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto r = parse_reply(std::as_bytes(std::span(data, size)));
  if (!r) {
    return 0;
  }
  LR_FUZZ_CHECK(size >= 40);
  const std::size_t hl = checked_ip_header_len(data, r->v6);
  LR_FUZZ_CHECK(hl + 20 <= size);
  const uint8_t* tcp = data + hl;
  LR_FUZZ_CHECK(r->sport == be16(tcp));
  LR_FUZZ_CHECK(r->dport == be16(tcp + 2));
  LR_FUZZ_CHECK(r->seq == be32(tcp + 4));
  LR_FUZZ_CHECK(r->ack == be32(tcp + 8));
  LR_FUZZ_CHECK(r->flags == tcp[13]);

  const SynCookie cookie({0x1111, 0x2222});
  const ReplyKind kind = cookie.classify(*r);
  LR_FUZZ_CHECK(kind == ReplyKind::kNone || kind == ReplyKind::kSynAck || kind == ReplyKind::kRst);

  // Probe back to the sender: the parsed source becomes a template's destination.
  if (r->v6) {
    const auto t = r->probe_tuple6();
    const SynTemplate6 tmpl(t.src_ip);
    std::array<std::byte, SynTemplate6::kLen> buf{};
    LR_FUZZ_CHECK(tmpl.build(buf, t.dst_ip, t.src_port, t.dst_port, cookie.cookie(t)) == buf.size());
    const auto back = parse_reply(buf);
    LR_FUZZ_CHECK(back && back->v6 && back->src == t.src_ip && back->dst == t.dst_ip);
    LR_FUZZ_CHECK(back->sport == t.src_port && back->dport == t.dst_port && back->seq == cookie.cookie(t));
  } else {
    const auto t = r->probe_tuple4();
    const SynTemplate4 tmpl(t.src_ip);
    std::array<std::byte, SynTemplate4::kLen> buf{};
    LR_FUZZ_CHECK(tmpl.build(buf, t.dst_ip, t.src_port, t.dst_port, cookie.cookie(t), 1) == buf.size());
    const auto back = parse_reply(buf);
    LR_FUZZ_CHECK(back && !back->v6 && back->probe_tuple4().src_ip == t.dst_ip);
    LR_FUZZ_CHECK(back->sport == t.src_port && back->dport == t.dst_port && back->seq == cookie.cookie(t));
    LR_FUZZ_CHECK(cookie.valid_synack(back->seq + 1, t));
  }
  return 0;
}
