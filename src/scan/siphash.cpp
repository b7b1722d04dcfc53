// scan/siphash.cpp — SipHash-2-4 (Aumasson & Bernstein 2012, §2). See the header.
#include "scan/siphash.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>

namespace linerate::scan {

namespace {

// Initialisation constants: "somepseudorandomlygeneratedbytes" in ASCII (paper §2).
constexpr uint64_t kInit0 = 0x736f6d6570736575ULL;
constexpr uint64_t kInit1 = 0x646f72616e646f6dULL;
constexpr uint64_t kInit2 = 0x6c7967656e657261ULL;
constexpr uint64_t kInit3 = 0x7465646279746573ULL;

struct State {
  uint64_t v0;
  uint64_t v1;
  uint64_t v2;
  uint64_t v3;

  // One SipRound: two add-rotate-xor half rounds on (v0, v1) and (v2, v3), then
  // crossed, with the rotation counts 13, 16, 21, 17 and the two 32-bit swaps.
  void round() noexcept {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }

  // Compression of one message word: c = 2 rounds.
  void compress(uint64_t m) noexcept {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
};

uint64_t load_le64(const std::byte* p) noexcept {
  uint64_t w = 0;
  for (int i = 7; i >= 0; --i) {
    w = (w << 8) | static_cast<uint64_t>(p[i]);
  }
  return w;
}

}  // namespace

uint64_t siphash24(SipKey key, std::span<const std::byte> msg) noexcept {
  State s{key.k0 ^ kInit0, key.k1 ^ kInit1, key.k0 ^ kInit2, key.k1 ^ kInit3};

  const std::size_t n = msg.size();
  const std::size_t full = n & ~std::size_t{7};
  for (std::size_t i = 0; i < full; i += 8) {
    s.compress(load_le64(msg.data() + i));
  }

  // Last word: the 0..7 remaining bytes, little-endian, and len mod 256 on top.
  uint64_t last = static_cast<uint64_t>(n & 0xff) << 56;
  for (std::size_t i = full; i < n; ++i) {
    last |= static_cast<uint64_t>(msg[i]) << (8 * (i - full));
  }
  s.compress(last);

  // Finalisation: d = 4 rounds.
  s.v2 ^= 0xff;
  s.round();
  s.round();
  s.round();
  s.round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

}  // namespace linerate::scan
