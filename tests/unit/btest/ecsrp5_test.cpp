// Unit tests for btest/ecsrp5: EC-SRP5 math and messages, checked field by field
// against the spec (../shared/spec/btest-protocol.md §6, vectors §19.2–§19.3) in
// both roles, plus the validation rules of §6.8 on hostile input.
#include "btest/ecsrp5.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hex_test_util.hpp"

namespace linerate::btest::ecsrp5 {
namespace {

using linerate::testing::fixed;
using linerate::testing::from_hex;

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::byte b : bytes) {
    out += kHex[static_cast<unsigned>(b) >> 4];
    out += kHex[static_cast<unsigned>(b) & 0xF];
  }
  return out;
}

std::string nospace(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c != ' ') {
      out += c;
    }
  }
  return out;
}
// Compare as hex so a failure prints both values.
#define EXPECT_BYTES(bytes, text) EXPECT_EQ(to_hex(bytes), nospace(text)) << #bytes

// The payload of a frame (drop the length byte, checking it).
std::vector<std::byte> payload_of(const std::vector<std::byte>& frame) {
  auto f = parse_frame(frame);
  EXPECT_TRUE(f.has_value());
  if (!f) {
    return {};
  }
  EXPECT_EQ(f->size_bytes, frame.size());
  return {f->payload.begin(), f->payload.end()};
}

const std::array<std::byte, 32> kSecret = fixed<32>("5e" + std::string(62, '0'));

// §19.3: every field, as printed in the spec.
struct Vector {
  const char* name;
  const char* user;
  const char* password;
  const char* salt;
  const char* s_a;
  const char* s_b;
  const char* inner;
  const char* i;
  const char* x_gamma;
  uint8_t gamma_parity;
  const char* x_w_a;
  uint8_t parity_a;
  const char* msg1;
  const char* sbg_x;
  const char* sbg_y;
  const char* redp1_first;
  unsigned redp1_increments;
  const char* redp1_counter;
  const char* redp1_hash;
  const char* redp1_u;
  const char* redp1_x;
  const char* redp1_y0;
  const char* redp1_y1;
  const char* x_w_b;
  uint8_t parity_b;
  const char* msg2;
  const char* j;
  const char* k;
  const char* z;
  const char* msg3;
  const char* msg4;
  const char* wrong_password;
  const char* wrong_password_cc;
  const char* flipped_parity_z;
};

