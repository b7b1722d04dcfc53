// btest/protocol.cpp — see protocol.hpp; section numbers refer to the spec.
#include "btest/protocol.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace linerate::btest {

namespace {
constexpr uint8_t u8(std::byte b) { return static_cast<uint8_t>(b); }
constexpr std::byte b8(unsigned v) { return static_cast<std::byte>(v & 0xFF); }

void put_le16(std::byte* p, uint16_t v) {
  p[0] = b8(v);
  p[1] = b8(v >> 8);
}
void put_le32(std::byte* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    p[i] = b8(v >> (8 * i));
  }
}
uint16_t get_le16(const std::byte* p) { return static_cast<uint16_t>(u8(p[0]) | (u8(p[1]) << 8)); }
uint32_t get_le32(const std::byte* p) {
  return static_cast<uint32_t>(u8(p[0])) | (static_cast<uint32_t>(u8(p[1])) << 8) |
         (static_cast<uint32_t>(u8(p[2])) << 16) | (static_cast<uint32_t>(u8(p[3])) << 24);
}

Bytes16 md5(std::span<const std::byte> a, std::span<const std::byte> b) {
  Bytes16 out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned len = 0;
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()), &len);
  EVP_MD_CTX_free(ctx);
  return out;
}
}  // namespace

std::string_view direction_name(Direction d) {
  switch (d) {
    case Direction::kClientTx:
      return "transmit";
    case Direction::kClientRx:
      return "receive";
    case Direction::kBoth:
      return "both";
  }
  return "?";
}

Bytes16 encode_command(const Command& c) {
  Bytes16 w{};
  w[0] = b8(static_cast<uint8_t>(c.proto));
  w[1] = b8(static_cast<uint8_t>(c.direction));
  w[2] = b8(c.random_payload ? 0x00 : 0x01);
  w[3] = b8(c.conn_count);
  put_le16(&w[4], c.tx_size);
  put_le16(&w[6], c.unknown);
  put_le32(&w[8], c.remote_tx_speed);
  put_le32(&w[12], c.local_tx_speed);
  return w;
}

core::Result<Command> decode_command(std::span<const std::byte, 16> w) {
  Command c;
  uint8_t proto = u8(w[0]);
  uint8_t dir = u8(w[1]);
  if (proto > 1) {
    return core::fail("bad command: protocol byte " + hex(w.subspan(0, 1)) + " (expected 00 UDP or 01 TCP)");
  }
  if (dir < 1 || dir > 3) {
    return core::fail("bad command: direction byte " + hex(w.subspan(1, 1)) + " (expected 01, 02 or 03)");
  }
  c.proto = static_cast<Proto>(proto);
  c.direction = static_cast<Direction>(dir);
  // §3: 0x00 means random; any other value is treated as "zeros" (RouterOS default 01).
  c.random_payload = u8(w[2]) == 0x00;
  c.conn_count = u8(w[3]);
  c.tx_size = get_le16(&w[4]);
  c.unknown = get_le16(&w[6]);
  c.remote_tx_speed = get_le32(&w[8]);
  c.local_tx_speed = get_le32(&w[12]);
  return c;
}

Reply decode_reply(std::span<const std::byte, 4> w) {
  Reply r;
  uint8_t b0 = u8(w[0]);
  bool tail_zero = u8(w[3]) == 0;
  if (b0 == 1 && tail_zero) {
    r.kind = ReplyKind::kOk;
    r.token = static_cast<uint16_t>((u8(w[1]) << 8) | u8(w[2]));
  } else if (b0 == 2 && u8(w[1]) == 0 && u8(w[2]) == 0 && tail_zero) {
    r.kind = ReplyKind::kMd5;
  } else if (b0 == 3 && u8(w[1]) == 0 && u8(w[2]) == 0 && tail_zero) {
    r.kind = ReplyKind::kEcSrp5;
  } else if (b0 == 0 && u8(w[1]) == 0 && u8(w[2]) == 0 && tail_zero) {
    r.kind = ReplyKind::kAuthFailed;
  }
  return r;
}

Bytes4 encode_ok(uint16_t token) { return {std::byte{1}, b8(token >> 8), b8(token), std::byte{0}}; }

Bytes16 md5_auth_hash(std::string_view password, std::span<const std::byte, 16> challenge) {
  auto pw = std::as_bytes(std::span(password.data(), password.size()));
  Bytes16 inner = md5(pw, challenge);
  return md5(pw, inner);
}

Bytes48 encode_md5_response(std::string_view user, std::string_view password,
                            std::span<const std::byte, 16> challenge) {
  Bytes48 out{};
  Bytes16 h = md5_auth_hash(password, challenge);
  std::copy(h.begin(), h.end(), out.begin());
  std::size_t n = std::min<std::size_t>(user.size(), 32);
  if (n > 0) {  // an empty string_view may have a null data(): memcpy(dst, nullptr, 0) is UB
    std::memcpy(out.data() + 16, user.data(), n);
  }
  return out;
}

Md5Response decode_md5_response(std::span<const std::byte, 48> w) {
  Md5Response r;
  std::copy_n(w.begin(), 16, r.hash.begin());
  const char* name = reinterpret_cast<const char*>(w.data() + 16);
  std::size_t len = 0;
  while (len < 32 && name[len] != '\0') {
    ++len;
  }
  r.user.assign(name, len);
  return r;
}

bool md5_response_valid(const Md5Response& r, std::string_view user, std::string_view password,
                        std::span<const std::byte, 16> challenge) {
  Bytes16 want = md5_auth_hash(password, challenge);
  bool hash_ok = CRYPTO_memcmp(want.data(), r.hash.data(), want.size()) == 0;
  // The username field holds at most 32 bytes (§5): compare what fits.
  std::string_view expect_user = user.substr(0, std::min<std::size_t>(user.size(), 32));
  return hash_ok && r.user == expect_user;
}

Bytes12 encode_status(uint32_t seq, unsigned cpu_percent, uint64_t bytes) {
  Bytes12 w{};
  w[0] = kStatusType;
  w[1] = b8(0x80U | std::min(cpu_percent, 100U));
  put_le32(&w[4], seq);
  put_le32(&w[8], bytes > 0xFFFFFFFFULL ? 0xFFFFFFFFU : static_cast<uint32_t>(bytes));
  return w;
}

core::Result<Status> decode_status(std::span<const std::byte, 12> w) {
  if (w[0] != kStatusType) {
    return core::fail("bad status message: type byte " + hex(w.subspan(0, 1)) + " (expected 07)");
  }
  Status s;
  uint8_t cpu = u8(w[1]);
  if ((cpu & 0x80) != 0) {
    s.cpu_percent = static_cast<uint8_t>(std::min(cpu & 0x7F, 100));
  }
  s.seq = get_le32(&w[4]);
  s.bytes = get_le32(&w[8]);
  return s;
}

std::string hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) {
      out += ' ';
    }
    out += kDigits[u8(bytes[i]) >> 4];
    out += kDigits[u8(bytes[i]) & 0xF];
  }
  return out;
}

}  // namespace linerate::btest
