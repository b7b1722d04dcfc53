// btest/protocol.hpp — the MikroTik Bandwidth Test wire codec.
//
// Implements ../shared/spec/btest-protocol.md: HELLO and replies (§2, §4), the
// 16-byte command (§3), MD5 challenge-response (§5) and the 12-byte status
// message (§12). This is the only file that knows byte order and offsets; every
// other file uses these types. All decoders take untrusted bytes and never assert.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace linerate::btest {

using Bytes4 = std::array<std::byte, 4>;
using Bytes12 = std::array<std::byte, 12>;
using Bytes16 = std::array<std::byte, 16>;
using Bytes48 = std::array<std::byte, 48>;

inline constexpr uint16_t kDefaultPort = 2000;
inline constexpr uint16_t kTcpTxSize = 0x8000;  // RouterOS always sends 32768 for TCP (§3)

// §2 / §4: four-byte messages.
inline constexpr Bytes4 kHello{std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}};
inline constexpr Bytes4 kReplyAuthFailed{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}};
inline constexpr Bytes4 kReplyMd5{std::byte{2}, std::byte{0}, std::byte{0}, std::byte{0}};
inline constexpr Bytes4 kReplyEcSrp5{std::byte{3}, std::byte{0}, std::byte{0}, std::byte{0}};

enum class Proto : uint8_t { kUdp = 0, kTcp = 1 };

/// §3.1: bit 0 = client transmits, bit 1 = server transmits.
enum class Direction : uint8_t { kClientTx = 1, kClientRx = 2, kBoth = 3 };

[[nodiscard]] constexpr bool client_sends(Direction d) { return (static_cast<uint8_t>(d) & 1) != 0; }
[[nodiscard]] constexpr bool server_sends(Direction d) { return (static_cast<uint8_t>(d) & 2) != 0; }
/// "transmit" / "receive" / "both", from the client's point of view (RouterOS words).
[[nodiscard]] std::string_view direction_name(Direction d);

/// §3: the 16-byte command.
struct Command {
  Proto proto = Proto::kTcp;
  Direction direction = Direction::kClientTx;
  bool random_payload = false;    // wire byte 2: 0x00 = random, 0x01 = zeros
  uint8_t conn_count = 0;         // 0 = single connection, else total N
  uint16_t tx_size = kTcpTxSize;  // LE
  uint16_t unknown = 0;           // bytes 6-7: always sent as 0, ignored on receipt
  uint32_t remote_tx_speed = 0;   // bit/s cap for the server's transmission, 0 = unlimited
  uint32_t local_tx_speed = 0;    // bit/s cap the client applies to itself

  /// Number of TCP connections this command asks for (conn_count 0 and 1 mean 1, §3.3).
  [[nodiscard]] unsigned connections() const { return conn_count <= 1 ? 1U : conn_count; }
  bool operator==(const Command&) const = default;
};

[[nodiscard]] Bytes16 encode_command(const Command& c);
/// Decode and validate (proto ∈ {0,1}, direction ∈ {1,2,3}). Error names the field.
[[nodiscard]] core::Result<Command> decode_command(std::span<const std::byte, 16> wire);

/// §4: a reply to the command, as the client sees it.
enum class ReplyKind { kOk, kMd5, kEcSrp5, kAuthFailed, kUnknown };
struct Reply {
  ReplyKind kind = ReplyKind::kUnknown;
  uint16_t token = 0;  // OK only: HI LO bytes, 0 when absent
};
[[nodiscard]] Reply decode_reply(std::span<const std::byte, 4> wire);
/// `01 HI LO 00` (token 0 gives plain OK).
[[nodiscard]] Bytes4 encode_ok(uint16_t token);

/// §5: hash = MD5(password || MD5(password || challenge)).
[[nodiscard]] Bytes16 md5_auth_hash(std::string_view password, std::span<const std::byte, 16> challenge);
/// §5: 48-byte client response: hash || username NUL-padded/truncated to 32 bytes.
[[nodiscard]] Bytes48 encode_md5_response(std::string_view user, std::string_view password,
                                          std::span<const std::byte, 16> challenge);
struct Md5Response {
  Bytes16 hash{};
  std::string user;  // bytes before the first NUL (at most 32)
};
[[nodiscard]] Md5Response decode_md5_response(std::span<const std::byte, 48> wire);
/// Server check: constant-time hash compare plus username match.
[[nodiscard]] bool md5_response_valid(const Md5Response& r, std::string_view user, std::string_view password,
                                      std::span<const std::byte, 16> challenge);

/// §12: the 12-byte status message.
struct Status {
  std::optional<uint8_t> cpu_percent;  // nullopt when bit 7 of the CPU byte is clear
  uint32_t seq = 0;
  uint32_t bytes = 0;  // received during the last interval
};
inline constexpr std::byte kStatusType{0x07};
/// cpu is clamped to 100; bytes saturate at 0xFFFFFFFF (§12.2).
[[nodiscard]] Bytes12 encode_status(uint32_t seq, unsigned cpu_percent, uint64_t bytes);
/// Decode a record already known to start with 0x07 (no validation beyond that).
[[nodiscard]] core::Result<Status> decode_status(std::span<const std::byte, 12> wire);

/// Render bytes as "01 00 00 00" for messages and logs.
[[nodiscard]] std::string hex(std::span<const std::byte> bytes);

}  // namespace linerate::btest
