// tests/fuzz/proc_stat_fuzz.cpp — parse_proc_stat on arbitrary text.
//
// Properties: only text starting "cpu " is accepted, and busy never exceeds total.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cpu.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto t = linerate::core::parse_proc_stat(text);
  if (t) {
    LR_FUZZ_CHECK(text.substr(0, 4) == "cpu ");
    LR_FUZZ_CHECK(t->busy <= t->total);
  }
  return 0;
}