const Vector kVectors[] = {
    {
        "A",
        "testuser",
        "testpass",
        "0102030405060708090a0b0c0d0e0f10",
        "1111111111111111111111111111111111111111111111111111111111111111",
        "2222222222222222222222222222222222222222222222222222222222222222",
        "49c5b69a0d773cf6b6d61c9916534fa1c8d53420812e4190b7b8dd770ff2f8e2",
        "5237c74628c8eb7ec2e9e73634446a35d4a733549055808fd85b82c9199a4785",
        "080885102a83c7f1a3af18ae5d0ecf1c2c8dec6734415287dcc27b43936e54bb",
        1,
        "449a67c32946bedc19e79926c333ba1ea20051cdb970eef49f0a8a0580061553",
        1,
        "2a 7465737475736572 00 449a67c32946bedc19e79926c333ba1ea20051cdb970eef49f0a8a0580061553 01",
        "538addee88dccb3ee43562737b1c580490229ed4988e436108c8420550cf18fc",
        "1fcfb719c5dd92f7cca3bc2f26781749abc789b8ebc22313574f2ab49894d209",
        "389bda2e95ceed4e130bc5dc7f3de4d80d828d16a7958ae7ccbc1390123f0f9c",
        0,
        "389bda2e95ceed4e130bc5dc7f3de4d80d828d16a7958ae7ccbc1390123f0f9c",
        "45cfc6b373a5f32aa568f0c458f8b56084f301e010e3cae3a793ba915f0b83bf",
        "45cfc6b373a5f32aa568f0c458f8b56084f301e010e3cae3a793ba915f0b83bf",
        "707a715e1e509dd550139b6f03a3600b2f9dac8abb8e758e523e653c09b8a810",
        "4d50539f9f6b70e22e571ad5d0af5df543fae109108b17fe1014023d66b8a896",
        "32afac6060948f1dd1a8e52a2f50a20abc051ef6ef74e801efebfdc299475757",
        "57127b26abba0816e3e0454ce800be2bc4517ecbd99c65696b7b1cb77697549f",
        1,
        "31 57127b26abba0816e3e0454ce800be2bc4517ecbd99c65696b7b1cb77697549f 01 0102030405060708090a0b0c0d0e0f10",
        "6cca782c358261e8125da99653bbecb90bebad48c0c542e014aef22948df9f5b",
        "0b4cd1f916e3ac8414464abb0ad1bb665b5391263733c31e6ef4826c03235a5c",
        "4f182037b4208a5d8bbc7c3a6340ffe0638da92074d0f8a95d771b4b5d11b192",
        "20 60d77158bcb6164d64b77602fc238fa90a8c98c9c1a2c1a8771455dc4d2f478e",
        "20 0a1f98fb7b1abe00acdbb934475bc1208451f189aac6db0482964417c8e1190b",
        "testpassx",
        "91c921450e80404b8717cb25623114bc70141c6867d4fbc430e3a1b3d827bb81",
        "051c7689570bec1cb675ac18ae957b597a678ca05650586250d91aef3454cd9c",
    },
    {
        "B",
        "admin",
        "",
        "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
        "3333333333333333333333333333333333333333333333333333333333333333",
        "4444444444444444444444444444444444444444444444444444444444444444",
        "24f7c096d98b5db108aa9ba85149b93185ae4db44ab299e8caf74f662c597f36",
        "3dc3fd28544dc20b559942c9c6ab1dcd26ca971868813e35dfb15535e36cad61",
        "67159fd5bee393e81d9cccd50719b129190f3f6a44d9765d73076de09d1aa1ba",
        0,
        "681f807336774c935c5f62ad6a747df74026d9f5aed38f5aeac94d34990e49a2",
        1,
        "27 61646d696e 00 681f807336774c935c5f62ad6a747df74026d9f5aed38f5aeac94d34990e49a2 01",
        "324a522b1fcdf2c5988fb446b54b4b036a95758928741c0fff471f438387db82",
        "3f0df7ced2f9b3540816fa87ed0890b070c17e958f7348d5237c02b400debc9c",
        "844ab4ee7e692c246ade67ae0a57fe5cfbac1315b4eb753bf433a120c5b111b8",
        0,
        "844ab4ee7e692c246ade67ae0a57fe5cfbac1315b4eb753bf433a120c5b111b8",
        "121061690c8981afa723dda166a6dc6ea03e48b0a4a2207f315183c022255f7a",
        "121061690c8981afa723dda166a6dc6ea03e48b0a4a2207f315183c022255f7a",
        "3cbb0c13b7342c5a51ce884c115187194ae8f35b4f4ccb29dbfc2e6accd283cb",
        "55426f6f9ccfa3be73dc7bb9cc1ada9623076820cc30b7e319a9aa39f2969ebe",
        "2abd909063305c418c23844633e52569dcf897df33cf481ce65655c60d69612f",
        "2ab945f6e75af6506f21cb7e15f5da6d94f3249582b0be6cc00504439ca5fdc2",
        1,
        "31 2ab945f6e75af6506f21cb7e15f5da6d94f3249582b0be6cc00504439ca5fdc2 01 a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5",
        "4bd898f3b29432f07b925306aef355c50a0752a7282a96a55270c0112add1eb9",
        "014575f7b3fed2f33d0865122f107c47bea2b9dd58804dd7df59775e97a8858f",
        "7e017afbb2ca40c1409013e3a3c3fac3375056485cbd9f7ffc1903feeb56c737",
        "20 b7edf8e909e9e7c254e6c5a1a48c12c62f6669b94e37eda6d5461b8851689346",
        "20 669d2f35fe1b5653b1f8cc43555e7803b526b27ab6fe30d7721b9dd80d8c9049",
        "x",
        "58c7d3313b2959f940f4a6b2132d021cb86a52dac20b3a4677dcbc900fa1cb2e",
        "213f3de359738e55aec905ddefcd9dd42d8ad90fe23393d7146b85341f6fdff8",
    },
    {
        "C",
        "btest",
        "btest",
        "00112233445566778899aabbccddee00",
        "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f",
        "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0",
        "6eea66f9dc55d4fe50205f6572df43dc2ff1b5dc61ed987fbaf579f1738e75b0",
        "807e4a065257cdd2bb34ad1eb7df9554979e557d85f0eef0a2fbfe1878c82644",
        "4202c89dc687f1800488a08c3f5d00078d3041caece8425549f80ace3e4839bb",
        0,
        "6d9acaf93958d3a9502e83ab51e80d3960e9af6def6946ac5b2b00cb107c69aa",
        0,
        "27 6274657374 00 6d9acaf93958d3a9502e83ab51e80d3960e9af6def6946ac5b2b00cb107c69aa 00",
        "067ac4a7f673c056ef39d5d50a04e0525f0ee8224ac15d47983b4994536bf1b5",
        "0360525c2d59c5f78e4516e97032b0dea8ec6c4a3b6701ef3c8d74d2dd0fe99b",
        "ee03f4390ae7324dace714127d23aa7aa6a6f95de9b198974cb9f3f3127e3a06",
        3,
        "ee03f4390ae7324dace714127d23aa7aa6a6f95de9b198974cb9f3f3127e3a09",
        "a8f5013c43bd78fe01ff254965131f38f7c76609fa611530a43f84d56f77f045",
        "28f5013c43bd78fe01ff254965131f38f7c76609fa611530a43f84d56f77f058",
        "539fabe6ee6823a8aca9cff40fbdc9e3a27210b4a50bbfdb4eea2f801a2514a9",
        "7b36c5644125582bd5759344d492e8c9280f7fe205ff92d0f81e656719eaed66",
        "04c93a9bbedaa7d42a8a6cbb2b6d1736d7f0801dfa006d2f07e19a98e6151287",
        "6da92964e593f40f9b5d4eff186c4ff573a8b2d3db6af3e674356933bccea1d7",
        0,
        "31 6da92964e593f40f9b5d4eff186c4ff573a8b2d3db6af3e674356933bccea1d7 00 00112233445566778899aabbccddee00",
        "66a480c45c606a363f8387b24dfd7a5510ad342b3207abf9bb9214ea7ca60ea7",
        "0f83d75436c0021043712740d8aea596784ade9c40697e999dcad1ac3dfdff2c",
        "7e13f3c9f9ba50dd4f18af41b646cf830acf92a3ee196a556aabc6b87f0a0846",
        "20 42566a906479d12c681c074bb567d1856d23ab47b6e15ee28069222be163b2c7",
        "20 87e2420ce630c507d149058d89cece40258dd9ea35913d781cad3697c29b52df",
        "btestx",
        "8fe8b1a8f73c71da6f18e34373cd4b2f8d61e772002b3eea3474e29b0727595a",
        "52f271e57d568012d85030fbaaa373e514ee7f5d183c8d47e1b1bab9732a2e71",
    },
};

class Ecsrp5Vector : public ::testing::TestWithParam<Vector> {};

std::string vector_name(const ::testing::TestParamInfo<Vector>& info) { return info.param.name; }

Verifier stored(const Vector& v) { return Verifier{fixed<16>(v.salt), fixed<32>(v.x_gamma), v.gamma_parity}; }

TEST_P(Ecsrp5Vector, VerifierFields) {
  const Vector& v = GetParam();
  auto salt = fixed<16>(v.salt);
  EXPECT_BYTES(inner_hash_for_test(v.user, v.password), v.inner);
  EXPECT_BYTES(validator_private_for_test(v.user, v.password, salt), v.i);
  Verifier ver = derive_verifier(v.user, v.password, salt);
  EXPECT_BYTES(ver.salt, v.salt);
  EXPECT_BYTES(ver.x_gamma, v.x_gamma);
  EXPECT_EQ(ver.gamma_parity, v.gamma_parity);
  EXPECT_EQ(ver, stored(v));
}

