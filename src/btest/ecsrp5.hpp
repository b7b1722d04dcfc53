// btest/ecsrp5.hpp — EC-SRP5 authentication for btest: the math and the message codec.
//
// Implements ../shared/spec/btest-protocol.md §6 (all of it) and is checked against
// the vectors of §19.2–§19.3. EC-SRP5 is MikroTik's EC-SRP variant on Curve25519,
// computed on the equivalent short Weierstrass curve; keys travel as Montgomery
// u-coordinates (32 bytes, big-endian) plus a y-parity byte (§6.2).
//
// Shape: two small state machines, one per role, that turn received payloads into
// the next frame to send. They do no I/O, so the client/server code owns sockets
// and timeouts, and tests play the spec's messages back byte for byte.
//
//   client: start() -> msg1() ; on_msg2(payload) -> MSG3 frame ; on_msg4(payload)
//   server: on_msg1(payload) -> username ; (look the user up) ; msg2(verifier) ->
//           MSG2 frame ; on_msg3(payload) -> MSG4 frame, then the caller sends OK
//
// Conventions: what a handshake *returns* is a complete frame `[len][payload]`
// (§6.5), ready to write. What it *takes* is the payload only, i.e. the `len`
// bytes after the length byte (read the length byte, then exactly that many
// bytes; parse_frame() does this on a buffer). Every input is untrusted: bad
// lengths, keys that are not on the curve (§6.8), a missing NUL, a zero-length
// message (the AUTH_FAILED reply seen through a length-prefixed reader, §6.9)
// all give an error, never a crash. Authentication failures (a proof that does not
// match, an unknown user) carry std::errc::permission_denied; malformed messages
// carry no code.
//
// Cost: the curve, generator and constants are built once per process (first
// use, thread-safe). A login is three scalar multiplications per side plus a
// few square roots; both roles do their secret multiplications with OpenSSL's
// X25519 (exact, see ecsrp5.cpp). On the 2-core VM: server ≈ 0.36 ms, client
// ≈ 0.35 ms, derive_verifier ≈ 0.1 ms (bench/micro/ecsrp5_bench.cpp).
//
// Thread-safety: free functions are safe to call from any thread. A handshake
// object is used by one thread at a time. Secrets are wiped when it is destroyed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace linerate::btest::ecsrp5 {

using Bytes = std::vector<std::byte>;
using Bytes32 = std::array<std::byte, 32>;
using Salt = std::array<std::byte, 16>;

inline constexpr std::size_t kKeyLen = 32;                     // u-coordinates, scalars, hashes (§6.2)
inline constexpr std::size_t kSaltLen = 16;                    // §6.4
inline constexpr std::size_t kMsg2Len = 49;                    // x_w_b(32) parity_b(1) salt(16), §6.5
inline constexpr std::size_t kConfirmLen = 32;                 // MSG3 client_cc, MSG4 server_cc
inline constexpr std::size_t kMaxUserLen = 255 - kKeyLen - 2;  // 221: MSG1 must fit a 1-byte length

// ---------------------------------------------------------------------------------
// §6.5 framing: [len : 1 byte][payload : len bytes]

struct Frame {
  std::span<const std::byte> payload;  // points into the input buffer
  std::size_t size_bytes = 0;          // length byte + payload: what to consume
};
/// The frame at the front of `in`, or nullopt while `in` does not yet hold all of
/// it (including when `in` is empty). Any length byte is valid here; each message
/// handler checks its own payload length.
[[nodiscard]] std::optional<Frame> parse_frame(std::span<const std::byte> in);
/// `[len][payload]`. Errors when payload is longer than 255 bytes.
[[nodiscard]] core::Result<Bytes> make_frame(std::span<const std::byte> payload);

// ---------------------------------------------------------------------------------
// §6.4 password verifier

/// What a server stores per user: salt plus to_wire(i·G).
struct Verifier {
  Salt salt{};
  Bytes32 x_gamma{};
  uint8_t gamma_parity = 0;  // 0 or 1; keep it, a fixed parity fails half the salts (§6.4)
  bool operator==(const Verifier&) const = default;
};

/// i = H(salt || H(user ":" password)), Gamma = i·G. One scalar multiplication.
[[nodiscard]] Verifier derive_verifier(std::string_view user, std::string_view password,
                                       std::span<const std::byte, kSaltLen> salt);
/// Like derive_verifier with a fresh random salt (RAND_bytes). Errors only if the RNG fails.
[[nodiscard]] core::Result<Verifier> derive_verifier(std::string_view user, std::string_view password);

