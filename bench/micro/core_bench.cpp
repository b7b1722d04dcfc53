// bench/micro/core_bench.cpp — micro-benchmarks for the core module and for the
// per-read byte accounting of the data path.
//
//  * Accounting: every recv()/send() in btest/tcp_transfer.cpp adds the byte count
//    to a per-connection counter that only that thread writes and the owner reads
//    once a second. It is a relaxed load + relaxed store (two plain movs on x86),
//    not a fetch_add (a locked read-modify-write). Both are measured side by side
//    so the choice stays justified by a number.
//  * Pacer: one next_deadline() per paced write (spec §13.1).
//  * Units: control plane (CLI, CSV, status lines); measured so a regression to
//    something silly (locale, iostreams) shows up.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <benchmark/benchmark.h>

#include "core/pacer.hpp"
#include "core/units.hpp"

namespace {

constexpr uint64_t kReadBytes = 256 * 1024;

// ---- Accounting ----------------------------------------------------------------

void BM_Accounting_RelaxedCounter(benchmark::State& state) {
  alignas(64) std::atomic<uint64_t> counter{0};
  uint64_t n = kReadBytes;
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);  // the byte count comes from recv(): unknown
    counter.store(counter.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  uint64_t total = counter.load(std::memory_order_relaxed);
  benchmark::DoNotOptimize(total);
  if (total != static_cast<uint64_t>(state.iterations()) * kReadBytes) {
    state.SkipWithError("relaxed counter lost updates");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Accounting_RelaxedCounter);

void BM_Accounting_AtomicFetchAdd(benchmark::State& state) {
  alignas(64) std::atomic<uint64_t> counter{0};
  uint64_t n = kReadBytes;
  for (auto _ : state) {
    benchmark::DoNotOptimize(n);
    counter.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t total = counter.load(std::memory_order_relaxed);
  benchmark::DoNotOptimize(total);
  if (total != static_cast<uint64_t>(state.iterations()) * kReadBytes) {
    state.SkipWithError("fetch_add counter lost updates");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Accounting_AtomicFetchAdd);

// ---- Pacer ---------------------------------------------------------------------

void BM_Pacer_NextDeadline(benchmark::State& state) {
  // 100 Mbit/s with 256 KiB grants: the sender asks once per write, on time, so
  // the steady-state path (no re-anchor) is what is timed.
  linerate::core::Pacer pacer(100'000'000, kReadBytes);
  const uint64_t step_ns = pacer.interval_ns();
  uint64_t now_ns = 1'000'000'000;
  for (auto _ : state) {
    benchmark::DoNotOptimize(now_ns);
    uint64_t due_ns = pacer.next_deadline(now_ns);
    benchmark::DoNotOptimize(due_ns);
    now_ns += step_ns;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Pacer_NextDeadline);

// ---- Units ---------------------------------------------------------------------

void BM_Units_ParseBandwidth(benchmark::State& state) {
  constexpr std::array<std::string_view, 7> kInputs{"500K", "100M", "1.5G", "2T", "100Mbps", "1000", "0"};
  for (std::string_view in : kInputs) {
    if (!linerate::core::parse_bandwidth(in)) {
      state.SkipWithError("fixture bandwidth does not parse");
      return;
    }
  }
  std::size_t i = 0;
  for (auto _ : state) {
    std::string_view text = kInputs[i];
    benchmark::DoNotOptimize(text);
    auto bps = linerate::core::parse_bandwidth(text);
    benchmark::DoNotOptimize(bps);
    i = (i + 1 == kInputs.size()) ? 0 : i + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Units_ParseBandwidth);

void BM_Units_FormatRate(benchmark::State& state) {
  constexpr std::array<double, 5> kRates{512.0, 285.47e6, 9.41e9, 1.5e12, 64'000.0};
  std::size_t i = 0;
  for (auto _ : state) {
    double bps = kRates[i];
    benchmark::DoNotOptimize(bps);
    std::string text = linerate::core::format_rate(bps);
    benchmark::DoNotOptimize(text);
    i = (i + 1 == kRates.size()) ? 0 : i + 1;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Units_FormatRate);

}  // namespace
