// scan/permutation.hpp — the keyed bijection on [0, n) that orders a scan's probes.
//
// Why: a scan is an index i over (host, port) pairs (spec lrscan §4, STYLE.md §1
// "Stateless scanning"). Walking i = 0, 1, 2, ... and probing pair shuffle(i)
// spreads the probes over hosts and ports in a random-looking but reproducible
// order without storing anything per target. Resume is "start at i", shards are
// "every N-th i", retries are "walk i again"; unshuffle() maps a pair back to its
// index for resume files and debugging. Same idea as masscan's blackrock and
// zmap's cyclic groups; this is our own construction.
//
// Construction: an unbalanced Feistel network (FF1-style alternating halves) with
// XOR over the domain D = 2^w, the smallest power of two >= n (w >= 2, so both
// halves are non-empty): the w bits are split into u = w/2 and v = w - u bits, and
// each round computes C = A ^ F(round key, B) on the half whose width alternates
// u, v, u, v. kRounds is even so the halves end where they began. F is the
// splitmix64 finaliser of (B ^ round key); round keys come from splitmix64 seeded
// with (seed, n), so different seeds or different n give unrelated orders. This is
// an ordering, not cryptography: it must look random to the network, not resist an
// adversary who sees many outputs.
//
// Cycle-walking bound: a Feistel output >= n is fed through the network again until
// it lands in [0, n). The walk always ends (the network is a permutation of D, and
// the cycle through i contains i itself), and summed over all i in [0, n) the walks
// visit every element of D exactly once, so the MEAN number of network evaluations
// per shuffle() is exactly D/n, which is < 2 for n >= 3 (D < 2n) and <= 4 for
// n <= 2 (D = 4). A single i can walk longer (at most D - n + 1 evaluations), which
// is harmless for throughput because the mean is what the transmit loop pays.
//
// Invariants: shuffle and unshuffle are pure, const, noexcept and allocation-free;
// safe to call from any number of threads on the same object.
#pragma once

#include <array>
#include <cstdint>

namespace linerate::scan {

class Permutation {
 public:
  static constexpr int kRounds = 6;

  /// A permutation of [0, n) keyed by `seed`. n == 0 makes an empty permutation
  /// (size() == 0; there is no valid index). Costs a few dozen multiplications.
  Permutation(uint64_t n, uint64_t seed) noexcept;

  [[nodiscard]] uint64_t size() const noexcept { return n_; }

  /// The position of index i in the shuffled order: a value in [0, n).
  /// Precondition i < size(); an out-of-range i is returned unchanged.
  [[nodiscard]] uint64_t shuffle(uint64_t i) const noexcept;

  /// Inverse: unshuffle(shuffle(i)) == i. Out-of-range x is returned unchanged.
  [[nodiscard]] uint64_t unshuffle(uint64_t x) const noexcept;

 private:
  [[nodiscard]] uint64_t encrypt(uint64_t x) const noexcept;  // one pass over D
  [[nodiscard]] uint64_t decrypt(uint64_t x) const noexcept;
  [[nodiscard]] uint64_t round_fn(int round, uint64_t half) const noexcept;

  uint64_t n_;
  unsigned u_bits_ = 1;  // width of the high half A on entry
  unsigned v_bits_ = 1;  // width of the low half B on entry (v >= u)
  std::array<uint64_t, kRounds> keys_{};
};

/// One shard of a scan: shard `index` of `count` covers the indices
/// i with i % count == index (masscan's --shards idea; our CLI shows it 1-based as
/// `--shard I/N`). Valid when count >= 1 and index < count. Interleaving (rather
/// than contiguous blocks) keeps every shard spread over the whole permutation and
/// lets all shards finish at about the same time.
struct Shard {
  uint64_t index = 0;
  uint64_t count = 1;

  [[nodiscard]] constexpr bool valid() const noexcept { return count >= 1 && index < count; }
};

/// Number of indices in [0, n) that belong to shard `s` (0 for an invalid shard).
[[nodiscard]] constexpr uint64_t shard_size(uint64_t n, Shard s) noexcept {
  if (!s.valid()) {
    return 0;
  }
  return n / s.count + (s.index < n % s.count ? 1 : 0);
}

/// The k-th index (k < shard_size(n, s)) of shard `s`: s.index + k * s.count.
/// Never overflows for such k, because the result is < n.
[[nodiscard]] constexpr uint64_t shard_nth(Shard s, uint64_t k) noexcept { return s.index + k * s.count; }

/// The position within its shard of a global index i (i % s.count == s.index): the
/// inverse of shard_nth, for resuming a shard from a saved global index.
[[nodiscard]] constexpr uint64_t shard_position(Shard s, uint64_t i) noexcept { return i / s.count; }

/// The indices of one shard, for range-for over a scan:
///   for (uint64_t i : ShardRange(n, shard)) { probe(perm.shuffle(i)); }
/// Overflow-safe for every n up to 2^64-1 (it counts k, not i).
class ShardRange {
 public:
  class Iterator {
   public:
    constexpr Iterator(Shard s, uint64_t k) noexcept : s_(s), k_(k) {}
    constexpr uint64_t operator*() const noexcept { return shard_nth(s_, k_); }
    constexpr Iterator& operator++() noexcept {
      ++k_;
      return *this;
    }
    constexpr bool operator==(const Iterator& o) const noexcept { return k_ == o.k_; }

   private:
    Shard s_;
    uint64_t k_;
  };

  /// Starts at position `first_k` within the shard (resume); clamped to the end.
  constexpr ShardRange(uint64_t n, Shard s, uint64_t first_k = 0) noexcept
      : s_(s), end_k_(shard_size(n, s)), first_k_(first_k < end_k_ ? first_k : end_k_) {}

  [[nodiscard]] constexpr Iterator begin() const noexcept { return {s_, first_k_}; }
  [[nodiscard]] constexpr Iterator end() const noexcept { return {s_, end_k_}; }
  [[nodiscard]] constexpr uint64_t size() const noexcept { return end_k_ - first_k_; }

 private:
  Shard s_;
  uint64_t end_k_;
  uint64_t first_k_;
};

}  // namespace linerate::scan
