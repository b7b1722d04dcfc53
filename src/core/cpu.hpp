// core/cpu.hpp — whole-system CPU load from /proc/stat.
//
// Each sample() returns the busy share of all CPUs since the previous sample, the
// figure btest puts in its status byte (spec §12.2). Not thread-safe: one sampler
// per owner.
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

}  // namespace linerate::core