/// Text form for a user database: "ecsrp5$<salt: 32 hex>$<x_gamma: 64 hex>$<parity: 0|1>",
/// lower-case hex.
[[nodiscard]] std::string to_text(const Verifier& v);
/// Parse to_text()'s form (hex of either case). Checks that x_gamma < p and is the
/// u-coordinate of a curve point. Errors are one line naming the bad field; they
/// never quote the input.
[[nodiscard]] core::Result<Verifier> verifier_from_text(std::string_view text);

/// §6.9: the stand-in for an unknown user, a pure function of (secret, user) so
/// that repeated probes see the same salt. Salt and x_gamma come from
/// HMAC-SHA256(secret, label || user); x_gamma is always a valid curve u-coordinate,
/// so the server does exactly the same work as for a real user.
[[nodiscard]] Verifier fake_verifier(std::span<const std::byte> secret, std::string_view user);

// ---------------------------------------------------------------------------------
// §6.6 client

class ClientHandshake {
 public:
  /// Begin a login with a fresh s_a from RAND_bytes. Errors: user longer than
  /// kMaxUserLen bytes or containing a NUL byte; RNG failure.
  [[nodiscard]] static core::Result<ClientHandshake> start(std::string_view user, std::string_view password);
  /// Same with a given private scalar s_a (tests, the §19.3 vectors). Never reuse an s_a.
  [[nodiscard]] static core::Result<ClientHandshake> start(std::string_view user, std::string_view password,
                                                           std::span<const std::byte, kKeyLen> s_a);

  ClientHandshake(const ClientHandshake&) = delete;
  ClientHandshake& operator=(const ClientHandshake&) = delete;
  ClientHandshake(ClientHandshake&&) noexcept = default;
  ClientHandshake& operator=(ClientHandshake&&) noexcept = default;
  ~ClientHandshake();

  /// MSG1 frame: [len] user 00 x_w_a parity_a.
  [[nodiscard]] const Bytes& msg1() const { return msg1_; }
  /// MSG2 payload (49 bytes) -> MSG3 frame. Errors: wrong length, parity byte not
  /// 0/1, x_w_b not on the curve, shared point at infinity, called twice.
  [[nodiscard]] core::Result<Bytes> on_msg2(std::span<const std::byte> payload);
  /// MSG4 payload -> ok when it is the server's proof (constant-time compare).
  /// Anything else, including an empty payload, is an authentication failure
  /// (std::errc::permission_denied). The caller then still expects the 4-byte OK.
  [[nodiscard]] core::Result<void> on_msg4(std::span<const std::byte> payload);

  /// Intermediate values of §6.6 after on_msg2, for the vector tests.
  struct SessionForTest {
    Bytes32 i{}, x_gamma{}, j{}, k{}, z{};
  };
  [[nodiscard]] const SessionForTest& session_for_test() const { return session_; }

 private:
  enum class State : uint8_t { kSentMsg1, kSentMsg3, kDone };
  ClientHandshake() = default;

  State state_ = State::kSentMsg1;
  Bytes32 s_a_{};
  Bytes32 inner_{};  // H(user ":" password); the password itself is not kept
  Bytes32 x_w_a_{};
  Bytes msg1_;
  Bytes32 server_cc_{};  // expected MSG4
  SessionForTest session_;
};

// ---------------------------------------------------------------------------------
// §6.7 server

class ServerHandshake {
 public:
  /// `fake_secret` keys fake_verifier() for unknown users (§6.9); keep it stable
  /// across restarts so probes cannot tell. s_b comes from RAND_bytes in X25519
  /// form (multiple of 8, bit 254 set), which lets msg2() use OpenSSL's X25519 for
  /// both of its secret scalar multiplications (see ecsrp5.cpp); the bytes on the
  /// wire are those of the generic path for s_b or for 8·r − s_b.
  [[nodiscard]] static core::Result<ServerHandshake> create(std::span<const std::byte> fake_secret);
  /// Same with a given private scalar s_b, taken as is (tests, the §19.3 vectors):
  /// always the generic EC_POINT path, byte-exact with the spec.
  [[nodiscard]] static ServerHandshake create(std::span<const std::byte> fake_secret,
                                              std::span<const std::byte, kKeyLen> s_b);
  /// The production path with a given s_b, which is first put in X25519 form
  /// (clamped). For the equivalence tests.
  [[nodiscard]] static ServerHandshake create_x25519_for_test(std::span<const std::byte> fake_secret,
                                                              std::span<const std::byte, kKeyLen> s_b);

  ServerHandshake(const ServerHandshake&) = delete;
  ServerHandshake& operator=(const ServerHandshake&) = delete;
  ServerHandshake(ServerHandshake&&) noexcept = default;
  ServerHandshake& operator=(ServerHandshake&&) noexcept = default;
  ~ServerHandshake();

