// tests/fuzz/fuzz_check.hpp — property checks inside fuzz targets.
//
// A violated property must stop the run exactly like a crash, under libFuzzer and
// under the replay main alike, and in every build type (so no assert()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#define LR_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace linerate::fuzz {

/// argv for command-line fuzz targets: NUL-separated arguments, at most `max`.
inline std::vector<std::string> nul_separated_args(const uint8_t* data, size_t size, size_t max = 32) {
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size && args.size() < max; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  if (!cur.empty() && args.size() < max) {
    args.push_back(cur);
  }
  return args;
}

}  // namespace linerate::fuzz
