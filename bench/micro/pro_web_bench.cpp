// bench/micro/pro_web_bench.cpp — the btest-pro dashboard's per-request work:
// routing and parameter checks, the server-side SVG chart of one session (a
// one-minute and a one-hour test), and the /metrics text. None of this is on
// the data path; the numbers say what one request costs the HTTP threads.
#include <benchmark/benchmark.h>

#include <array>
#include <chrono>
#include <memory>
#include <string_view>
#include <vector>

#include "btest/pro/monitor.hpp"
#include "btest/pro/web/chart.hpp"
#include "btest/pro/web/request.hpp"

namespace {

using namespace linerate::btest::pro;

void BM_WebRoute_Mix(benchmark::State& state) {
  constexpr std::array<std::string_view, 6> kPaths = {
      "/api/v1/ip/192.0.2.17/sessions",    "/api/v1/ip/2001:db8::5/quota",
      "/api/v1/sessions/123456/chart.svg", "/metrics",
      "/api/v1/ip/1' OR 1=1/sessions",     "/static/app.js"};
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = web::route("GET", kPaths[i++ % kPaths.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_WebRoute_Mix);

void BM_WebChart_Svg(benchmark::State& state) {
  SessionRow s;
  s.id = 1;
  s.proto = "udp";
  s.direction = "both";
  std::vector<IntervalRow> rows;
  for (int64_t i = 0; i < state.range(0); ++i) {
    IntervalRow r;
    r.second = static_cast<uint32_t>(i);
    r.bytes_in = 100'000'000 + static_cast<uint64_t>(i) * 1000;
    r.bytes_out = 90'000'000;
    r.lost = static_cast<uint64_t>(i % 7);
    rows.push_back(r);
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto svg = web::svg_chart(s, rows);
    bytes = svg.size();
    benchmark::DoNotOptimize(svg);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["svg_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_WebChart_Svg)->Arg(60)->Arg(3600)->Unit(benchmark::kMicrosecond);

void BM_Monitor_PrometheusText(benchmark::State& state) {
  Monitor m;
  for (const char* r : {"auth_failed", "ip_limit", "quota_daily_ip", "quota_monthly_user_out", "max_sessions"}) {
    m.rejection(r);
  }
  std::vector<std::shared_ptr<LiveTest>> live;
  for (int i = 0; i < 100; ++i) {
    live.push_back(std::make_shared<LiveTest>());
    m.test_started(live.back());
  }
  m.flush(std::chrono::milliseconds(3), true, 1);
  for (auto _ : state) {
    auto text = m.prometheus_text();
    benchmark::DoNotOptimize(text);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Monitor_PrometheusText);

}  // namespace
