// tests/fuzz/units_fuzz.cpp — parse_bandwidth and parse_duration_ms on arbitrary text.
//
// Properties: an error is one line (when the input is) and quotes the input; a
// plain decimal re-parses to itself; formatting any parsed value works.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/units.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace linerate::core;

void check_error(const Error& e, std::string_view text) {
  std::string msg = e.message();
  LR_FUZZ_CHECK(!msg.empty());
  if (text.find_first_of("\r\n") == std::string_view::npos) {
    LR_FUZZ_CHECK(msg.find_first_of("\r\n") == std::string::npos);
  }
  LR_FUZZ_CHECK(msg.find("'" + std::string(text) + "'") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto bw = parse_bandwidth(text);
  if (bw) {
    auto again = parse_bandwidth(std::to_string(*bw));
    LR_FUZZ_CHECK(again && *again == *bw);
    LR_FUZZ_CHECK(!format_rate(static_cast<double>(*bw)).empty());
    LR_FUZZ_CHECK(!format_bytes(*bw).empty());
  } else {
    check_error(bw.error(), text);
  }

  auto ms = parse_duration_ms(text);
  if (ms) {
    auto again = parse_duration_ms(std::to_string(*ms) + "ms");
    LR_FUZZ_CHECK(again && *again == *ms);
  } else {
    check_error(ms.error(), text);
  }
  return 0;
}
