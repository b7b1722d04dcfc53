// tests/fuzz/fuzz_check.hpp — property checks inside fuzz targets.
//
// A violated property must stop the run exactly like a crash, under libFuzzer and
// under the replay main alike, and in every build type (so no assert()).
#pragma once

#include <cstdio>
#include <cstdlib>

#define LR_FUZZ_CHECK(cond)                                                                  \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)
