// tests/unit/scan/permutation_test.cpp — keyed bijection on [0, n) and shards.
#include "scan/permutation.hpp"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::scan {
namespace {

void expect_bijection(uint64_t n, uint64_t seed) {
  Permutation perm(n, seed);
  ASSERT_EQ(perm.size(), n);
  std::vector<bool> hit(n, false);
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t x = perm.shuffle(i);
    ASSERT_LT(x, n) << "n=" << n << " i=" << i;
    ASSERT_FALSE(hit[x]) << "n=" << n << " value " << x << " hit twice";
    hit[x] = true;
    ASSERT_EQ(perm.unshuffle(x), i) << "n=" << n;
  }
}

TEST(Permutation, ShuffleIsBijectionOverRange) {
  for (uint64_t n : {1ULL, 2ULL, 3ULL, 4ULL, 5ULL, 7ULL, 8ULL, 9ULL, 1000ULL, 1024ULL, 65536ULL, 100003ULL}) {
    expect_bijection(n, 0x1234);
  }
}

TEST(Permutation, ShuffleIsBijectionForRandomSizes) {
  std::mt19937_64 rng(42);  // fixed: hermetic
  for (int k = 0; k < 6; ++k) {
    uint64_t n = 1 + rng() % 1'000'000;
    expect_bijection(n, rng());
  }
}

TEST(Permutation, SameSeedReproducesOrder) {
  Permutation a(1000, 7);
  Permutation b(1000, 7);
  for (uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(a.shuffle(i), b.shuffle(i));
  }
}

TEST(Permutation, DifferentSeedsGiveDifferentOrders) {
  Permutation a(1000, 1);
  Permutation b(1000, 2);
  int same = 0;
  for (uint64_t i = 0; i < 1000; ++i) {
    same += a.shuffle(i) == b.shuffle(i) ? 1 : 0;
  }
  EXPECT_LT(same, 20);  // ~1 expected for unrelated permutations
}

TEST(Permutation, OrderIsNotIdentity) {
  Permutation perm(65536, 99);
  int fixed = 0;
  for (uint64_t i = 0; i < 65536; ++i) {
    fixed += perm.shuffle(i) == i ? 1 : 0;
  }
  EXPECT_LT(fixed, 20);
}

TEST(Permutation, LargeDomainsStayInRangeAndInvert) {
  std::mt19937_64 rng(7);
  for (uint64_t n : {(1ULL << 40) + 7, (1ULL << 48) - 3, (1ULL << 63) + 5, ~0ULL}) {
    Permutation perm(n, rng());
    for (int k = 0; k < 2000; ++k) {
      uint64_t i = rng() % n;
      uint64_t x = perm.shuffle(i);
      ASSERT_LT(x, n);
      ASSERT_EQ(perm.unshuffle(x), i) << "n=" << n;
    }
    EXPECT_LT(perm.shuffle(n - 1), n);
    EXPECT_EQ(perm.unshuffle(perm.shuffle(0)), 0U);
  }
}

TEST(Permutation, OutOfRangeIsReturnedUnchanged) {
  Permutation perm(10, 3);
  EXPECT_EQ(perm.shuffle(10), 10U);
  EXPECT_EQ(perm.unshuffle(12345), 12345U);
  Permutation empty(0, 3);
  EXPECT_EQ(empty.size(), 0U);
  EXPECT_EQ(empty.shuffle(0), 0U);
}

TEST(Shard, SizesAddUpToN) {
  EXPECT_EQ(shard_size(10, {0, 3}), 4U);
  EXPECT_EQ(shard_size(10, {1, 3}), 3U);
  EXPECT_EQ(shard_size(10, {2, 3}), 3U);
  EXPECT_EQ(shard_size(2, {2, 3}), 0U);
  EXPECT_EQ(shard_size(10, {3, 3}), 0U);  // invalid shard
  EXPECT_EQ(shard_size(10, {0, 0}), 0U);
  EXPECT_EQ(shard_size(~0ULL, {0, 1}), ~0ULL);
}

TEST(Shard, UnionOfShardsIsEverythingWithoutOverlap) {
  constexpr uint64_t kN = 1000;
  Permutation perm(kN, 0xfeed);
  for (uint64_t count : {1ULL, 2ULL, 3ULL, 7ULL}) {
    std::vector<int> hits(kN, 0);
    uint64_t total = 0;
    for (uint64_t index = 0; index < count; ++index) {
      Shard s{index, count};
      ShardRange range(kN, s);
      EXPECT_EQ(range.size(), shard_size(kN, s));
      for (uint64_t i : range) {
        ASSERT_EQ(i % count, index);
        ASSERT_EQ(shard_nth(s, shard_position(s, i)), i);
        ++hits[perm.shuffle(i)];
        ++total;
      }
    }
    EXPECT_EQ(total, kN);
    for (uint64_t x = 0; x < kN; ++x) {
      ASSERT_EQ(hits[x], 1) << "count=" << count << " x=" << x;
    }
  }
}

TEST(Shard, RangeResumesFromPosition) {
  Shard s{1, 3};
  std::vector<uint64_t> got;
  for (uint64_t i : ShardRange(20, s, 4)) {
    got.push_back(i);
  }
  EXPECT_EQ(got, (std::vector<uint64_t>{13, 16, 19}));
  EXPECT_EQ(ShardRange(20, s, 100).size(), 0U);
}

TEST(Shard, HugeNDoesNotOverflow) {
  Shard s{5, 7};
  uint64_t n = ~0ULL;
  uint64_t size = shard_size(n, s);
  uint64_t last = shard_nth(s, size - 1);
  EXPECT_LT(last, n);
  EXPECT_GT(last, n - 8);
}

}  // namespace
}  // namespace linerate::scan