TEST_P(Ecsrp5Vector, ScalarMultiplesOfGenerator) {
  const Vector& v = GetParam();
  AffineForTest sbg = mul_generator_for_test(fixed<32>(v.s_b));
  EXPECT_BYTES(sbg.x, v.sbg_x);
  EXPECT_BYTES(sbg.y, v.sbg_y);
  // W_a = s_a·G travels as (x − A/3, parity); lift_x of the wire form gives it back.
  AffineForTest wa = mul_generator_for_test(fixed<32>(v.s_a));
  auto lifted = lift_x_for_test(fixed<32>(v.x_w_a), v.parity_a);
  ASSERT_TRUE(lifted.has_value());
  EXPECT_EQ(*lifted, wa);
}

TEST_P(Ecsrp5Vector, Redp1BothParities) {
  const Vector& v = GetParam();
  Redp1ForTest r0 = redp1_for_test(fixed<32>(v.x_gamma), 0);
  EXPECT_BYTES(r0.first_counter, v.redp1_first);
  EXPECT_EQ(r0.increments, v.redp1_increments);
  EXPECT_BYTES(r0.counter, v.redp1_counter);
  EXPECT_BYTES(r0.hash, v.redp1_hash);
  EXPECT_BYTES(r0.u, v.redp1_u);
  EXPECT_BYTES(r0.point.x, v.redp1_x);
  EXPECT_BYTES(r0.point.y, v.redp1_y0);
  Redp1ForTest r1 = redp1_for_test(fixed<32>(v.x_gamma), 1);
  EXPECT_EQ(r1.increments, v.redp1_increments);
  EXPECT_BYTES(r1.point.x, v.redp1_x);
  EXPECT_BYTES(r1.point.y, v.redp1_y1);
}

TEST_P(Ecsrp5Vector, ClientRoleByteExact) {
  const Vector& v = GetParam();
  auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_BYTES(c->msg1(), v.msg1);
  auto msg3 = c->on_msg2(payload_of(from_hex(v.msg2)));
  ASSERT_TRUE(msg3.has_value()) << msg3.error().message();
  EXPECT_BYTES(*msg3, v.msg3);
  const auto& s = c->session_for_test();
  EXPECT_BYTES(s.i, v.i);
  EXPECT_BYTES(s.x_gamma, v.x_gamma);
  EXPECT_BYTES(s.j, v.j);
  EXPECT_BYTES(s.k, v.k);
  EXPECT_BYTES(s.z, v.z);
  EXPECT_BYTES(j_for_test(fixed<32>(v.x_w_a), fixed<32>(v.x_w_b)), v.j);
  auto ok = c->on_msg4(payload_of(from_hex(v.msg4)));
  EXPECT_TRUE(ok.has_value()) << ok.error().message();
}

void expect_server_role(const Vector& v, const Verifier& ver) {
  ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
  auto user = s.on_msg1(payload_of(from_hex(v.msg1)));
  ASSERT_TRUE(user.has_value()) << user.error().message();
  EXPECT_EQ(*user, v.user);
  EXPECT_EQ(s.user(), v.user);
  auto msg2 = s.msg2(ver);
  ASSERT_TRUE(msg2.has_value()) << msg2.error().message();
  EXPECT_BYTES(*msg2, v.msg2);
  EXPECT_TRUE(s.user_known());
  EXPECT_BYTES(s.session_for_test().j, v.j);
  EXPECT_BYTES(s.session_for_test().z, v.z);
  auto msg4 = s.on_msg3(payload_of(from_hex(v.msg3)));
  ASSERT_TRUE(msg4.has_value()) << msg4.error().message();
  EXPECT_BYTES(*msg4, v.msg4);
}

TEST_P(Ecsrp5Vector, ServerRoleStoredVerifierByteExact) { expect_server_role(GetParam(), stored(GetParam())); }

TEST_P(Ecsrp5Vector, ServerRoleFromPasswordByteExact) {
  const Vector& v = GetParam();
  expect_server_role(v, derive_verifier(v.user, v.password, fixed<16>(v.salt)));
}

TEST_P(Ecsrp5Vector, WrongPasswordClientProofRejected) {
  const Vector& v = GetParam();
  // The client with the wrong password, same s_a and MSG2, sends the listed proof ...
  auto c = ClientHandshake::start(v.user, v.wrong_password, fixed<32>(v.s_a));
  ASSERT_TRUE(c.has_value());
  auto msg3 = c->on_msg2(payload_of(from_hex(v.msg2)));
  ASSERT_TRUE(msg3.has_value()) << msg3.error().message();
  EXPECT_BYTES(payload_of(*msg3), v.wrong_password_cc);
  // ... and the server rejects it.
  ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
  ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
  ASSERT_TRUE(s.msg2(stored(v)).has_value());
  auto msg4 = s.on_msg3(payload_of(*msg3));
  ASSERT_FALSE(msg4.has_value());
  EXPECT_EQ(msg4.error().code, std::errc::permission_denied);
  EXPECT_NE(msg4.error().message().find("does not match"), std::string::npos) << msg4.error().message();
  // The right proof after a failure is refused too: one MSG3 per handshake.
  EXPECT_FALSE(s.on_msg3(payload_of(from_hex(v.msg3))).has_value());
}

TEST_P(Ecsrp5Vector, FlippedGammaParityGivesListedWrongZ) {
  const Vector& v = GetParam();
  Verifier bad = stored(v);
  bad.gamma_parity ^= 1;
  ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
  ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
  auto msg2 = s.msg2(bad);
  ASSERT_TRUE(msg2.has_value());
  EXPECT_BYTES(*msg2, v.msg2);                               // W_b does not depend on the parity ...
  EXPECT_BYTES(s.session_for_test().z, v.flipped_parity_z);  // ... but Z does
  auto msg4 = s.on_msg3(payload_of(from_hex(v.msg3)));
  ASSERT_FALSE(msg4.has_value());
  EXPECT_EQ(msg4.error().code, std::errc::permission_denied);
}

