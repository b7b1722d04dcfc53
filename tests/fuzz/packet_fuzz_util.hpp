// tests/fuzz/packet_fuzz_util.hpp — wire-byte readers for the packet-parser fuzz
// targets (syn_reply, udp_probe, discovery_reply).
//
// A target checks what a parser accepted against the raw input bytes, so these
// readers are its own, independent of the library's packet code
// (scan/detail/packet.hpp): a parser bug shared with them could not be caught.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fuzz_check.hpp"

namespace linerate::fuzz {

/// Big-endian 16/32-bit field at `p` (the caller keeps the bytes in range).
inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

inline uint32_t be32(const uint8_t* p) { return (static_cast<uint32_t>(be16(p)) << 16) | be16(p + 2); }

/// The IP header length an accepted packet implies (40 for IPv6, IHL * 4 for
/// IPv4), once its version nibble is checked against the family the parser reported.
inline std::size_t checked_ip_header_len(const uint8_t* data, bool v6) {
  const unsigned version = data[0] >> 4;
  LR_FUZZ_CHECK(version == (v6 ? 6U : 4U));
  return v6 ? 40 : (data[0] & 0x0fU) * 4;
}

}  // namespace linerate::fuzz
