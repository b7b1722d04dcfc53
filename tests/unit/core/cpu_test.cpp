// Unit tests for core/cpu: /proc/stat parsing and the live sampler's range.
#include "core/cpu.hpp"

#include <cstdint>
#include <string_view>

#include <gtest/gtest.h>

namespace linerate::core {
namespace {

// A real Linux 6.x /proc/stat head: user nice system idle iowait irq softirq steal guest guest_nice.
constexpr std::string_view kSample =
    "cpu  4705 356 584 3699176 23060 0 277 10 20 30\n"
    "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n"
    "intr 114930548 113199788 3 0 5 263 0 4 [...]\n";

TEST(ProcStat, ParsesAggregateLine) {
  auto t = parse_proc_stat(kSample);
  ASSERT_TRUE(t.has_value());
  // total = first 8 fields (guest is already in user/nice); idle = idle + iowait.
  uint64_t total = 4705 + 356 + 584 + 3699176 + 23060 + 0 + 277 + 10;
  uint64_t idle = 3699176 + 23060;
  EXPECT_EQ(t->total, total);
  EXPECT_EQ(t->busy, total - idle);
}

TEST(ProcStat, AcceptsFourFieldKernels) {
  auto t = parse_proc_stat("cpu 10 20 30 40");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->total, 100U);
  EXPECT_EQ(t->busy, 60U);
}

TEST(ProcStat, IgnoresFieldsPastTen) {
  auto t = parse_proc_stat("cpu 1 1 1 1 1 1 1 1 1 1 999 999\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->total, 8U);
  EXPECT_EQ(t->busy, 6U);
}

TEST(ProcStat, RejectsMalformedText) {
  for (std::string_view bad :
       {"", "cpu", "cpu ", "cpu0 1 2 3 4\n", "intr 1 2 3 4", "cpu 1 2 3\n", "cpu 1 2 x 4\n", "cpu 1 2 3 4x\n",
        "cpu -1 2 3 4", "cpu 99999999999999999999 1 1 1", " cpu 1 2 3 4", "CPU 1 2 3 4"}) {
    EXPECT_FALSE(parse_proc_stat(bad).has_value()) << "accepted '" << bad << "'";
  }
}

TEST(ProcStat, RejectsCountersWhoseSumOverflows) {
  EXPECT_FALSE(parse_proc_stat("cpu 18446744073709551615 1 0 0\n").has_value());
  EXPECT_FALSE(parse_proc_stat("cpu 1 1 1 18446744073709551615 1\n").has_value());
  auto max = parse_proc_stat("cpu 18446744073709551614 0 0 1\n");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->total, UINT64_MAX);
  EXPECT_EQ(max->busy, UINT64_MAX - 1);
}

TEST(ProcStat, OnlyTheFirstLineCounts) {
  auto t = parse_proc_stat("cpu 1 2 3\ncpu 4 5 6 7\n");
  EXPECT_FALSE(t.has_value());
}

TEST(CpuSampler, ReturnsPercentInRange) {
  CpuSampler sampler;
  for (int i = 0; i < 3; ++i) {
    // Burn a little CPU so at least one jiffy may pass; bounded by count, not time.
    volatile uint64_t sink = 0;
    for (uint64_t k = 0; k < 2'000'000; ++k) {
      sink = sink + k;
    }
    unsigned pct = sampler.sample();
    EXPECT_LE(pct, 100U);
  }
}

}  // namespace
}  // namespace linerate::core
