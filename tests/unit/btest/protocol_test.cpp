// Unit tests for btest/protocol: the wire codec, checked byte for byte against the
// spec (../shared/spec/btest-protocol.md §3.2, §4, §12, §19.1, §19.4).
#include "btest/protocol.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "hex_test_util.hpp"

namespace linerate::btest {
namespace {

using linerate::testing::fixed;
using linerate::testing::from_hex;

template <std::size_t N>
std::string hex_of(const std::array<std::byte, N>& a) {
  return hex(std::span<const std::byte>(a));
}

// ---- §3 command ---------------------------------------------------------------

struct CommandVector {
  std::string_view wire;
  Command want;
};

Command cmd(Proto proto, Direction dir, bool random, uint8_t conns, uint16_t tx_size, uint32_t remote, uint32_t local) {
  Command c;
  c.proto = proto;
  c.direction = dir;
  c.random_payload = random;
  c.conn_count = conns;
  c.tx_size = tx_size;
  c.remote_tx_speed = remote;
  c.local_tx_speed = local;
  return c;
}

// Every example of §3.2, the published captures and the ones the spec encoded itself.
const CommandVector kCommandVectors[] = {
    {"01 01 01 00 00 80 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kTcp, Direction::kClientTx, false, 0, 0x8000, 0, 0)},
    {"01 01 00 00 00 80 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kTcp, Direction::kClientTx, true, 0, 0x8000, 0, 0)},
    {"00 01 01 00 dc 05 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kUdp, Direction::kClientTx, false, 0, 1500, 0, 0)},
    {"01 02 01 00 00 80 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kTcp, Direction::kClientRx, false, 0, 0x8000, 0, 0)},
    {"00 02 01 00 d0 07 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kUdp, Direction::kClientRx, false, 0, 2000, 0, 0)},
    {"00 02 01 00 00 fa 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kUdp, Direction::kClientRx, false, 0, 64000, 0, 0)},
    {"01 02 01 00 00 80 00 00 01 00 00 00 00 00 00 00", cmd(Proto::kTcp, Direction::kClientRx, false, 0, 0x8000, 1, 0)},
    {"01 02 01 00 00 80 00 00 00 00 00 00 ff ff ff ff",
     cmd(Proto::kTcp, Direction::kClientRx, false, 0, 0x8000, 0, 4294967295U)},
    {"01 02 01 0a 00 80 00 00 00 00 00 00 00 00 00 00",
     cmd(Proto::kTcp, Direction::kClientRx, false, 10, 0x8000, 0, 0)},
    {"01 03 01 14 00 80 00 00 00 00 00 00 00 00 00 00", cmd(Proto::kTcp, Direction::kBoth, false, 20, 0x8000, 0, 0)},
    {"00 03 01 00 e8 03 00 00 2c 01 00 00 2c 01 00 00", cmd(Proto::kUdp, Direction::kBoth, false, 0, 1000, 300, 300)},
    {"00 02 01 00 dc 05 00 00 00 e1 f5 05 00 00 00 00",
     cmd(Proto::kUdp, Direction::kClientRx, false, 0, 1500, 100'000'000, 0)},
    {"00 01 01 00 dc 05 00 00 00 00 00 00 80 f0 fa 02",
     cmd(Proto::kUdp, Direction::kClientTx, false, 0, 1500, 0, 50'000'000)},
};

TEST(Command, PublishedExamplesDecode) {
  for (const auto& v : kCommandVectors) {
    auto wire = fixed<16>(v.wire);
    auto c = decode_command(wire);
    ASSERT_TRUE(c.has_value()) << v.wire << ": " << c.error().message();
    EXPECT_EQ(*c, v.want) << v.wire;
  }
}

TEST(Command, PublishedExamplesReencodeByteForByte) {
  for (const auto& v : kCommandVectors) {
    EXPECT_EQ(hex_of(encode_command(v.want)), v.wire);
    auto c = decode_command(fixed<16>(v.wire));
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(hex_of(encode_command(*c)), v.wire);
  }
}

TEST(Command, DirectionBitsMatchSpec) {
  EXPECT_TRUE(client_sends(Direction::kClientTx));
  EXPECT_FALSE(server_sends(Direction::kClientTx));
  EXPECT_FALSE(client_sends(Direction::kClientRx));
  EXPECT_TRUE(server_sends(Direction::kClientRx));
  EXPECT_TRUE(client_sends(Direction::kBoth));
  EXPECT_TRUE(server_sends(Direction::kBoth));
  EXPECT_EQ(direction_name(Direction::kClientTx), "transmit");
  EXPECT_EQ(direction_name(Direction::kClientRx), "receive");
  EXPECT_EQ(direction_name(Direction::kBoth), "both");
}

TEST(Command, ConnectionsTreatsZeroAndOneAsSingle) {
  Command c;
  c.conn_count = 0;
  EXPECT_EQ(c.connections(), 1U);
  c.conn_count = 1;
  EXPECT_EQ(c.connections(), 1U);
  c.conn_count = 20;
  EXPECT_EQ(c.connections(), 20U);
  c.conn_count = 255;
  EXPECT_EQ(c.connections(), 255U);
}

TEST(Command, NonZeroRandomByteMeansZeros) {
  auto c = decode_command(fixed<16>("01 01 7f 00 00 80 00 00 00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(c.has_value());
  EXPECT_FALSE(c->random_payload);
}

TEST(Command, UnknownFieldIsDecodedButNotInterpreted) {
  auto c = decode_command(fixed<16>("01 01 01 00 00 80 34 12 00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->unknown, 0x1234);
  EXPECT_EQ(c->tx_size, 0x8000);
}

TEST(Command, RejectsInvalidProtoNamingTheByte) {
  for (std::string_view b : {"02", "ff", "80"}) {
    std::string wire = std::string(b) + " 01 01 00 00 80 00 00 00 00 00 00 00 00 00 00";
    auto c = decode_command(fixed<16>(wire));
    ASSERT_FALSE(c.has_value()) << wire;
    std::string msg = c.error().message();
    EXPECT_NE(msg.find("protocol byte " + std::string(b)), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(Command, RejectsInvalidDirectionNamingTheByte) {
  for (std::string_view b : {"00", "04", "ff"}) {
    std::string wire = "01 " + std::string(b) + " 01 00 00 80 00 00 00 00 00 00 00 00 00 00";
    auto c = decode_command(fixed<16>(wire));
    ASSERT_FALSE(c.has_value()) << wire;
    std::string msg = c.error().message();
    EXPECT_NE(msg.find("direction byte " + std::string(b)), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// ---- §2 / §4 replies ----------------------------------------------------------

TEST(Reply, ConstantsMatchSpec) {
  EXPECT_EQ(hex_of(kHello), "01 00 00 00");
  EXPECT_EQ(hex_of(kReplyAuthFailed), "00 00 00 00");
  EXPECT_EQ(hex_of(kReplyMd5), "02 00 00 00");
  EXPECT_EQ(hex_of(kReplyEcSrp5), "03 00 00 00");
}

TEST(Reply, PlainOk) {
  Reply r = decode_reply(fixed<4>("01 00 00 00"));
  EXPECT_EQ(r.kind, ReplyKind::kOk);
  EXPECT_EQ(r.token, 0);
}

TEST(Reply, OkWithSessionToken) {
  Reply r = decode_reply(fixed<4>("01 bc 04 00"));
  EXPECT_EQ(r.kind, ReplyKind::kOk);
  EXPECT_EQ(r.token, 0xbc04);
}

TEST(Reply, AuthenticationKinds) {
  EXPECT_EQ(decode_reply(fixed<4>("02 00 00 00")).kind, ReplyKind::kMd5);
  EXPECT_EQ(decode_reply(fixed<4>("03 00 00 00")).kind, ReplyKind::kEcSrp5);
  EXPECT_EQ(decode_reply(fixed<4>("00 00 00 00")).kind, ReplyKind::kAuthFailed);
}

TEST(Reply, GarbageIsUnknown) {
  for (std::string_view bad : {"01 00 00 01", "02 00 00 01", "02 01 00 00", "03 00 01 00", "00 00 00 01", "00 01 00 00",
                               "04 00 00 00", "07 85 00 00", "ff ff ff ff"}) {
    Reply r = decode_reply(fixed<4>(bad));
    EXPECT_EQ(r.kind, ReplyKind::kUnknown) << bad;
    EXPECT_EQ(r.token, 0) << bad;
  }
}

TEST(Reply, EncodeOk) {
  EXPECT_EQ(hex_of(encode_ok(0)), "01 00 00 00");
  EXPECT_EQ(hex_of(encode_ok(0xbc04)), "01 bc 04 00");
  EXPECT_EQ(hex_of(encode_ok(0xffff)), "01 ff ff 00");
  EXPECT_EQ(decode_reply(encode_ok(0x1234)).token, 0x1234);
}

// ---- §5 / §19.1 MD5 -------------------------------------------------------------

struct Md5Vector {
  std::string_view user;
  std::string_view password;
  std::string_view challenge;
  std::string_view hash;
  std::string_view response;  // 48 bytes
};

const Md5Vector kMd5Vectors[] = {
    {"test", "test", "ad32d6f94d28161625f2f390bb895637", "3c968565bc0314f281a6da1571cf7255",
     "3c968565bc0314f281a6da1571cf7255 74657374 00000000000000000000000000000000000000000000000000000000"},
    {"admin", "secret", "000102030405060708090a0b0c0d0e0f", "9a93c18b7a1ef40299d1b61f80a4b592",
     "9a93c18b7a1ef40299d1b61f80a4b592 61646d696e 000000000000000000000000000000000000000000000000000000"},
    {"admin", "", "ffffffffffffffffffffffffffffffff", "d1096c73e4bec6f9dd017fb2a10b1b54",
     "d1096c73e4bec6f9dd017fb2a10b1b54 61646d696e 000000000000000000000000000000000000000000000000000000"},
    {"testuser", "testpass", "0123456789abcdeffedcba9876543210", "5435758bd1cce1f12d84b3d606fbcabe",
     "5435758bd1cce1f12d84b3d606fbcabe 7465737475736572 000000000000000000000000000000000000000000000000"},
};

TEST(Md5, AuthHashMatchesVectors) {
  for (const auto& v : kMd5Vectors) {
    auto challenge = fixed<16>(v.challenge);
    EXPECT_EQ(hex_of(md5_auth_hash(v.password, challenge)), hex_of(fixed<16>(v.hash))) << v.user;
  }
}

TEST(Md5, ResponseMatchesVectorsByteForByte) {
  for (const auto& v : kMd5Vectors) {
    auto challenge = fixed<16>(v.challenge);
    EXPECT_EQ(hex_of(encode_md5_response(v.user, v.password, challenge)), hex_of(fixed<48>(v.response))) << v.user;
  }
}

TEST(Md5, ResponseDecodesHashAndUser) {
  for (const auto& v : kMd5Vectors) {
    Md5Response r = decode_md5_response(fixed<48>(v.response));
    EXPECT_EQ(hex_of(r.hash), hex_of(fixed<16>(v.hash)));
    EXPECT_EQ(r.user, v.user);
  }
}

TEST(Md5, ServerAcceptsRightPassword) {
  for (const auto& v : kMd5Vectors) {
    auto challenge = fixed<16>(v.challenge);
    Md5Response r = decode_md5_response(fixed<48>(v.response));
    EXPECT_TRUE(md5_response_valid(r, v.user, v.password, challenge)) << v.user;
  }
}

TEST(Md5, ServerRejectsWrongPassword) {
  for (const auto& v : kMd5Vectors) {
    auto challenge = fixed<16>(v.challenge);
    Md5Response r = decode_md5_response(fixed<48>(v.response));
    EXPECT_FALSE(md5_response_valid(r, v.user, std::string(v.password) + "x", challenge)) << v.user;
  }
}

TEST(Md5, ServerRejectsWrongUser) {
  for (const auto& v : kMd5Vectors) {
    auto challenge = fixed<16>(v.challenge);
    Md5Response r = decode_md5_response(fixed<48>(v.response));
    EXPECT_FALSE(md5_response_valid(r, "someoneelse", v.password, challenge)) << v.user;
    EXPECT_FALSE(md5_response_valid(r, std::string(v.user) + "x", v.password, challenge)) << v.user;
    EXPECT_FALSE(md5_response_valid(r, "", v.password, challenge)) << v.user;
  }
}

TEST(Md5, ServerRejectsOtherChallenge) {
  const auto& v = kMd5Vectors[0];
  auto other = fixed<16>("00000000000000000000000000000000");
  Md5Response r = decode_md5_response(fixed<48>(v.response));
  EXPECT_FALSE(md5_response_valid(r, v.user, v.password, other));
}

TEST(Md5, LongUserIsTruncatedTo32BytesWithoutTerminator) {
  std::string user(40, 'u');
  user[31] = 'z';
  auto challenge = fixed<16>("000102030405060708090a0b0c0d0e0f");
  Bytes48 wire = encode_md5_response(user, "pw", challenge);
  EXPECT_EQ(wire[47], std::byte{'z'});
  Md5Response r = decode_md5_response(wire);
  EXPECT_EQ(r.user, user.substr(0, 32));
  EXPECT_TRUE(md5_response_valid(r, user, "pw", challenge));
}

TEST(Md5, EmptyUserAndPassword) {
  auto challenge = fixed<16>("ffffffffffffffffffffffffffffffff");
  Bytes48 wire = encode_md5_response(std::string_view{}, std::string_view{}, challenge);
  EXPECT_EQ(hex_of(md5_auth_hash(std::string_view{}, challenge)), "d1 09 6c 73 e4 be c6 f9 dd 01 7f b2 a1 0b 1b 54");
  for (std::size_t i = 16; i < 48; ++i) {
    EXPECT_EQ(wire[i], std::byte{0});
  }
  Md5Response r = decode_md5_response(wire);
  EXPECT_EQ(r.user, "");
  EXPECT_TRUE(md5_response_valid(r, "", "", challenge));
}

// ---- §12 / §19.4 status -----------------------------------------------------------

TEST(Status, EncodesSpecVectors) {
  EXPECT_EQ(hex_of(encode_status(1, 5, 1'249'500)), "07 85 00 00 01 00 00 00 dc 10 13 00");
  EXPECT_EQ(hex_of(encode_status(300, 17, 125'000'000)), "07 91 00 00 2c 01 00 00 40 59 73 07");
  EXPECT_EQ(hex_of(encode_status(1, 89, 0)), "07 d9 00 00 01 00 00 00 00 00 00 00");
  EXPECT_EQ(hex_of(encode_status(1, 100, 0)), "07 e4 00 00 01 00 00 00 00 00 00 00");
}

TEST(Status, DecodesSpecVectors) {
  auto a = decode_status(fixed<12>("07 85 00 00 01 00 00 00 dc 10 13 00"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->cpu_percent, std::optional<uint8_t>(5));
  EXPECT_EQ(a->seq, 1U);
  EXPECT_EQ(a->bytes, 1'249'500U);
  auto b = decode_status(fixed<12>("07 91 00 00 2c 01 00 00 40 59 73 07"));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->cpu_percent, std::optional<uint8_t>(17));
  EXPECT_EQ(b->seq, 300U);
  EXPECT_EQ(b->bytes, 125'000'000U);
  auto c = decode_status(fixed<12>("07 e4 00 00 01 00 00 00 00 00 00 00"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->cpu_percent, std::optional<uint8_t>(100));
}

TEST(Status, RoundTripsByteForByte) {
  for (std::string_view v : {"07 85 00 00 01 00 00 00 dc 10 13 00", "07 91 00 00 2c 01 00 00 40 59 73 07",
                             "07 d9 00 00 01 00 00 00 00 00 00 00", "07 80 00 00 ff ff ff ff ff ff ff ff"}) {
    auto s = decode_status(fixed<12>(v));
    ASSERT_TRUE(s.has_value()) << v;
    ASSERT_TRUE(s->cpu_percent.has_value()) << v;
    EXPECT_EQ(hex_of(encode_status(s->seq, *s->cpu_percent, s->bytes)), v);
  }
}

TEST(Status, CpuByteWithoutBit7IsUnknown) {
  auto s = decode_status(fixed<12>("07 00 00 00 02 00 00 00 10 00 00 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->cpu_percent.has_value());
  EXPECT_EQ(s->seq, 2U);
  EXPECT_EQ(s->bytes, 16U);
  auto t = decode_status(fixed<12>("07 45 00 00 02 00 00 00 00 00 00 00"));
  ASSERT_TRUE(t.has_value());
  EXPECT_FALSE(t->cpu_percent.has_value());
}

TEST(Status, DecodedCpuIsClampedTo100) {
  auto s = decode_status(fixed<12>("07 ff 00 00 01 00 00 00 00 00 00 00"));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->cpu_percent, std::optional<uint8_t>(100));
}

TEST(Status, EncodedCpuIsClampedTo100) {
  EXPECT_EQ(hex_of(encode_status(1, 250, 0)), "07 e4 00 00 01 00 00 00 00 00 00 00");
}

TEST(Status, BytesSaturateAtU32Max) {
  EXPECT_EQ(hex_of(encode_status(7, 0, 0xFFFFFFFFULL)), "07 80 00 00 07 00 00 00 ff ff ff ff");
  EXPECT_EQ(hex_of(encode_status(7, 0, 0x100000000ULL)), "07 80 00 00 07 00 00 00 ff ff ff ff");
  EXPECT_EQ(hex_of(encode_status(7, 0, UINT64_MAX)), "07 80 00 00 07 00 00 00 ff ff ff ff");
}

TEST(Status, SequenceIsLittleEndian) {
  EXPECT_EQ(hex_of(encode_status(0x01020304, 0, 0)), "07 80 00 00 04 03 02 01 00 00 00 00");
}

TEST(Status, RejectsWrongTypeByteNamingIt) {
  auto s = decode_status(fixed<12>("08 85 00 00 01 00 00 00 00 00 00 00"));
  ASSERT_FALSE(s.has_value());
  EXPECT_NE(s.error().message().find("type byte 08"), std::string::npos) << s.error().message();
}

TEST(Hex, RendersLowercaseSpaced) {
  EXPECT_EQ(hex(std::span<const std::byte>()), "");
  auto b = fixed<4>("01 ab cd ef");
  EXPECT_EQ(hex_of(b), "01 ab cd ef");
}

}  // namespace
}  // namespace linerate::btest