TEST_P(Ecsrp5Vector, ClientRejectsBadServerProof) {
  const Vector& v = GetParam();
  auto msg4 = payload_of(from_hex(v.msg4));
  for (std::size_t flip = 0; flip < msg4.size(); flip += 31) {
    auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
    ASSERT_TRUE(c.has_value());
    ASSERT_TRUE(c->on_msg2(payload_of(from_hex(v.msg2))).has_value());
    auto bad = msg4;
    bad[flip] ^= std::byte{0x01};
    auto r = c->on_msg4(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, std::errc::permission_denied);
  }
  // AUTH_FAILED (00 00 00 00) seen through a length-prefixed reader: an empty MSG4 (§6.9).
  auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  ASSERT_TRUE(c.has_value());
  ASSERT_TRUE(c->on_msg2(payload_of(from_hex(v.msg2))).has_value());
  auto r = c->on_msg4({});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, std::errc::permission_denied);
  EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
}

TEST_P(Ecsrp5Vector, ClientRejectsServerKeyThatCancelsBlinding) {
  // A hostile MSG2 with W_b = redp1(x_gamma, 0) makes B = W_b + V = ∞, so Z = ∞ (§6.8).
  const Vector& v = GetParam();
  Redp1ForTest r0 = redp1_for_test(fixed<32>(v.x_gamma), 0);
  std::vector<std::byte> msg2(r0.u.begin(), r0.u.end());
  msg2.push_back(static_cast<std::byte>(static_cast<unsigned>(r0.point.y[31]) & 1));
  auto salt = fixed<16>(v.salt);
  msg2.insert(msg2.end(), salt.begin(), salt.end());
  auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  ASSERT_TRUE(c.has_value());
  auto r = c->on_msg2(msg2);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("infinity"), std::string::npos) << r.error().message();
}

INSTANTIATE_TEST_SUITE_P(Spec19_3, Ecsrp5Vector, ::testing::ValuesIn(kVectors), vector_name);

TEST(Ecsrp5, Vector19_3CNeedsThreeIncrementsAndHashAboveP) {
  Redp1ForTest r = redp1_for_test(fixed<32>(kVectors[2].x_gamma), 0);
  EXPECT_EQ(r.increments, 3U);
  EXPECT_GE(static_cast<unsigned>(r.hash[0]), 0x80U);  // H(c) ≥ 2^255 > p ...
  EXPECT_NE(r.hash, r.u);                              // ... and was reduced
}

