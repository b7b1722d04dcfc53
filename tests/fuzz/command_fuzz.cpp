// tests/fuzz/command_fuzz.cpp — the btest wire decoders on arbitrary bytes.
//
// The input, zero-padded to 48 bytes, goes through decode_command (§3),
// decode_reply (§4), decode_md5_response (§5) and decode_status (§12), each on its
// prefix. Besides "no crash", each decoder must accept exactly what the spec allows
// and re-encode what it accepted to the same bytes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "btest/protocol.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace linerate::btest;

uint8_t u8(std::byte b) { return static_cast<uint8_t>(b); }

void check_command(const std::array<std::byte, 48>& in) {
  std::span<const std::byte, 16> w(in.data(), 16);
  auto c = decode_command(w);
  bool valid = u8(w[0]) <= 1 && u8(w[1]) >= 1 && u8(w[1]) <= 3;
  LR_FUZZ_CHECK(c.has_value() == valid);
  if (!c) {
    std::string msg = c.error().message();
    LR_FUZZ_CHECK(!msg.empty());
    LR_FUZZ_CHECK(msg.find('\n') == std::string::npos);
    LR_FUZZ_CHECK(msg.find("byte ") != std::string::npos);
    return;
  }
  Bytes16 again = encode_command(*c);
  for (std::size_t i = 0; i < 16; ++i) {
    // Byte 2: 00 is random, anything else means zeros and re-encodes as 01.
    std::byte want = i == 2 ? std::byte{u8(w[2]) == 0 ? uint8_t{0} : uint8_t{1}} : w[i];
    LR_FUZZ_CHECK(again[i] == want);
  }
  LR_FUZZ_CHECK(c->connections() >= 1 && c->connections() <= 255);
  LR_FUZZ_CHECK(!direction_name(c->direction).empty());
}

void check_reply(const std::array<std::byte, 48>& in) {
  std::span<const std::byte, 4> w(in.data(), 4);
  Reply r = decode_reply(w);
  bool zero_mid = u8(w[1]) == 0 && u8(w[2]) == 0;
  switch (r.kind) {
    case ReplyKind::kOk: {
      Bytes4 ok = encode_ok(r.token);
      LR_FUZZ_CHECK(std::equal(ok.begin(), ok.end(), w.begin()));
      break;
    }
    case ReplyKind::kMd5:
      LR_FUZZ_CHECK(std::equal(kReplyMd5.begin(), kReplyMd5.end(), w.begin()));
      break;
    case ReplyKind::kEcSrp5:
      LR_FUZZ_CHECK(std::equal(kReplyEcSrp5.begin(), kReplyEcSrp5.end(), w.begin()));
      break;
    case ReplyKind::kAuthFailed:
      LR_FUZZ_CHECK(std::equal(kReplyAuthFailed.begin(), kReplyAuthFailed.end(), w.begin()));
      break;
    case ReplyKind::kUnknown:
      LR_FUZZ_CHECK(r.token == 0);
      LR_FUZZ_CHECK(u8(w[3]) != 0 || u8(w[0]) > 3 || (u8(w[0]) != 1 && !zero_mid));
      break;
  }
}

void check_md5_response(const std::array<std::byte, 48>& in) {
  std::span<const std::byte, 48> w(in.data(), 48);
  Md5Response r = decode_md5_response(w);
  LR_FUZZ_CHECK(std::equal(r.hash.begin(), r.hash.end(), w.begin()));
  LR_FUZZ_CHECK(r.user.size() <= 32);
  LR_FUZZ_CHECK(r.user.find('\0') == std::string::npos);
  LR_FUZZ_CHECK(std::memcmp(r.user.data(), w.data() + 16, r.user.size()) == 0);
  LR_FUZZ_CHECK(r.user.size() == 32 || u8(w[16 + r.user.size()]) == 0);
  // Use the hash as its own challenge: valid only if it is the right MD5 for password "".
  std::span<const std::byte, 16> challenge(w.data(), 16);
  Bytes16 want = md5_auth_hash("", challenge);
  bool valid = md5_response_valid(r, r.user, "", challenge);
  LR_FUZZ_CHECK(valid == std::equal(want.begin(), want.end(), r.hash.begin()));
  LR_FUZZ_CHECK(!md5_response_valid(r, r.user + "x", "", challenge) || r.user.size() == 32);
}

void check_status(const std::array<std::byte, 48>& in) {
  std::span<const std::byte, 12> w(in.data(), 12);
  auto s = decode_status(w);
  LR_FUZZ_CHECK(s.has_value() == (w[0] == kStatusType));
  if (!s) {
    LR_FUZZ_CHECK(s.error().message().find('\n') == std::string::npos);
    return;
  }
  LR_FUZZ_CHECK(s->cpu_percent.has_value() == ((u8(w[1]) & 0x80) != 0));
  if (s->cpu_percent) {
    LR_FUZZ_CHECK(*s->cpu_percent <= 100);
  }
  bool canonical = u8(w[1]) >= 0x80 && u8(w[1]) <= 0x80 + 100 && u8(w[2]) == 0 && u8(w[3]) == 0;
  if (canonical) {
    Bytes12 again = encode_status(s->seq, *s->cpu_percent, s->bytes);
    LR_FUZZ_CHECK(std::equal(again.begin(), again.end(), w.begin()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::array<std::byte, 48> in{};
  std::memcpy(in.data(), data, std::min(size, in.size()));
  check_command(in);
  check_reply(in);
  check_md5_response(in);
  check_status(in);
  std::string text = hex(std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size));
  LR_FUZZ_CHECK(text.size() == (size == 0 ? 0 : 3 * size - 1));
  return 0;
}
