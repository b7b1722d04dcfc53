// bench/micro/ecsrp5_bench.cpp — cost of one EC-SRP5 login (spec §6).
//
// Control plane, but the issue sets a budget: ≥ 1000 logins/s on the 2-core VM, so
// the server's share of one login must stay well under 1 ms of CPU.
//  * ServerHandshake: on_msg1 + msg2 + on_msg3 for one login on the production path
//    (lift_x of W_a and Gamma, redp1, s_b·G and s_b·T by X25519, j·Gamma by wNAF),
//    vector A's user, verifier and client key. ServerHandshakeGeneric: the same on
//    the spec path (every multiplication by EC_POINT_mul), vector A byte for byte.
//  * ClientHandshake: start + on_msg2 + on_msg4 (s_a·G, i·G, redp1, lift_x, k·B).
//  * DeriveVerifier: what a server pays per user at start-up or on a password change.
// Fixed keys (vector A) make every iteration identical; each benchmark checks once,
// outside the timed loop, that the login really succeeds.
#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "btest/ecsrp5.hpp"

namespace {

namespace ec = linerate::btest::ecsrp5;

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
  for (std::size_t i = 0; i < N && i < v.size(); ++i) {
    out[i] = v[i];
  }
  return out;
}

// §19.3 vector A (payloads, no length byte).
constexpr std::string_view kUser = "testuser";
constexpr std::string_view kPassword = "testpass";
const auto kSa = fixed<32>("1111111111111111111111111111111111111111111111111111111111111111");
const auto kSb = fixed<32>("2222222222222222222222222222222222222222222222222222222222222222");
const auto kSalt = fixed<16>("0102030405060708090a0b0c0d0e0f10");
const ec::Verifier kVerifier{kSalt, fixed<32>("080885102a83c7f1a3af18ae5d0ecf1c2c8dec6734415287dcc27b43936e54bb"), 1};
const auto kMsg1 = hex("746573747573657200449a67c32946bedc19e79926c333ba1ea20051cdb970eef49f0a8a058006155301");
const auto kMsg2 =
    hex("57127b26abba0816e3e0454ce800be2bc4517ecbd99c65696b7b1cb77697549f010102030405060708090a0b0c0d0e0f10");
const auto kMsg3 = hex("60d77158bcb6164d64b77602fc238fa90a8c98c9c1a2c1a8771455dc4d2f478e");
const auto kMsg4 = hex("0a1f98fb7b1abe00acdbb934475bc1208451f189aac6db0482964417c8e1190b");
const std::array<std::byte, 16> kFakeSecret{};

// The spec path (injected s_b): vector A byte for byte.
bool server_login_generic() {
  ec::ServerHandshake s = ec::ServerHandshake::create(kFakeSecret, kSb);
  return s.on_msg1(kMsg1).has_value() && s.msg2(kVerifier).has_value() && s.on_msg3(kMsg3).has_value();
}

// The production path (random s_b in X25519 form), made repeatable with a fixed
// s_b; its MSG2 differs from vector A's, so the client's MSG3 is computed once.
std::vector<std::byte> production_msg3() {
  ec::ServerHandshake s = ec::ServerHandshake::create_x25519_for_test(kFakeSecret, kSb);
  auto c = ec::ClientHandshake::start(kUser, kPassword, kSa);
  if (!c || !s.on_msg1(kMsg1)) {
    return {};
  }
  auto msg2 = s.msg2(kVerifier);
  if (!msg2) {
    return {};
  }
  auto msg3 = c->on_msg2(std::span<const std::byte>(*msg2).subspan(1));
  if (!msg3) {
    return {};
  }
  return {msg3->begin() + 1, msg3->end()};
}

bool server_login(std::span<const std::byte> msg3) {
  ec::ServerHandshake s = ec::ServerHandshake::create_x25519_for_test(kFakeSecret, kSb);
  return s.on_msg1(kMsg1).has_value() && s.msg2(kVerifier).has_value() && s.on_msg3(msg3).has_value();
}

bool client_login() {
  auto c = ec::ClientHandshake::start(kUser, kPassword, kSa);
  return c.has_value() && c->on_msg2(kMsg2).has_value() && c->on_msg4(kMsg4).has_value();
}

void BM_Ecsrp5_ServerHandshake(benchmark::State& state) {
  const std::vector<std::byte> msg3 = production_msg3();
  if (!server_login(msg3)) {
    state.SkipWithError("server login on the X25519 path failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(server_login(msg3));
  }
  state.SetItemsProcessed(state.iterations());  // logins
}
BENCHMARK(BM_Ecsrp5_ServerHandshake)->Unit(benchmark::kMicrosecond);

void BM_Ecsrp5_ServerHandshakeGeneric(benchmark::State& state) {
  if (!server_login_generic()) {
    state.SkipWithError("server login with vector A failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(server_login_generic());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ecsrp5_ServerHandshakeGeneric)->Unit(benchmark::kMicrosecond);

void BM_Ecsrp5_ClientHandshake(benchmark::State& state) {
  if (!client_login()) {
    state.SkipWithError("client login with vector A failed");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(client_login());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ecsrp5_ClientHandshake)->Unit(benchmark::kMicrosecond);

void BM_Ecsrp5_DeriveVerifier(benchmark::State& state) {
  if (ec::derive_verifier(kUser, kPassword, kSalt) != kVerifier) {
    state.SkipWithError("derive_verifier does not give vector A");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(ec::derive_verifier(kUser, kPassword, kSalt));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ecsrp5_DeriveVerifier)->Unit(benchmark::kMicrosecond);

// The unknown-user path (§6.9): fake verifier plus the same curve work.
void BM_Ecsrp5_ServerHandshakeUnknownUser(benchmark::State& state) {
  for (auto _ : state) {
    ec::ServerHandshake s = ec::ServerHandshake::create_x25519_for_test(kFakeSecret, kSb);
    bool ok = s.on_msg1(kMsg1).has_value() && s.msg2(std::nullopt).has_value() && !s.on_msg3(kMsg3).has_value();
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Ecsrp5_ServerHandshakeUnknownUser)->Unit(benchmark::kMicrosecond);

}  // namespace
