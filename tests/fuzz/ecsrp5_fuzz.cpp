// tests/fuzz/ecsrp5_fuzz.cpp — EC-SRP5 handshakes (spec §6) on arbitrary peer messages.
//
// Input: one selector byte, then wire frames [len][payload] as the peer would send
// them (a truncated last frame is cut to what is there):
//   selector bit 0   0 = we are the server: frame 1 is MSG1, frame 2 is MSG3
//                    1 = we are the client: frame 1 is MSG2, frame 2 is MSG4
//   bits 1-2         which §19.3 vector provides keys, user, password, verifier (mod 3)
//   bit 3            server only: the user is unknown (fake verifier, §6.9)
//   bit 4            instead, parse the rest as verifier text
//   bit 5            server only: the production (X25519) path, s_b in X25519 form
// Properties besides "no crash": errors are one non-empty line; a server only
// accepts the vector's own MSG1 key and MSG3 (and then answers its MSG4; on the
// X25519 path, the MSG3 our client computes for that server's MSG2); a client
// only accepts the vector's MSG2 and MSG4; an unknown user never authenticates;
// verifier text that parses re-renders to an equal verifier.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "btest/ecsrp5.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace linerate::btest::ecsrp5;

std::vector<std::byte> hex(std::string_view text) {
  auto nibble = [](char c) { return static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10); };
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    out.push_back(static_cast<std::byte>((nibble(text[i]) << 4) | nibble(text[i + 1])));
  }
  return out;
}

template <std::size_t N>
std::array<std::byte, N> fixed(std::string_view text) {
  std::vector<std::byte> v = hex(text);
  std::array<std::byte, N> out{};
  std::copy_n(v.begin(), std::min(N, v.size()), out.begin());
  return out;
}

// §19.3 vectors A, B, C: payloads without the length byte.
struct Vector {
  const char* user;
  const char* password;
  const char* s_a;
  const char* s_b;
  const char* salt;
  const char* x_gamma;
  uint8_t gamma_parity;
  const char* msg1;
  const char* msg2;
  const char* msg3;
  const char* msg4;
};
const Vector kVectors[3] = {
    {"testuser", "testpass", "1111111111111111111111111111111111111111111111111111111111111111",
     "2222222222222222222222222222222222222222222222222222222222222222", "0102030405060708090a0b0c0d0e0f10",
     "080885102a83c7f1a3af18ae5d0ecf1c2c8dec6734415287dcc27b43936e54bb", 1,
     "746573747573657200449a67c32946bedc19e79926c333ba1ea20051cdb970eef49f0a8a058006155301",
     "57127b26abba0816e3e0454ce800be2bc4517ecbd99c65696b7b1cb77697549f010102030405060708090a0b0c0d0e0f10",
     "60d77158bcb6164d64b77602fc238fa90a8c98c9c1a2c1a8771455dc4d2f478e",
     "0a1f98fb7b1abe00acdbb934475bc1208451f189aac6db0482964417c8e1190b"},
    {"admin", "", "3333333333333333333333333333333333333333333333333333333333333333",
     "4444444444444444444444444444444444444444444444444444444444444444", "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
     "67159fd5bee393e81d9cccd50719b129190f3f6a44d9765d73076de09d1aa1ba", 0,
     "61646d696e00681f807336774c935c5f62ad6a747df74026d9f5aed38f5aeac94d34990e49a201",
     "2ab945f6e75af6506f21cb7e15f5da6d94f3249582b0be6cc00504439ca5fdc201a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
     "b7edf8e909e9e7c254e6c5a1a48c12c62f6669b94e37eda6d5461b8851689346",
     "669d2f35fe1b5653b1f8cc43555e7803b526b27ab6fe30d7721b9dd80d8c9049"},
    {"btest", "btest", "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
     "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0", "00112233445566778899aabbccddee00",
     "4202c89dc687f1800488a08c3f5d00078d3041caece8425549f80ace3e4839bb", 0,
     "6274657374006d9acaf93958d3a9502e83ab51e80d3960e9af6def6946ac5b2b00cb107c69aa00",
     "6da92964e593f40f9b5d4eff186c4ff573a8b2d3db6af3e674356933bccea1d70000112233445566778899aabbccddee00",
     "42566a906479d12c681c074bb567d1856d23ab47b6e15ee28069222be163b2c7",
     "87e2420ce630c507d149058d89cece40258dd9ea35913d781cad3697c29b52df"},
};

const std::array<std::byte, 8> kSecret{std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4},
                                       std::byte{5}, std::byte{6}, std::byte{7}, std::byte{8}};

// Next frame from `in`; a short last frame yields what is there.
std::span<const std::byte> next_frame(std::span<const std::byte>& in) {
  if (in.empty()) {
    return {};
  }
  if (auto f = parse_frame(in)) {
    in = in.subspan(f->size_bytes);
    return f->payload;
  }
  std::span<const std::byte> rest = in.subspan(1);
  in = {};
  return rest;
}

