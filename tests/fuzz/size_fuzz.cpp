// tests/fuzz/size_fuzz.cpp — btest-pro's parse_size (SIZE: 500M, 2G, 1.5T, bytes)
// on arbitrary text.
//
// Properties: an error is one line (when the input is) and quotes the input; a
// parsed value is at most 2^63-1; format_size re-parses to the same value, and so
// does the plain decimal.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "btest/pro/limits.hpp"
#include "core/text.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linerate::btest::pro;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = parse_size(text);
  if (v) {
    LR_FUZZ_CHECK(*v <= kMaxSize);
    auto again = parse_size(format_size(*v));
    LR_FUZZ_CHECK(again && *again == *v);
    auto plain = parse_size(std::to_string(*v));
    LR_FUZZ_CHECK(plain && *plain == *v);
  } else {
    std::string msg = v.error().message();
    LR_FUZZ_CHECK(!msg.empty());
    LR_FUZZ_CHECK(msg.find_first_of("\r\n") == std::string::npos);
    LR_FUZZ_CHECK(msg.find("'" + linerate::core::one_line(text) + "'") != std::string::npos);
  }
  return 0;
}