  /// MSG1 payload -> the username to look up (bytes before the first NUL; exactly
  /// 33 bytes must follow it). Errors: too short or long, no NUL, parity byte not
  /// 0/1, x_w_a not on the curve, called twice.
  [[nodiscard]] core::Result<std::string> on_msg1(std::span<const std::byte> payload);
  /// The user's stored verifier, or nullopt for an unknown user (then a
  /// fake_verifier() answers and on_msg3 fails) -> MSG2 frame. Does all the curve
  /// work of the login. Errors: called out of order, a stored x_gamma that is not
  /// a curve point.
  [[nodiscard]] core::Result<Bytes> msg2(const std::optional<Verifier>& verifier);
  /// MSG3 payload -> MSG4 frame; the caller then sends OK. Errors: wrong length,
  /// out of order; wrong proof or unknown user (std::errc::permission_denied). On
  /// any error send AUTH_FAILED (00 00 00 00) and close (§6.9).
  [[nodiscard]] core::Result<Bytes> on_msg3(std::span<const std::byte> payload);

  /// The username from MSG1 (empty before on_msg1).
  [[nodiscard]] const std::string& user() const { return user_; }
  /// False when msg2() was given nullopt.
  [[nodiscard]] bool user_known() const { return user_known_; }

  /// Intermediate values of §6.7 after msg2(), for the vector tests.
  struct SessionForTest {
    Bytes32 j{}, z{};
  };
  [[nodiscard]] const SessionForTest& session_for_test() const { return session_; }

 private:
  enum class State : uint8_t { kStart, kGotMsg1, kSentMsg2, kDone };
  ServerHandshake() = default;

  State state_ = State::kStart;
  Bytes32 s_b_{};        // big-endian
  bool x25519_ = false;  // s_b_ is clamped: use the X25519 path
  Bytes fake_secret_;
  std::string user_;
  Bytes32 x_w_a_{};
  Bytes32 w_a_x_{}, w_a_y_{};  // W_a as Weierstrass affine (x, y), validated in on_msg1
  bool user_known_ = false;
  bool z_valid_ = false;  // false when Z was the point at infinity (§6.8)
  SessionForTest session_;
};

// ---------------------------------------------------------------------------------
// Test hooks: the internals the §19 vectors print. Not for production code.

struct AffineForTest {  // a Weierstrass point, coordinates 32 bytes BE
  Bytes32 x{}, y{};
  bool operator==(const AffineForTest&) const = default;
};
struct CurveConstantsForTest {
  Bytes32 p{}, a{}, b{}, a_third{}, r{};
  AffineForTest g;
};
/// §6.1/§6.2 constants as this module computed them.
[[nodiscard]] CurveConstantsForTest curve_constants_for_test();
/// §6.2 lift_x; nullopt when there is no point.
[[nodiscard]] std::optional<AffineForTest> lift_x_for_test(std::span<const std::byte, kKeyLen> u, uint8_t parity);
/// s·G for a 32-byte BE scalar (unreduced, unclamped).
[[nodiscard]] AffineForTest mul_generator_for_test(std::span<const std::byte, kKeyLen> scalar);
/// Whether r·P = ∞ for P = lift_x(u, parity); nullopt when there is no point.
[[nodiscard]] std::optional<bool> has_order_dividing_r_for_test(std::span<const std::byte, kKeyLen> u, uint8_t parity);
struct Redp1ForTest {
  Bytes32 first_counter{};  // H(data)
  unsigned increments = 0;  // counter increments before a point existed
  Bytes32 counter{};        // the counter that worked
  Bytes32 hash{};           // H(counter), before reduction mod p
  Bytes32 u{};              // H(counter) mod p
  AffineForTest point;
};
/// §6.3 redp1 with its intermediate values.
[[nodiscard]] Redp1ForTest redp1_for_test(std::span<const std::byte, kKeyLen> data, uint8_t parity);
/// §6.4 inner = H(user ":" password).
[[nodiscard]] Bytes32 inner_hash_for_test(std::string_view user, std::string_view password);
/// §6.4 i = H(salt || H(user ":" password)).
[[nodiscard]] Bytes32 validator_private_for_test(std::string_view user, std::string_view password,
                                                 std::span<const std::byte, kSaltLen> salt);
/// §6.6 j = H(x_w_a || x_w_b).
[[nodiscard]] Bytes32 j_for_test(std::span<const std::byte, kKeyLen> x_w_a, std::span<const std::byte, kKeyLen> x_w_b);

}  // namespace linerate::btest::ecsrp5
