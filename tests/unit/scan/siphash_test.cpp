// tests/unit/scan/siphash_test.cpp — SipHash-2-4 against the published vectors.
#include "scan/siphash.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>

#include <gtest/gtest.h>

namespace {

using linerate::scan::siphash24;
using linerate::scan::SipKey;

// Key bytes 00 01 .. 0f, read little-endian into two halves.
constexpr SipKey kPaperKey{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};

// SipHash-2-4 64-bit outputs for key 00..0f and message i bytes 00 01 .. (i-1),
// i = 0..63, as 64-bit little-endian values. Source: the authors' reference test
// vector table (vectors.h, `vectors_sip64`, in https://github.com/veorq/SipHash);
// entry 15 is also the worked example of the paper's Appendix A
// (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012).
constexpr std::array<uint64_t, 64> kVectors = {
    0x726fdb47dd0e0e31ULL, 0x74f839c593dc67fdULL, 0x0d6c8009d9a94f5aULL, 0x85676696d7fb7e2dULL, 0xcf2794e0277187b7ULL,
    0x18765564cd99a68dULL, 0xcbc9466e58fee3ceULL, 0xab0200f58b01d137ULL, 0x93f5f5799a932462ULL, 0x9e0082df0ba9e4b0ULL,
    0x7a5dbbc594ddb9f3ULL, 0xf4b32f46226bada7ULL, 0x751e8fbc860ee5fbULL, 0x14ea5627c0843d90ULL, 0xf723ca908e7af2eeULL,
    0xa129ca6149be45e5ULL, 0x3f2acc7f57c29bdbULL, 0x699ae9f52cbe4794ULL, 0x4bc1b3f0968dd39cULL, 0xbb6dc91da77961bdULL,
    0xbed65cf21aa2ee98ULL, 0xd0f2cbb02e3b67c7ULL, 0x93536795e3a33e88ULL, 0xa80c038ccd5ccec8ULL, 0xb8ad50c6f649af94ULL,
    0xbce192de8a85b8eaULL, 0x17d835b85bbb15f3ULL, 0x2f2e6163076bcfadULL, 0xde4daaaca71dc9a5ULL, 0xa6a2506687956571ULL,
    0xad87a3535c49ef28ULL, 0x32d892fad841c342ULL, 0x7127512f72f27cceULL, 0xa7f32346f95978e3ULL, 0x12e0b01abb051238ULL,
    0x15e034d40fa197aeULL, 0x314dffbe0815a3b4ULL, 0x027990f029623981ULL, 0xcadcd4e59ef40c4dULL, 0x9abfd8766a33735cULL,
    0x0e3ea96b5304a7d0ULL, 0xad0c42d6fc585992ULL, 0x187306c89bc215a9ULL, 0xd4a60abcf3792b95ULL, 0xf935451de4f21df2ULL,
    0xa9538f0419755787ULL, 0xdb9acddff56ca510ULL, 0xd06c98cd5c0975ebULL, 0xe612a3cb9ecba951ULL, 0xc766e62cfcadaf96ULL,
    0xee64435a9752fe72ULL, 0xa192d576b245165aULL, 0x0a8787bf8ecb74b2ULL, 0x81b3e73d20b49b6fULL, 0x7fa8220ba3b2eceaULL,
    0x245731c13ca42499ULL, 0xb78dbfaf3a8d83bdULL, 0xea1ad565322a1a0bULL, 0x60e61c23a3795013ULL, 0x6606d7e446282b93ULL,
    0x6ca4ecb15c5f91e1ULL, 0x9f626da15c9625f3ULL, 0xe51b38608ef25f57ULL, 0x958a324ceb064572ULL,
};

std::array<std::byte, 64> counting_message() {
  std::array<std::byte, 64> m{};
  for (std::size_t i = 0; i < m.size(); ++i) {
    m[i] = static_cast<std::byte>(i);
  }
  return m;
}

TEST(SipHash, MatchesReferenceVectorsForEveryLength0To63) {
  const auto msg = counting_message();
  for (std::size_t len = 0; len < kVectors.size(); ++len) {
    EXPECT_EQ(siphash24(kPaperKey, std::span(msg).first(len)), kVectors[len]) << "length " << len;
  }
}

TEST(SipHash, PaperAppendixExampleFifteenBytes) {
  const auto msg = counting_message();
  EXPECT_EQ(siphash24(kPaperKey, std::span(msg).first(15)), 0xa129ca6149be45e5ULL);
}

TEST(SipHash, EveryKeyBitChangesTheOutput) {
  const auto msg = counting_message();
  const auto m12 = std::span(msg).first(12);
  std::set<uint64_t> seen{siphash24(kPaperKey, m12)};
  for (int bit = 0; bit < 128; ++bit) {
    SipKey k = kPaperKey;
    if (bit < 64) {
      k.k0 ^= uint64_t{1} << bit;
    } else {
      k.k1 ^= uint64_t{1} << (bit - 64);
    }
    seen.insert(siphash24(k, m12));
  }
  EXPECT_EQ(seen.size(), 129U);
}

TEST(SipHash, LengthIsPartOfTheInput) {
  // A trailing zero byte must not collide with the shorter message.
  const std::array<std::byte, 8> zeros{};
  std::set<uint64_t> seen;
  for (std::size_t len = 0; len <= zeros.size(); ++len) {
    seen.insert(siphash24(kPaperKey, std::span(zeros).first(len)));
  }
  EXPECT_EQ(seen.size(), zeros.size() + 1);
}

}  // namespace
