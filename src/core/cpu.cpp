// core/cpu.cpp — see cpu.hpp.
#include "core/cpu.hpp"

#include <charconv>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

namespace linerate::core {

std::optional<CpuTimes> parse_proc_stat(std::string_view text) {
  if (text.substr(0, 4) != "cpu ") {
    return std::nullopt;
  }
  auto eol = text.find('\n');
  std::string_view line = text.substr(4, eol == std::string_view::npos ? text.size() - 4 : eol - 4);
  // Fields: user nice system idle iowait irq softirq steal guest guest_nice.
  uint64_t f[10] = {};
  int n = 0;
  std::size_t i = 0;
  while (i < line.size() && n < 10) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    if (i >= line.size()) {
      break;
    }
    auto [p, ec] = std::from_chars(line.data() + i, line.data() + line.size(), f[n]);
    if (ec != std::errc()) {
      return std::nullopt;
    }
    i = static_cast<std::size_t>(p - line.data());
    ++n;
  }
  if (n < 4) {
    return std::nullopt;
  }
  // guest time is already inside user/nice: count only the first 8 fields. A sum
  // that overflows is not a real /proc/stat; rejecting it keeps busy <= total.
  uint64_t total = 0;
  for (int k = 0; k < n && k < 8; ++k) {
    if (__builtin_add_overflow(total, f[k], &total)) {
      return std::nullopt;
    }
  }
  uint64_t idle = f[3] + (n > 4 ? f[4] : 0);
  return CpuTimes{total - idle, total};
}

namespace {
CpuTimes read_now() {
  std::ifstream in("/proc/stat");
  std::string line;
  std::getline(in, line);
  return parse_proc_stat(line).value_or(CpuTimes{});
}
}  // namespace

CpuSampler::CpuSampler() : last_(read_now()) {}

unsigned CpuSampler::sample() {
  CpuTimes now = read_now();
  CpuTimes prev = last_;
  last_ = now;
  if (now.total <= prev.total || now.busy < prev.busy) {
    return 0;
  }
  uint64_t dt = now.total - prev.total;
  uint64_t db = now.busy - prev.busy;
  uint64_t pct = (db * 100 + dt / 2) / dt;
  return static_cast<unsigned>(pct > 100 ? 100 : pct);
}

unsigned system_cpu_percent() {
  using Clock = std::chrono::steady_clock;
  static std::mutex mu;
  static std::optional<CpuSampler> sampler;
  static Clock::time_point last_read;
  static unsigned last_percent = 0;
  std::lock_guard lock(mu);
  const auto now = Clock::now();
  if (!sampler) {
    sampler.emplace();
    last_read = now;
    return 0;
  }
  if (now - last_read >= std::chrono::milliseconds(900)) {
    last_percent = sampler->sample();
    last_read = now;
  }
  return last_percent;
}

}  // namespace linerate::core