bool same(std::span<const std::byte> a, const std::vector<std::byte>& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

void check_error(const linerate::core::Error& e) {
  std::string msg = e.message();
  LR_FUZZ_CHECK(!msg.empty());
  LR_FUZZ_CHECK(msg.find('\n') == std::string::npos);
}

ServerHandshake make_server(const Vector& v, bool x25519) {
  return x25519 ? ServerHandshake::create_x25519_for_test(kSecret, fixed<32>(v.s_b))
                : ServerHandshake::create(kSecret, fixed<32>(v.s_b));
}

// The vector client's MSG3 payload against the X25519-path server (deterministic).
std::vector<std::byte> x25519_path_msg3(const Vector& v) {
  ServerHandshake s = make_server(v, true);
  auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  LR_FUZZ_CHECK(c.has_value() && s.on_msg1(hex(v.msg1)).has_value());
  auto msg2 = s.msg2(Verifier{fixed<16>(v.salt), fixed<32>(v.x_gamma), v.gamma_parity});
  LR_FUZZ_CHECK(msg2.has_value());
  auto msg3 = c->on_msg2(std::span<const std::byte>(*msg2).subspan(1));
  LR_FUZZ_CHECK(msg3.has_value());
  return {msg3->begin() + 1, msg3->end()};
}

void run_server(const Vector& v, bool unknown, bool x25519, std::span<const std::byte> in) {
  std::span<const std::byte> msg1 = next_frame(in);
  std::span<const std::byte> msg3 = next_frame(in);
  ServerHandshake s = make_server(v, x25519);
  auto user = s.on_msg1(msg1);
  if (!user) {
    check_error(user.error());
    LR_FUZZ_CHECK(!s.on_msg3(msg3).has_value());
    return;
  }
  // The name is the bytes before the first NUL, and 33 bytes follow it.
  LR_FUZZ_CHECK(user->size() + 34 == msg1.size());
  LR_FUZZ_CHECK(user->size() <= kMaxUserLen);
  LR_FUZZ_CHECK(user->find('\0') == std::string::npos);
  LR_FUZZ_CHECK(msg1[user->size()] == std::byte{0});
  std::optional<Verifier> ver;
  if (!unknown) {
    ver = Verifier{fixed<16>(v.salt), fixed<32>(v.x_gamma), v.gamma_parity};
  }
  auto msg2 = s.msg2(ver);
  LR_FUZZ_CHECK(msg2.has_value());  // a valid MSG1 always gets an answer
  LR_FUZZ_CHECK(msg2->size() == 1 + kMsg2Len && (*msg2)[0] == std::byte{kMsg2Len});
  auto msg4 = s.on_msg3(msg3);
  if (!msg4) {
    check_error(msg4.error());
    return;
  }
  // Only the vector's client key and proof can pass.
  std::vector<std::byte> want1 = hex(v.msg1);
  LR_FUZZ_CHECK(!unknown);
  LR_FUZZ_CHECK(std::equal(msg1.end() - 33, msg1.end(), want1.end() - 33));
  LR_FUZZ_CHECK(msg4->size() == 1 + kConfirmLen && (*msg4)[0] == std::byte{kConfirmLen});
  if (x25519) {
    LR_FUZZ_CHECK(same(msg3, x25519_path_msg3(v)));
    return;
  }
  LR_FUZZ_CHECK(same(msg3, hex(v.msg3)));
  std::vector<std::byte> want4 = hex(v.msg4);
  LR_FUZZ_CHECK(std::equal(msg4->begin() + 1, msg4->end(), want4.begin()));
}

void run_client(const Vector& v, std::span<const std::byte> in) {
  std::span<const std::byte> msg2 = next_frame(in);
  std::span<const std::byte> msg4 = next_frame(in);
  auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  LR_FUZZ_CHECK(c.has_value());
  auto msg3 = c->on_msg2(msg2);
  if (!msg3) {
    check_error(msg3.error());
    LR_FUZZ_CHECK(!c->on_msg4(msg4).has_value());
    return;
  }
  LR_FUZZ_CHECK(msg2.size() == kMsg2Len);
  LR_FUZZ_CHECK(msg3->size() == 1 + kConfirmLen && (*msg3)[0] == std::byte{kConfirmLen});
  auto ok = c->on_msg4(msg4);
  if (!ok) {
    check_error(ok.error());
    return;
  }
  LR_FUZZ_CHECK(same(msg2, hex(v.msg2)));
  LR_FUZZ_CHECK(same(msg4, hex(v.msg4)));
}

void run_text(std::span<const std::byte> in) {
  std::string_view text(reinterpret_cast<const char*>(in.data()), in.size());
  auto v = verifier_from_text(text);
  if (!v) {
    check_error(v.error());
    return;
  }
  LR_FUZZ_CHECK(v->gamma_parity <= 1);
  auto again = verifier_from_text(to_text(*v));
  LR_FUZZ_CHECK(again.has_value() && *again == *v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) {
    return 0;
  }
  const unsigned sel = data[0];
  std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data) + 1, size - 1);
  const Vector& v = kVectors[((sel >> 1) & 3) % 3];
  if ((sel & 0x10) != 0) {
    run_text(rest);
  } else if ((sel & 1) == 0) {
    run_server(v, (sel & 0x08) != 0, (sel & 0x20) != 0, rest);
  } else {
    run_client(v, rest);
  }
  return 0;
}