// §6.1, §6.2, §19.2
TEST(Ecsrp5, CurveConstantsMatchSpec) {
  CurveConstantsForTest k = curve_constants_for_test();
  EXPECT_BYTES(k.p, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed");
  EXPECT_BYTES(k.r, "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
  EXPECT_BYTES(k.a, "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa984914a144");
  EXPECT_BYTES(k.b, "7b425ed097b425ed097b425ed097b425ed097b425ed097b4260b5e9c7710c864");
  EXPECT_BYTES(k.a_third, "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad2451");
  EXPECT_BYTES(k.g.x, "2aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad245a");
  EXPECT_BYTES(k.g.y, "5f51e65e475f794b1fe122d388b72eb36dc2b28192839e4dd6163a5d81312c14");
  Bytes32 nine{};
  nine[31] = std::byte{9};
  auto g = lift_x_for_test(nine, 0);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*g, k.g);
  // 1·G = G and r·G = ∞ (§19.2).
  Bytes32 one{};
  one[31] = std::byte{1};
  EXPECT_EQ(mul_generator_for_test(one), k.g);
  EXPECT_EQ(has_order_dividing_r_for_test(nine, 0), std::optional<bool>(true));
  EXPECT_EQ(has_order_dividing_r_for_test(nine, 1), std::optional<bool>(true));
}

TEST(Ecsrp5, LiftXParityAndTwist) {
  Bytes32 nine{};
  nine[31] = std::byte{9};
  auto even = lift_x_for_test(nine, 0);
  auto odd = lift_x_for_test(nine, 1);
  ASSERT_TRUE(even && odd);
  EXPECT_EQ(even->x, odd->x);
  EXPECT_EQ(static_cast<unsigned>(even->y[31]) & 1, 0U);
  EXPECT_EQ(static_cast<unsigned>(odd->y[31]) & 1, 1U);
  // About half of all u are on the twist: among u = 1..64 some are and some are not.
  int on = 0;
  int off = 0;
  for (unsigned u = 1; u <= 64; ++u) {
    Bytes32 ub{};
    ub[31] = static_cast<std::byte>(u);
    (lift_x_for_test(ub, 0) ? on : off) += 1;
  }
  EXPECT_GT(on, 10);
  EXPECT_GT(off, 10);
  // u ≥ p is reduced mod p: p + 9 lifts like 9.
  auto p9 = fixed<32>("7ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff6");
  auto lifted = lift_x_for_test(p9, 0);
  ASSERT_TRUE(lifted.has_value());
  EXPECT_EQ(*lifted, *even);
  // u = 0 is the point of order 2, y = 0 for either parity.
  auto zero = lift_x_for_test(Bytes32{}, 1);
  ASSERT_TRUE(zero.has_value());
  EXPECT_EQ(zero->y, Bytes32{});
}

// Vector D (RouterOS 7 capture): structural checks only.
TEST(Ecsrp5, Vector19_3DCaptureStructure) {
  auto msg1 = from_hex("27 616e74617200 388a3736526a32e9874e92f8c3aaa118dacd71b6ab76fd72aac3f66a439bc8a1 01");
  auto msg2 = from_hex(
      "31 6cc9e31a79434a4051defd55cc8d6d3ceccd73191fa6831594625297fe5d891a 00 3cec65b834280a16c5480d7b5000e380");
  auto x_w_a = fixed<32>("388a3736526a32e9874e92f8c3aaa118dacd71b6ab76fd72aac3f66a439bc8a1");
  auto x_w_b = fixed<32>("6cc9e31a79434a4051defd55cc8d6d3ceccd73191fa6831594625297fe5d891a");
  EXPECT_TRUE(lift_x_for_test(x_w_a, 1).has_value());
  EXPECT_EQ(has_order_dividing_r_for_test(x_w_a, 1), std::optional<bool>(true));
  EXPECT_TRUE(lift_x_for_test(x_w_b, 0).has_value());
  EXPECT_EQ(has_order_dividing_r_for_test(x_w_b, 0), std::optional<bool>(false));  // the redp1 term
  EXPECT_BYTES(j_for_test(x_w_a, x_w_b), "c4702d90989a781652d62693c105d88f6c315fe1f13617070a2e393d40b57f27");
  // Both of our roles accept the captured messages.
  ServerHandshake s =
      ServerHandshake::create(kSecret, fixed<32>("2222222222222222222222222222222222222222222222222222222222222222"));
  auto user = s.on_msg1(payload_of(msg1));
  ASSERT_TRUE(user.has_value()) << user.error().message();
  EXPECT_EQ(*user, "antar");
  auto c = ClientHandshake::start("antar", "unknown",
                                  fixed<32>("1111111111111111111111111111111111111111111111111111111111111111"));
  ASSERT_TRUE(c.has_value());
  auto msg3 = c->on_msg2(payload_of(msg2));
  ASSERT_TRUE(msg3.has_value()) << msg3.error().message();
  EXPECT_EQ(msg3->size(), 33U);
  EXPECT_EQ((*msg3)[0], std::byte{0x20});
}

// Random keys, many salts: both verifier parities must authenticate (§6.4 "keep gamma_parity").
TEST(Ecsrp5, LoopbackSucceedsForBothGammaParities) {
  std::set<uint8_t> parities;
  for (unsigned n = 0; n < 32 && parities.size() < 2; ++n) {
    Salt salt{};
    salt[0] = static_cast<std::byte>(n);
    Verifier ver = derive_verifier("user", "pass word", salt);
    parities.insert(ver.gamma_parity);
    auto c = ClientHandshake::start("user", "pass word");
    ASSERT_TRUE(c.has_value());
    auto s = ServerHandshake::create(kSecret);
    ASSERT_TRUE(s.has_value());
    auto user = s->on_msg1(payload_of(c->msg1()));
    ASSERT_TRUE(user.has_value()) << user.error().message();
    ASSERT_EQ(*user, "user");
    auto msg2 = s->msg2(ver);
    ASSERT_TRUE(msg2.has_value()) << msg2.error().message();
    auto msg3 = c->on_msg2(payload_of(*msg2));
    ASSERT_TRUE(msg3.has_value()) << msg3.error().message();
    auto msg4 = s->on_msg3(payload_of(*msg3));
    ASSERT_TRUE(msg4.has_value()) << msg4.error().message() << " parity " << int{ver.gamma_parity};
    EXPECT_TRUE(c->on_msg4(payload_of(*msg4)).has_value());
    EXPECT_EQ(c->session_for_test().z, s->session_for_test().z);
  }
  EXPECT_EQ(parities.size(), 2U);
}

// 32-byte big-endian a − b (a ≥ b).
Bytes32 sub_be(const Bytes32& a, const Bytes32& b) {
  Bytes32 out{};
  unsigned borrow = 0;
  for (std::size_t k = 32; k-- > 0;) {
    unsigned d = static_cast<unsigned>(a[k]) - static_cast<unsigned>(b[k]) - borrow;
    out[k] = static_cast<std::byte>(d & 0xFF);
    borrow = (d >> 8) & 1;
  }
  return out;
}

// The production server path (X25519, clamped s_b) must put on the wire exactly what
// the generic path does for s_b or for 8·r − s_b, and accept exactly its proofs.
TEST(Ecsrp5, X25519ServerPathEqualsGenericPathUpToSign) {
  const Vector& v = kVectors[0];
  const Bytes32 eight_r = fixed<32>("80000000000000000000000000000000a6f7cef517bce6b2c09318d2e7ae9f68");
  std::set<bool> signs;
  for (unsigned n = 0; n < 32 && signs.size() < 2; ++n) {
    Bytes32 s_b{};
    for (std::size_t k = 0; k < s_b.size(); ++k) {
      s_b[k] = static_cast<std::byte>((n * 131 + k * 29 + 7) & 0xFF);
    }
    s_b[31] &= std::byte{0xf8};  // X25519 form, as create_x25519_for_test makes it
    s_b[0] &= std::byte{0x7f};
    s_b[0] |= std::byte{0x40};
    SCOPED_TRACE("s_b " + to_hex(s_b));
    ServerHandshake fast = ServerHandshake::create_x25519_for_test(kSecret, s_b);
    ServerHandshake plus = ServerHandshake::create(kSecret, s_b);
    ServerHandshake minus = ServerHandshake::create(kSecret, sub_be(eight_r, s_b));
    std::vector<std::byte> msg1 = payload_of(from_hex(v.msg1));
    ASSERT_TRUE(fast.on_msg1(msg1) && plus.on_msg1(msg1) && minus.on_msg1(msg1));
    auto m2 = fast.msg2(stored(v));
    auto m2_plus = plus.msg2(stored(v));
    auto m2_minus = minus.msg2(stored(v));
    ASSERT_TRUE(m2 && m2_plus && m2_minus);
    bool is_plus = *m2 == *m2_plus;
    ASSERT_TRUE(is_plus || *m2 == *m2_minus);
    signs.insert(is_plus);
    ServerHandshake& same = is_plus ? plus : minus;
    EXPECT_EQ(fast.session_for_test().j, same.session_for_test().j);
    EXPECT_EQ(fast.session_for_test().z, same.session_for_test().z);
    auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
    ASSERT_TRUE(c.has_value());
    auto msg3 = c->on_msg2(payload_of(*m2));
    ASSERT_TRUE(msg3.has_value());
    auto m4 = fast.on_msg3(payload_of(*msg3));
    auto m4_same = same.on_msg3(payload_of(*msg3));
    ASSERT_TRUE(m4.has_value()) << m4.error().message();
    ASSERT_TRUE(m4_same.has_value());
    EXPECT_EQ(*m4, *m4_same);
    EXPECT_TRUE(c->on_msg4(payload_of(*m4)).has_value());
  }
  EXPECT_EQ(signs.size(), 2U);  // both signs were exercised
}

TEST(Ecsrp5, X25519ServerPathRejectsWrongPasswordAndSmallOrderKeys) {
  const Vector& v = kVectors[1];
  ServerHandshake s = ServerHandshake::create_x25519_for_test(kSecret, fixed<32>(v.s_b));
  ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
  auto m2 = s.msg2(stored(v));
  ASSERT_TRUE(m2.has_value());
  auto c = ClientHandshake::start(v.user, v.wrong_password, fixed<32>(v.s_a));
  auto msg3 = c->on_msg2(payload_of(*m2));
  ASSERT_TRUE(msg3.has_value());
  auto r = s.on_msg3(payload_of(*msg3));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, std::errc::permission_denied);
  for (std::string_view u : {"0000000000000000000000000000000000000000000000000000000000000000",
                             "00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0"}) {
    std::vector<std::byte> msg1 = from_hex(std::string("7500") + std::string(u) + "01");
    ServerHandshake h = ServerHandshake::create_x25519_for_test(kSecret, fixed<32>(v.s_b));
    ASSERT_TRUE(h.on_msg1(msg1).has_value());
    ASSERT_TRUE(h.msg2(stored(v)).has_value());
    EXPECT_FALSE(h.on_msg3(payload_of(from_hex(v.msg3))).has_value());
  }
}

