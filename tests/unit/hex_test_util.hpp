// tests/unit/hex_test_util.hpp — hex text to bytes for the spec's test vectors.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::testing {

/// "01 02 ff" or "0102ff" -> bytes; spaces are ignored, a bad digit fails the test.
inline std::vector<std::byte> from_hex(std::string_view text) {
  auto nibble = [](char c) -> unsigned {
    if (c >= '0' && c <= '9') {
      return static_cast<unsigned>(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
      return static_cast<unsigned>(c - 'a' + 10);
    }
    ADD_FAILURE() << "bad hex digit '" << c << "'";
    return 0;
  };
  std::vector<std::byte> out;
  std::string digits;
  for (char c : text) {
    if (c != ' ') {
      digits += c;
    }
  }
  EXPECT_EQ(digits.size() % 2, 0U) << text;
  for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
    out.push_back(static_cast<std::byte>((nibble(digits[i]) << 4) | nibble(digits[i + 1])));
  }
  return out;
}

/// Exactly N bytes from hex text (the test fails on another length).
template <std::size_t N>
std::array<std::byte, N> fixed(std::string_view text) {
  std::vector<std::byte> v = from_hex(text);
  std::array<std::byte, N> out{};
  EXPECT_EQ(v.size(), N) << text;
  for (std::size_t i = 0; i < N && i < v.size(); ++i) {
    out[i] = v[i];
  }
  return out;
}

}  // namespace linerate::testing
