// core/text.hpp — make untrusted text safe to echo in a one-line message or in markup.
#pragma once

#include <string>
#include <string_view>

namespace linerate::core {

/// Replace control characters (newline, tab, NUL, ...) with C escapes so an
/// error message that quotes user input always stays on one line.
[[nodiscard]] inline std::string one_line(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

/// `token` in single quotes for a one-line message: control characters escaped
/// (one_line) and cut to `max_chars` with "..." so hostile input stays short.
[[nodiscard]] inline std::string quoted(std::string_view token, std::size_t max_chars = 64) {
  std::string out = "'";
  out += one_line(token.substr(0, max_chars));
  if (token.size() > max_chars) {
    out += "...";
  }
  out += "'";
  return out;
}

/// Text made safe inside HTML or XML elements and quoted attributes: & < > " '
/// become entities (&#39; for the quote, valid in both). Bytes pass through
/// otherwise; callers that need valid UTF-8 or no control characters check
/// those themselves.
[[nodiscard]] inline std::string markup_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace linerate::core