TEST(Ecsrp5, RandomVerifierSaltAuthenticates) {
  auto ver = derive_verifier("u", "p");
  ASSERT_TRUE(ver.has_value());
  auto ver2 = derive_verifier("u", "p");
  ASSERT_TRUE(ver2.has_value());
  EXPECT_NE(ver->salt, ver2->salt);
}

TEST(Ecsrp5, UnknownUserGetsDeterministicFakeAndFailsAtMsg3) {
  auto run = [](std::span<const std::byte> secret, const char* user) {
    auto c = ClientHandshake::start(user, "guess", fixed<32>(kVectors[0].s_a));
    EXPECT_TRUE(c.has_value());
    ServerHandshake s = ServerHandshake::create(secret, fixed<32>(kVectors[0].s_b));
    EXPECT_TRUE(s.on_msg1(payload_of(c->msg1())).has_value());
    auto msg2 = s.msg2(std::nullopt);
    EXPECT_TRUE(msg2.has_value()) << msg2.error().message();
    EXPECT_FALSE(s.user_known());
    auto msg3 = c->on_msg2(payload_of(*msg2));
    EXPECT_TRUE(msg3.has_value());
    auto msg4 = s.on_msg3(payload_of(*msg3));
    EXPECT_FALSE(msg4.has_value());
    EXPECT_EQ(msg4.error().code, std::errc::permission_denied);
    return *msg2;
  };
  auto first = run(kSecret, "nobody");
  EXPECT_EQ(run(kSecret, "nobody"), first);  // same probe, same answer
  EXPECT_NE(run(kSecret, "nobody2"), first);
  auto other_secret = fixed<32>("77" + std::string(62, '0'));
  EXPECT_NE(run(other_secret, "nobody"), first);

  Verifier f = fake_verifier(kSecret, "nobody");
  EXPECT_EQ(f, fake_verifier(kSecret, "nobody"));
  EXPECT_NE(f.salt, fake_verifier(kSecret, "nobody2").salt);
  EXPECT_TRUE(lift_x_for_test(f.x_gamma, f.gamma_parity).has_value());
  EXPECT_TRUE(verifier_from_text(to_text(f)).has_value());
  EXPECT_EQ(fake_verifier({}, "x"), fake_verifier({}, "x"));  // an empty secret does not crash
  // The fake salt is the one MSG2 carries.
  auto msg2 = first;
  EXPECT_EQ(to_hex(std::span(msg2).subspan(1 + 33)), to_hex(f.salt));
}

TEST(Ecsrp5, VerifierTextRoundTrip) {
  Verifier v = stored(kVectors[0]);
  std::string text = to_text(v);
  EXPECT_EQ(
      text,
      "ecsrp5$0102030405060708090a0b0c0d0e0f10$080885102a83c7f1a3af18ae5d0ecf1c2c8dec6734415287dcc27b43936e54bb$1");
  auto back = verifier_from_text(text);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, v);
  Verifier b = stored(kVectors[1]);
  EXPECT_EQ(verifier_from_text(to_text(b)).value(), b);
  // Upper-case hex is accepted.
  std::string upper =
      "ecsrp5$0102030405060708090A0B0C0D0E0F10$080885102A83C7F1A3AF18AE5D0ECF1C2C8DEC6734415287DCC27B43936E54BB$1";
  EXPECT_EQ(verifier_from_text(upper).value(), v);
}

TEST(Ecsrp5, VerifierTextRejectsMalformed) {
  const std::string salt = "0102030405060708090a0b0c0d0e0f10";
  const std::string xg = "080885102a83c7f1a3af18ae5d0ecf1c2c8dec6734415287dcc27b43936e54bb";
  // A u on the twist, found by search so the test does not depend on a constant.
  std::string twist;
  for (unsigned u = 2; u < 256 && twist.empty(); ++u) {
    Bytes32 ub{};
    ub[31] = static_cast<std::byte>(u);
    if (!lift_x_for_test(ub, 0)) {
      twist = to_hex(ub);
    }
  }
  ASSERT_FALSE(twist.empty());
  struct Case {
    std::string text;
    std::string_view want;
  };
  const Case cases[] = {
      {"", "field"},
      {"ecsrp5", "field"},
      {"ecsrp5$" + salt + "$" + xg, "field"},
      {"ecsrp5$" + salt + "$" + xg + "$1$", "more than 4"},
      {"srp$" + salt + "$" + xg + "$1", "ecsrp5$"},
      {"ECSRP5$" + salt + "$" + xg + "$1", "ecsrp5$"},
      {"ecsrp5$" + salt.substr(2) + "$" + xg + "$1", "salt"},
      {"ecsrp5$" + salt + "00$" + xg + "$1", "salt"},
      {"ecsrp5$zz" + salt.substr(2) + "$" + xg + "$1", "salt"},
      {"ecsrp5$" + salt + "$" + xg.substr(1) + "$1", "x_gamma"},
      {"ecsrp5$" + salt + "$" + xg + "0$1", "x_gamma"},
      {"ecsrp5$" + salt + "$" + xg.substr(0, 63) + "g$1", "x_gamma"},
      {"ecsrp5$" + salt + "$" + xg + "$2", "parity"},
      {"ecsrp5$" + salt + "$" + xg + "$", "parity"},
      {"ecsrp5$" + salt + "$" + xg + "$01", "parity"},
      {"ecsrp5$" + salt + "$" + std::string(64, 'f') + "$0", "reduced"},
      {"ecsrp5$" + salt + "$" + twist + "$0", "curve point"},
      {"ecsrp5$" + salt + "$" + xg + "$1\n", "parity"},
  };
  for (const Case& c : cases) {
    auto r = verifier_from_text(c.text);
    ASSERT_FALSE(r.has_value()) << c.text;
    std::string msg = r.error().message();
    EXPECT_NE(msg.find(c.want), std::string::npos) << c.text << " -> " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.find(xg), std::string::npos) << "error quotes the secret: " << msg;
  }
}

