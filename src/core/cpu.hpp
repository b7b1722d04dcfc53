// core/cpu.hpp — whole-system CPU load from /proc/stat.
//
// Each sample() returns the busy share of all CPUs since the previous sample, the
// figure btest puts in its status byte (spec §12.2). A CpuSampler is one owner's
// window (not thread-safe); system_cpu_percent() is one window for the process.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace linerate::core {

struct CpuTimes {
  uint64_t busy = 0;
  uint64_t total = 0;
};

/// Parse the aggregate "cpu " line of /proc/stat text; nullopt when malformed.
[[nodiscard]] std::optional<CpuTimes> parse_proc_stat(std::string_view text);

class CpuSampler {
 public:
  CpuSampler();
  /// Percent busy (0..100) since the last call (or construction).
  [[nodiscard]] unsigned sample();

 private:
  CpuTimes last_{};
};

/// Whole-system busy percent over the latest window of about a second, shared by
/// every caller in the process: /proc/stat is read at most once per 900 ms however
/// many tests tick (500 concurrent tests used to cost 500 reads a second, and two
/// per login). The first call only takes the baseline and returns 0, so call it
/// once at start-up. Thread-safe.
[[nodiscard]] unsigned system_cpu_percent();

}  // namespace linerate::core
