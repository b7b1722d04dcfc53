// core/check.hpp — the three check levels of STYLE.md §3.
// LR_ASSERT: debug-only invariant. LR_CHECK: always on, aborts with a message; only
// for "cannot happen after start-up". Never use either on untrusted input.
#pragma once

#include <cstdio>
#include <cstdlib>

#define LR_CHECK(cond)                                                                         \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "linerate: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

#ifdef NDEBUG
#define LR_ASSERT(cond) ((void)0)
#else
#define LR_ASSERT(cond) LR_CHECK(cond)
#endif
