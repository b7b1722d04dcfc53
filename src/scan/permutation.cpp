// scan/permutation.cpp — unbalanced Feistel with cycle-walking (see the header).
#include "scan/permutation.hpp"

#include <bit>

namespace linerate::scan {

namespace {

constexpr uint64_t mix64(uint64_t z) noexcept {  // splitmix64 finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

constexpr uint64_t low_mask(unsigned bits) noexcept {  // bits <= 32 here
  return (uint64_t{1} << bits) - 1;
}

}  // namespace

Permutation::Permutation(uint64_t n, uint64_t seed) noexcept : n_(n) {
  // w = bits needed for n - 1, at least 2 so that both halves are non-empty.
  unsigned w = n <= 4 ? 2U : static_cast<unsigned>(std::bit_width(n - 1));
  u_bits_ = w / 2;
  v_bits_ = w - u_bits_;
  uint64_t state = seed ^ mix64(n + 0x6a09e667f3bcc908ULL);
  for (auto& key : keys_) {
    state += 0x9e3779b97f4a7c15ULL;  // splitmix64 stream
    key = mix64(state);
  }
}

uint64_t Permutation::round_fn(int round, uint64_t half) const noexcept {
  return mix64(half ^ keys_[static_cast<unsigned>(round)]);
}

// x = A << v | B on entry and exit. Even rounds update a u-bit half, odd rounds a
// v-bit half; after each round the halves swap places (A = B, B = C).
uint64_t Permutation::encrypt(uint64_t x) const noexcept {
  uint64_t a = x >> v_bits_;
  uint64_t b = x & low_mask(v_bits_);
  for (int r = 0; r < kRounds; ++r) {
    unsigned m = (r % 2 == 0) ? u_bits_ : v_bits_;  // width of A now
    uint64_t c = (a ^ round_fn(r, b)) & low_mask(m);
    a = b;
    b = c;
  }
  return (a << v_bits_) | b;
}

uint64_t Permutation::decrypt(uint64_t x) const noexcept {
  uint64_t a = x >> v_bits_;
  uint64_t b = x & low_mask(v_bits_);
  for (int r = kRounds - 1; r >= 0; --r) {
    unsigned m = (r % 2 == 0) ? u_bits_ : v_bits_;
    // After round r: a = B_old, b = A_old ^ F(B_old).
    uint64_t prev_b = a;
    uint64_t prev_a = (b ^ round_fn(r, prev_b)) & low_mask(m);
    a = prev_a;
    b = prev_b;
  }
  return (a << v_bits_) | b;
}

uint64_t Permutation::shuffle(uint64_t i) const noexcept {
  if (i >= n_) {
    return i;
  }
  uint64_t x = encrypt(i);
  while (x >= n_) {  // cycle-walk; mean D/n < 2 passes (header)
    x = encrypt(x);
  }
  return x;
}

uint64_t Permutation::unshuffle(uint64_t x) const noexcept {
  if (x >= n_) {
    return x;
  }
  uint64_t i = decrypt(x);
  while (i >= n_) {
    i = decrypt(i);
  }
  return i;
}

}  // namespace linerate::scan
