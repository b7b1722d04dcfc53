// scan/siphash.hpp — SipHash-2-4: a keyed 64-bit pseudo-random function.
//
// Why: the SYN scan recognises its own replies by a cookie in the TCP sequence
// number (spec lrscan §6, STYLE.md §1 "Stateless scanning"). The cookie must be
// unpredictable to anyone without the key (or a spoofer could forge "open" ports)
// and cheap enough to compute per probe and per reply. SipHash-2-4 is a PRF built
// for exactly that: short inputs, 128-bit key, a few dozen cycles.
//
// Written from the description in J.-P. Aumasson, D. J. Bernstein, "SipHash: a
// fast short-input PRF" (INDOCRYPT 2012), §2: 2 compression rounds per 8-byte
// little-endian message word, a final word holding the last 0..7 bytes with the
// message length (mod 256) in its top byte, then v2 ^= 0xff and 4 finalisation
// rounds; the output is v0 ^ v1 ^ v2 ^ v3.
//
// Invariants: pure, noexcept, allocation-free; safe from any number of threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace linerate::scan {

/// The 128-bit key as two 64-bit halves: k0 is key bytes 0..7 read little-endian,
/// k1 bytes 8..15 (the paper's convention).
struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

/// SipHash-2-4 of `msg` under `key`: the 64-bit output (the paper's 8 output
/// bytes read little-endian). Any length, including 0.
[[nodiscard]] uint64_t siphash24(SipKey key, std::span<const std::byte> msg) noexcept;

}  // namespace linerate::scan