TEST(Ecsrp5, FrameParsing) {
  EXPECT_FALSE(parse_frame({}).has_value());
  auto buf = from_hex("03 aa bb cc dd");
  EXPECT_FALSE(parse_frame(std::span(buf).first(3)).has_value());  // incomplete
  auto f = parse_frame(buf);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->size_bytes, 4U);
  EXPECT_EQ(to_hex(f->payload), "aabbcc");
  auto zero = from_hex("00 00 00 00");  // AUTH_FAILED read as a frame: empty payload
  auto z = parse_frame(zero);
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->size_bytes, 1U);
  EXPECT_TRUE(z->payload.empty());
  auto made = make_frame(f->payload);
  ASSERT_TRUE(made.has_value());
  EXPECT_EQ(to_hex(*made), "03aabbcc");
  std::vector<std::byte> big(256);
  EXPECT_FALSE(make_frame(big).has_value());
  EXPECT_EQ(make_frame(std::span(big).first(255)).value().size(), 256U);
}

TEST(Ecsrp5, ClientRejectsBadUsernames) {
  auto s_a = fixed<32>(kVectors[0].s_a);
  std::string longest(kMaxUserLen, 'u');
  auto ok = ClientHandshake::start(longest, "p", s_a);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->msg1().size(), 256U);
  EXPECT_EQ(ok->msg1()[0], std::byte{0xff});
  auto too_long = ClientHandshake::start(longest + "u", "p", s_a);
  ASSERT_FALSE(too_long.has_value());
  EXPECT_NE(too_long.error().message().find("221"), std::string::npos);
  EXPECT_FALSE(ClientHandshake::start(std::string("a\0b", 3), "p", s_a).has_value());
  // s_a = 0 or r: W_a would be ∞.
  EXPECT_FALSE(ClientHandshake::start("u", "p", Bytes32{}).has_value());
  EXPECT_FALSE(ClientHandshake::start("u", "p", curve_constants_for_test().r).has_value());
  // An empty username is representable (MSG1 starts with the NUL).
  auto empty = ClientHandshake::start("", "p", s_a);
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->msg1()[0], std::byte{34});
  ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(kVectors[0].s_b));
  auto user = s.on_msg1(payload_of(empty->msg1()));
  ASSERT_TRUE(user.has_value());
  EXPECT_EQ(*user, "");
}

std::string twist_u_hex() {
  for (unsigned u = 2; u < 256; ++u) {
    Bytes32 ub{};
    ub[31] = static_cast<std::byte>(u);
    if (!lift_x_for_test(ub, 0)) {
      return to_hex(ub);
    }
  }
  return {};
}

TEST(Ecsrp5, ServerRejectsHostileMsg1) {
  const Vector& v = kVectors[0];
  auto good = payload_of(from_hex(v.msg1));
  std::string twist = twist_u_hex();
  ASSERT_FALSE(twist.empty());
  struct Case {
    std::vector<std::byte> payload;
    std::string_view want;
  };
  std::vector<std::byte> parity2 = good;
  parity2.back() = std::byte{2};
  std::vector<std::byte> longer = good;
  longer.push_back(std::byte{0});
  std::vector<std::byte> oversize(300, std::byte{0x41});
  oversize[200] = std::byte{0};
  const Case cases[] = {
      {{}, "no NUL"},
      {from_hex("41 42 43"), "no NUL"},
      {from_hex("00"), "after the username"},
      {std::vector<std::byte>(good.begin(), good.end() - 1), "after the username"},
      {longer, "after the username"},
      {std::vector<std::byte>(255, std::byte{0x41}), "no NUL"},
      {oversize, "at most 255"},
      {parity2, "parity"},
      {from_hex("7500" + twist + "00"), "not on the curve"},
      {from_hex("7500" + twist + "01"), "not on the curve"},
  };
  for (const Case& c : cases) {
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    auto r = s.on_msg1(c.payload);
    ASSERT_FALSE(r.has_value()) << to_hex(c.payload);
    EXPECT_NE(r.error().message().find(c.want), std::string::npos) << r.error().message();
    EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
    // After a failed MSG1 nothing else proceeds.
    EXPECT_FALSE(s.msg2(stored(v)).has_value());
    EXPECT_FALSE(s.on_msg3(payload_of(from_hex(v.msg3))).has_value());
  }
  // The username ends at the first NUL: a NUL inside the name shifts the tail.
  std::vector<std::byte> two_nuls = from_hex("61 00 62 00");
  two_nuls.insert(two_nuls.end(), good.end() - 33, good.end());
  ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
  EXPECT_FALSE(s.on_msg1(two_nuls).has_value());
}

TEST(Ecsrp5, ServerRejectsOutOfOrderAndBadMsg3) {
  const Vector& v = kVectors[0];
  {
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    EXPECT_FALSE(s.msg2(stored(v)).has_value());  // before MSG1
  }
  {
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
    EXPECT_FALSE(s.on_msg3(payload_of(from_hex(v.msg3))).has_value());  // before MSG2
  }
  {
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
    EXPECT_FALSE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());  // twice
  }
  for (std::size_t len : {0U, 31U, 33U, 200U}) {
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
    ASSERT_TRUE(s.msg2(stored(v)).has_value());
    auto r = s.on_msg3(std::vector<std::byte>(len));
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("MSG3 is"), std::string::npos) << r.error().message();
  }
  {
    // A stored verifier that is not a curve point (corrupt database row).
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
    Verifier bad = stored(v);
    bad.x_gamma = fixed<32>(twist_u_hex());
    auto r = s.msg2(bad);
    ASSERT_FALSE(r.has_value());
    EXPECT_NE(r.error().message().find("verifier"), std::string::npos);
  }
  {
    ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
    ASSERT_TRUE(s.on_msg1(payload_of(from_hex(v.msg1))).has_value());
    Verifier bad = stored(v);
    bad.gamma_parity = 7;
    EXPECT_FALSE(s.msg2(bad).has_value());
  }
}

TEST(Ecsrp5, ClientRejectsHostileMsg2) {
  const Vector& v = kVectors[0];
  auto good = payload_of(from_hex(v.msg2));
  std::string twist = twist_u_hex();
  std::vector<std::byte> parity2 = good;
  parity2[32] = std::byte{2};
  std::vector<std::byte> off_curve = good;
  auto tw = fixed<32>(twist);
  std::copy(tw.begin(), tw.end(), off_curve.begin());
  struct Case {
    std::vector<std::byte> payload;
    std::string_view want;
  };
  const Case cases[] = {
      {{}, "MSG2 is 0 bytes"},
      {std::vector<std::byte>(good.begin(), good.end() - 1), "MSG2 is 48 bytes"},
      {std::vector<std::byte>(50), "MSG2 is 50 bytes"},
      {std::vector<std::byte>(255, std::byte{0xff}), "MSG2 is 255 bytes"},
      {parity2, "parity"},
      {off_curve, "not on the curve"},
  };
  for (const Case& c : cases) {
    auto h = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
    ASSERT_TRUE(h.has_value());
    auto r = h->on_msg2(c.payload);
    ASSERT_FALSE(r.has_value()) << to_hex(c.payload);
    EXPECT_NE(r.error().message().find(c.want), std::string::npos) << r.error().message();
    EXPECT_FALSE(h->on_msg4(payload_of(from_hex(v.msg4))).has_value());  // no MSG3 was sent
  }
  // Order: MSG4 before MSG2, MSG2 twice.
  auto h = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  ASSERT_TRUE(h.has_value());
  EXPECT_FALSE(h->on_msg4(payload_of(from_hex(v.msg4))).has_value());
  auto h2 = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
  ASSERT_TRUE(h2->on_msg2(good).has_value());
  EXPECT_FALSE(h2->on_msg2(good).has_value());
  // Small-order and u ≥ p keys are handled without a crash (u = 0 is the 2-torsion point).
  for (std::string_view u : {"0000000000000000000000000000000000000000000000000000000000000000",
                             "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}) {
    std::vector<std::byte> msg2 = good;
    auto ub = fixed<32>(u);
    std::copy(ub.begin(), ub.end(), msg2.begin());
    auto hh = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
    auto r = hh->on_msg2(msg2);
    if (!r) {
      EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
    }
  }
}

TEST(Ecsrp5, SmallOrderClientKeyDoesNotAuthenticate) {
  // W_a = the point of order 2 (u = 0): the server still answers MSG2, and no MSG3 passes.
  const Vector& v = kVectors[0];
  std::vector<std::byte> msg1 = from_hex("7500" + std::string(64, '0') + "00");
  ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
  ASSERT_TRUE(s.on_msg1(msg1).has_value());
  ASSERT_TRUE(s.msg2(stored(v)).has_value());
  EXPECT_FALSE(s.on_msg3(payload_of(from_hex(v.msg3))).has_value());
}

// The small-order points of Curve25519 (orders 2, 4, 8; u = p − 1 is on the twist).
// The ladder must handle them as inputs, and no login may pass with one as a key.
TEST(Ecsrp5, SmallOrderPeerKeysAreHandled) {
  const Vector& v = kVectors[0];
  for (std::string_view u : {"0000000000000000000000000000000000000000000000000000000000000000",
                             "0000000000000000000000000000000000000000000000000000000000000001",
                             "00b8495f16056286fdb1329ceb8d09da6ac49ff1fae35616aeb8413b7c7aebe0",
                             "57119fd0dd4e22d8868e1c58c45c44045bef839c55b1d0b1248c50a3bc959c5f"}) {
    for (uint8_t parity : {uint8_t{0}, uint8_t{1}}) {
      SCOPED_TRACE(std::string(u) + " parity " + std::to_string(parity));
      auto ub = fixed<32>(u);
      ASSERT_TRUE(lift_x_for_test(ub, parity).has_value());
      EXPECT_EQ(has_order_dividing_r_for_test(ub, parity), std::optional<bool>(false));  // r is odd
      std::vector<std::byte> msg1 = from_hex("7500");
      msg1.insert(msg1.end(), ub.begin(), ub.end());
      msg1.push_back(static_cast<std::byte>(parity));
      ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
      ASSERT_TRUE(s.on_msg1(msg1).has_value());
      ASSERT_TRUE(s.msg2(stored(v)).has_value());
      EXPECT_FALSE(s.on_msg3(payload_of(from_hex(v.msg3))).has_value());
      std::vector<std::byte> msg2(ub.begin(), ub.end());
      msg2.push_back(static_cast<std::byte>(parity));
      msg2.resize(kMsg2Len);
      auto c = ClientHandshake::start(v.user, v.password, fixed<32>(v.s_a));
      ASSERT_TRUE(c.has_value());
      if (c->on_msg2(msg2).has_value()) {
        EXPECT_FALSE(c->on_msg4(payload_of(from_hex(v.msg4))).has_value());
      }
    }
  }
  auto minus_one = fixed<32>("7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec");
  EXPECT_FALSE(lift_x_for_test(minus_one, 0).has_value());
}

TEST(Ecsrp5, ConcurrentFirstUseIsSafe) {
  // curve() is built on first use; several threads racing into it must agree.
  std::vector<std::string> results(4);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&results, t] {
      const Vector& v = kVectors[t % 3];
      ServerHandshake s = ServerHandshake::create(kSecret, fixed<32>(v.s_b));
      if (s.on_msg1(payload_of(from_hex(v.msg1))) && s.msg2(stored(v))) {
        auto msg4 = s.on_msg3(payload_of(from_hex(v.msg3)));
        results[t] = msg4 ? to_hex(*msg4) : "fail";
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  for (std::size_t t = 0; t < results.size(); ++t) {
    EXPECT_EQ(results[t], nospace(kVectors[t % 3].msg4));
  }
}

}  // namespace
}  // namespace linerate::btest::ecsrp5
