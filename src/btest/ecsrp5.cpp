// btest/ecsrp5.cpp — see ecsrp5.hpp; section numbers refer to the spec (§6, §19).
//
// Arithmetic: OpenSSL EC_POINT on the short Weierstrass form of Curve25519,
// y² = x³ + a·x + b over p = 2^255 − 19, generator G = lift_x(9, 0), order r,
// cofactor 8 (§6.1). The group is the whole curve (order 8·r), so points outside
// the prime-order subgroup — W_b and every redp1 output are such points (§6.8) —
// multiply correctly: EC_POINT_mul with a single scalar and a single point (or
// only the generator) runs OpenSSL's Montgomery ladder, which reduces the scalar
// modulo 8·r, the cardinality of the group. Vectors A–C check exactly this.
//
// Everything that does not depend on a login — p, a, b, A, A/3, r, the square
// root constants, the Montgomery context and the EC_GROUP with its generator — is
// built once per process by curve() and then only read, so any number of threads
// share it. It is never destroyed (no exit-time ordering hazards; it stays
// reachable, so LeakSanitizer does not count it).
//
// The production server (random s_b) does its two secret multiplications, s_b·G
// and Z = s_b·T, with OpenSSL's X25519 instead, about 9× faster; s_b is then drawn
// in X25519 form. That path is exact, not an approximation: its bytes equal the
// generic path's for the scalar s_b or 8·r − s_b (see msg2(); the unit tests check
// this). Injected keys (the §19.3 vectors) always take the generic path.
//
// The client (and derive_verifier) cannot choose its scalars — s_a may be injected
// and i, k are hashes — so it rewrites each one exactly into X25519 form and, where
// it needs y or a point outside the subgroup, resolves the sign with a second
// X25519 call (see "X25519 for arbitrary scalars"); the rare inputs where that
// cannot be decided (probability ~2^-125 for honest inputs) fall back to
// EC_POINT_mul. The results are the generic path's byte for byte, vectors included.
// (EC_GROUP_precompute_mult would not help: OpenSSL 3 sends every secret s·G to
// its ladder and uses the table only on the variable-time wNAF path.)
//
// Per login: BIGNUMs and points are owned by unique_ptrs with *_clear_free
// deleters; temporaries come from one BN_CTX per call. An OpenSSL failure on a
// per-login path clears the thread's error queue and becomes a Result error.
#include "btest/ecsrp5.hpp"

#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <utility>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/check.hpp"

namespace linerate::btest::ecsrp5 {

namespace {

constexpr uint8_t u8(std::byte b) { return static_cast<uint8_t>(b); }
const unsigned char* uc(const std::byte* p) { return reinterpret_cast<const unsigned char*>(p); }
unsigned char* uc(std::byte* p) { return reinterpret_cast<unsigned char*>(p); }

// ---- RAII for OpenSSL objects ------------------------------------------------------

struct BnFree {
  void operator()(BIGNUM* b) const noexcept { BN_clear_free(b); }
};
using Bn = std::unique_ptr<BIGNUM, BnFree>;
struct PointFree {
  void operator()(EC_POINT* p) const noexcept { EC_POINT_clear_free(p); }
};
using Point = std::unique_ptr<EC_POINT, PointFree>;
struct CtxFree {
  void operator()(BN_CTX* c) const noexcept { BN_CTX_free(c); }
};
using Ctx = std::unique_ptr<BN_CTX, CtxFree>;
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

// Allocation failures are fatal, as for operator new.
Bn new_bn() {
  Bn b(BN_new());
  LR_CHECK(b != nullptr);
  return b;
}
Ctx new_ctx() {
  Ctx c(BN_CTX_new());
  LR_CHECK(c != nullptr);
  return c;
}
Bn bn_from(std::span<const std::byte> be) {
  Bn b(BN_bin2bn(uc(be.data()), static_cast<int>(be.size()), nullptr));
  LR_CHECK(b != nullptr);
  return b;
}
// Values here are < p or < r, so they always fit.
Bytes32 bytes_of(const BIGNUM* b) {
  Bytes32 out{};
  LR_CHECK(BN_bn2binpad(b, uc(out.data()), static_cast<int>(out.size())) == static_cast<int>(out.size()));
  return out;
}

tl::unexpected<core::Error> ossl_fail(const std::string& what) {
  ERR_clear_error();
  return core::fail("EC-SRP5: " + what + " (OpenSSL error)");
}

// ---- hashing ---------------------------------------------------------------------

Bytes32 sha256(std::initializer_list<std::span<const std::byte>> parts) {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  LR_CHECK(md != nullptr);
  LR_CHECK(EVP_DigestInit_ex(md.get(), EVP_sha256(), nullptr) == 1);
  for (auto part : parts) {
    LR_CHECK(EVP_DigestUpdate(md.get(), part.data(), part.size()) == 1);
  }
  Bytes32 out{};
  unsigned len = 0;
  LR_CHECK(EVP_DigestFinal_ex(md.get(), uc(out.data()), &len) == 1 && len == out.size());
  return out;
}

std::span<const std::byte> as_bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// §6.4 inner = H(user ":" password).
Bytes32 password_hash(std::string_view user, std::string_view password) {
  return sha256({as_bytes(user), as_bytes(":"), as_bytes(password)});
}

Bytes32 hmac_sha256(std::span<const std::byte> key, std::string_view label, std::string_view user) {
  Bytes msg;
  msg.reserve(label.size() + 1 + user.size());
  auto l = as_bytes(label);
  auto u = as_bytes(user);
  msg.insert(msg.end(), l.begin(), l.end());
  msg.push_back(std::byte{0});
  msg.insert(msg.end(), u.begin(), u.end());
  static constexpr std::byte kNoKey{0};
  const std::byte* k = key.empty() ? &kNoKey : key.data();  // HMAC() wants a non-null key
  Bytes32 out{};
  unsigned len = 0;
  LR_CHECK(HMAC(EVP_sha256(), k, static_cast<int>(key.size()), uc(msg.data()), msg.size(), uc(out.data()), &len) !=
               nullptr &&
           len == out.size());
  return out;
}

// ---- the curve -------------------------------------------------------------------

struct Curve {
  EC_GROUP* group = nullptr;
  BIGNUM* p = nullptr;
  BIGNUM* a = nullptr;         // Weierstrass a
  BIGNUM* b = nullptr;         // Weierstrass b
  BIGNUM* mont_a = nullptr;    // Montgomery A = 486662
  BIGNUM* a_third = nullptr;   // A/3 mod p: x = u + A/3
  BIGNUM* r = nullptr;         // order of G
  BIGNUM* sqrt_exp = nullptr;  // (p + 3) / 8
  BIGNUM* sqrt_m1 = nullptr;   // 2^((p − 1)/4), a square root of −1
  BIGNUM* zero = nullptr;
  BN_MONT_CTX* mont = nullptr;
  EC_POINT* g_neg8 = nullptr;  // −8·G, for x25519_point()
};

BIGNUM* raw_bn() {
  BIGNUM* b = BN_new();
  LR_CHECK(b != nullptr);
  return b;
}

// §6.2 lift_x(u, parity): the Weierstrass point (u + A/3, y) with y² = u³ + A·u² + u
// and y ≡ parity (mod 2), or nullptr when u³ + A·u² + u is not a square (u is on
// the twist). u may be any non-negative integer; it is reduced mod p first.
// Square root for p ≡ 5 (mod 8): y = t^((p+3)/8), times √−1 if that squares to −t.
// t = 0 gives y = 0 whatever the parity (p − 0 ≡ 0).
Point lift_x(const Curve& c, const BIGNUM* u_in, unsigned parity, BN_CTX* ctx) {
  BN_CTX_start(ctx);
  BIGNUM* u = BN_CTX_get(ctx);
  BIGNUM* t = BN_CTX_get(ctx);
  BIGNUM* y = BN_CTX_get(ctx);
  BIGNUM* sq = BN_CTX_get(ctx);
  BIGNUM* x = BN_CTX_get(ctx);
  Point out;
  bool ok = x != nullptr && BN_nnmod(u, u_in, c.p, ctx) == 1 &&
            // t = ((u + A)·u + 1)·u
            BN_mod_add_quick(t, u, c.mont_a, c.p) == 1 && BN_mod_mul(t, t, u, c.p, ctx) == 1 &&
            BN_mod_add_quick(t, t, BN_value_one(), c.p) == 1 && BN_mod_mul(t, t, u, c.p, ctx) == 1 &&
            BN_mod_exp_mont_consttime(y, t, c.sqrt_exp, c.p, ctx, c.mont) == 1 && BN_mod_sqr(sq, y, c.p, ctx) == 1;
  if (ok && BN_cmp(sq, t) != 0) {
    ok = BN_mod_mul(y, y, c.sqrt_m1, c.p, ctx) == 1 && BN_mod_sqr(sq, y, c.p, ctx) == 1;
    if (ok && BN_cmp(sq, t) != 0) {
      ok = false;  // not a square: no point
    }
  }
  if (ok && !BN_is_zero(y) && static_cast<unsigned>(BN_is_odd(y)) != parity) {
    ok = BN_sub(y, c.p, y) == 1;
  }
  if (ok) {
    ok = BN_mod_add_quick(x, u, c.a_third, c.p) == 1;
  }
  if (ok) {
    out.reset(EC_POINT_new(c.group));
    LR_CHECK(out != nullptr);
    if (EC_POINT_set_affine_coordinates(c.group, out.get(), x, y, ctx) != 1) {
      out.reset();
    }
  }
  BN_CTX_end(ctx);
  if (!out) {
    ERR_clear_error();
  }
  return out;
}

const Curve* build_curve() {
  auto* c = new Curve;
  Ctx ctx = new_ctx();
  BN_CTX* x = ctx.get();
  c->p = raw_bn();
  c->a = raw_bn();
  c->b = raw_bn();
  c->mont_a = raw_bn();
  c->a_third = raw_bn();
  c->r = raw_bn();
  c->sqrt_exp = raw_bn();
  c->sqrt_m1 = raw_bn();
  c->zero = raw_bn();
  BN_zero(c->zero);
  Bn three = new_bn();
  Bn inv3 = new_bn();
  Bn inv27 = new_bn();
  Bn t = new_bn();
  Bn t2 = new_bn();
  // §6.1: p = 2^255 − 19, A = 486662, a = (3 − A²)/3, b = (2A³ − 9A)/27, x = u + A/3.
  LR_CHECK(BN_set_bit(c->p, 255) == 1 && BN_sub_word(c->p, 19) == 1);
  LR_CHECK(BN_set_word(c->mont_a, 486662) == 1 && BN_set_word(three.get(), 3) == 1);
  LR_CHECK(BN_mod_inverse(inv3.get(), three.get(), c->p, x) != nullptr);
  LR_CHECK(BN_mod_sqr(inv27.get(), inv3.get(), c->p, x) == 1 &&
           BN_mod_mul(inv27.get(), inv27.get(), inv3.get(), c->p, x) == 1);
  LR_CHECK(BN_mod_sqr(t.get(), c->mont_a, c->p, x) == 1 && BN_mod_sub(t.get(), three.get(), t.get(), c->p, x) == 1 &&
           BN_mod_mul(c->a, t.get(), inv3.get(), c->p, x) == 1);
  LR_CHECK(BN_mod_sqr(t.get(), c->mont_a, c->p, x) == 1 && BN_mod_mul(t.get(), t.get(), c->mont_a, c->p, x) == 1 &&
           BN_mod_add(t.get(), t.get(), t.get(), c->p, x) == 1 && BN_set_word(t2.get(), 9) == 1 &&
           BN_mod_mul(t2.get(), t2.get(), c->mont_a, c->p, x) == 1 &&
           BN_mod_sub(t.get(), t.get(), t2.get(), c->p, x) == 1 &&
           BN_mod_mul(c->b, t.get(), inv27.get(), c->p, x) == 1);
  LR_CHECK(BN_mod_mul(c->a_third, c->mont_a, inv3.get(), c->p, x) == 1);
  LR_CHECK(BN_hex2bn(&c->r, "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed") != 0);
  // Square roots (§6.2): (p + 3)/8 and √−1 = 2^((p − 1)/4).
  LR_CHECK(BN_copy(c->sqrt_exp, c->p) != nullptr && BN_add_word(c->sqrt_exp, 3) == 1 &&
           BN_rshift(c->sqrt_exp, c->sqrt_exp, 3) == 1);
  LR_CHECK(BN_copy(t.get(), c->p) != nullptr && BN_sub_word(t.get(), 1) == 1 && BN_rshift(t.get(), t.get(), 2) == 1 &&
           BN_set_word(t2.get(), 2) == 1 && BN_mod_exp(c->sqrt_m1, t2.get(), t.get(), c->p, x) == 1);
  c->mont = BN_MONT_CTX_new();
  LR_CHECK(c->mont != nullptr && BN_MONT_CTX_set(c->mont, c->p, x) == 1);
  c->group = EC_GROUP_new_curve_GFp(c->p, c->a, c->b, x);
  LR_CHECK(c->group != nullptr);
  // §6.2: G = lift_x(9, 0); group order r, cofactor 8.
  Bn nine = new_bn();
  LR_CHECK(BN_set_word(nine.get(), 9) == 1);
  Point g = lift_x(*c, nine.get(), 0, x);
  Bn cofactor = new_bn();
  LR_CHECK(g != nullptr && BN_set_word(cofactor.get(), 8) == 1);
  LR_CHECK(EC_GROUP_set_generator(c->group, g.get(), c->r, cofactor.get()) == 1);
  c->g_neg8 = EC_POINT_new(c->group);
  LR_CHECK(c->g_neg8 != nullptr && EC_POINT_dbl(c->group, c->g_neg8, g.get(), x) == 1 &&
           EC_POINT_dbl(c->group, c->g_neg8, c->g_neg8, x) == 1 &&
           EC_POINT_dbl(c->group, c->g_neg8, c->g_neg8, x) == 1 && EC_POINT_invert(c->group, c->g_neg8, x) == 1);
  return c;
}

const Curve& curve() {
  static const Curve* const c = build_curve();  // thread-safe init; never destroyed (see top)
  return *c;
}

Point new_point(const Curve& c) {
  Point p(EC_POINT_new(c.group));
  LR_CHECK(p != nullptr);
  return p;
}

// g·G + s·P through EC_POINT_mul; nullptr on an OpenSSL failure. Which of the
// two terms are present decides which OpenSSL path runs (see the callers).
Point ec_mul(const Curve& c, const BIGNUM* g, const EC_POINT* pt, const BIGNUM* s, BN_CTX* ctx) {
  Point out = new_point(c);
  if (EC_POINT_mul(c.group, out.get(), g, pt, s, ctx) != 1) {
    ERR_clear_error();
    out.reset();
  }
  return out;
}

// s·G (s unreduced, unclamped). nullptr on an OpenSSL failure.
Point mul_g(const Curve& c, const BIGNUM* s, BN_CTX* ctx) { return ec_mul(c, s, nullptr, nullptr, ctx); }

// s·P for any curve point P and a secret s: OpenSSL runs its constant-time ladder
// for exactly this call shape (one point, no generator term), modulo the group
// cardinality 8·r, so points outside the subgroup come out right.
Point mul(const Curve& c, const EC_POINT* pt, const BIGNUM* s, BN_CTX* ctx) { return ec_mul(c, nullptr, pt, s, ctx); }

// s·P for a *public* s (j): passing a zero generator term makes OpenSSL take its
// variable-time wNAF path, about 15 % faster than the ladder. Never for secrets.
Point mul_public(const Curve& c, const EC_POINT* pt, const BIGNUM* s, BN_CTX* ctx) {
  return ec_mul(c, c.zero, pt, s, ctx);
}

Point add(const Curve& c, const EC_POINT* p, const EC_POINT* q, BN_CTX* ctx) {
  Point out = new_point(c);
  if (EC_POINT_add(c.group, out.get(), p, q, ctx) != 1) {
    ERR_clear_error();
    out.reset();
  }
  return out;
}

struct Wire {
  Bytes32 u{};
  uint8_t parity = 0;
};

// §6.2 to_wire: (x − A/3 mod p, y mod 2); nullopt for the point at infinity.
std::optional<Wire> to_wire(const Curve& c, const EC_POINT* pt, BN_CTX* ctx) {
  if (EC_POINT_is_at_infinity(c.group, pt) == 1) {
    return std::nullopt;
  }
  BN_CTX_start(ctx);
  BIGNUM* x = BN_CTX_get(ctx);
  BIGNUM* y = BN_CTX_get(ctx);
  std::optional<Wire> out;
  if (y != nullptr && EC_POINT_get_affine_coordinates(c.group, pt, x, y, ctx) == 1 &&
      BN_mod_sub(x, x, c.a_third, c.p, ctx) == 1) {
    out = Wire{bytes_of(x), static_cast<uint8_t>(BN_is_odd(y) ? 1 : 0)};
  } else {
    ERR_clear_error();
  }
  BN_CTX_end(ctx);
  return out;
}

std::optional<AffineForTest> affine(const Curve& c, const EC_POINT* pt, BN_CTX* ctx) {
  if (pt == nullptr || EC_POINT_is_at_infinity(c.group, pt) == 1) {
    return std::nullopt;
  }
  Bn x = new_bn();
  Bn y = new_bn();
  if (EC_POINT_get_affine_coordinates(c.group, pt, x.get(), y.get(), ctx) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  return AffineForTest{bytes_of(x.get()), bytes_of(y.get())};
}

Point point_from_affine(const Curve& c, const Bytes32& x, const Bytes32& y, BN_CTX* ctx) {
  Bn bx = bn_from(x);
  Bn by = bn_from(y);
  Point out = new_point(c);
  if (EC_POINT_set_affine_coordinates(c.group, out.get(), bx.get(), by.get(), ctx) != 1) {
    ERR_clear_error();
    out.reset();
  }
  return out;
}

// §6.3 redp1(data, parity). The counter is incremented, not the inner hash. Each
// round finds a point with probability about 1/2, so the bound is never reached
// in practice (2^-128); past it we report failure rather than loop.
constexpr unsigned kRedp1MaxRounds = 128;

void increment_be(Bytes32& c) {
  for (std::size_t k = c.size(); k-- > 0;) {
    c[k] = static_cast<std::byte>(u8(c[k]) + 1);
    if (c[k] != std::byte{0}) {
      return;
    }
  }
}

Point redp1(const Curve& c, std::span<const std::byte, kKeyLen> data, unsigned parity, BN_CTX* ctx,
            Redp1ForTest* trace) {
  Bytes32 counter = sha256({data});
  if (trace != nullptr) {
    trace->first_counter = counter;
  }
  for (unsigned round = 0; round < kRedp1MaxRounds; ++round) {
    Bytes32 h = sha256({counter});
    Bn u = bn_from(h);  // lift_x reduces mod p
    Point pt = lift_x(c, u.get(), parity, ctx);
    if (pt) {
      if (trace != nullptr) {
        trace->increments = round;
        trace->counter = counter;
        trace->hash = h;
        Bn reduced = new_bn();
        LR_CHECK(BN_nnmod(reduced.get(), u.get(), c.p, ctx) == 1);
        trace->u = bytes_of(reduced.get());
        trace->point = affine(c, pt.get(), ctx).value_or(AffineForTest{});
      }
      return pt;
    }
    increment_be(counter);
  }
  return nullptr;
}

core::Result<Bytes32> random32() {
  Bytes32 out{};
  if (RAND_bytes(uc(out.data()), static_cast<int>(out.size())) != 1) {
    ERR_clear_error();
    return core::fail("EC-SRP5: RAND_bytes failed");
  }
  return out;
}

// ---- X25519 (server fast path) ---------------------------------------------------
//
// OpenSSL's X25519 is the Montgomery ladder on Curve25519 u-coordinates with
// optimised field code: about 30 µs per multiplication here, against about 270 µs
// for EC_POINT_mul on our generic GFp group. It takes any u on the curve or its
// twist, so for a scalar s that is already in X25519 form (a multiple of 8 with
// bit 254 set, below 2^255; "clamping" leaves it unchanged) it returns exactly
// u(s·P) for every curve point P, ∞ giving 0 (which OpenSSL reports as an error).
// It gives no y, hence the sign trick in ServerHandshake::msg2().

struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* c) const noexcept { EVP_PKEY_CTX_free(c); }
};

Bytes32 reversed(const Bytes32& b) {
  Bytes32 out{};
  std::reverse_copy(b.begin(), b.end(), out.begin());
  return out;
}

// Big-endian scalar to X25519 form (RFC 7748 clamping).
void clamp_be(Bytes32& s) {
  s[31] &= std::byte{0xf8};
  s[0] &= std::byte{0x7f};
  s[0] |= std::byte{0x40};
}

// An X25519 private key for a clamped big-endian scalar; nullptr when OpenSSL has
// no X25519 (the caller falls back to the generic path).
Pkey x25519_key(const Bytes32& s_be) {
  Bytes32 le = reversed(s_be);
  Pkey k(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, uc(le.data()), le.size()));
  OPENSSL_cleanse(le.data(), le.size());
  if (!k) {
    ERR_clear_error();
  }
  return k;
}

// u(s·G), big-endian: OpenSSL derives the public key when the private key is made.
std::optional<Bytes32> x25519_public_u(EVP_PKEY* key) {
  Bytes32 le{};
  std::size_t len = le.size();
  if (EVP_PKEY_get_raw_public_key(key, uc(le.data()), &len) != 1 || len != le.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  return reversed(le);
}

// u(s·P) for P with u-coordinate u_be, big-endian; nullopt when s·P = ∞ (or on an
// OpenSSL failure, which the caller treats the same: the login fails).
std::optional<Bytes32> x25519_derive(EVP_PKEY* key, const Bytes32& u_be) {
  Bytes32 u_le = reversed(u_be);
  Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, uc(u_le.data()), u_le.size()));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(peer ? EVP_PKEY_CTX_new(key, nullptr) : nullptr);
  Bytes32 out{};
  std::size_t len = out.size();
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer.get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), uc(out.data()), &len) != 1 || len != out.size()) {
    ERR_clear_error();
    return std::nullopt;
  }
  Bytes32 be = reversed(out);
  OPENSSL_cleanse(out.data(), out.size());
  return be;
}

// ---- X25519 for arbitrary scalars (client, derive_verifier) -----------------------
//
// X25519 only takes scalars in X25519 form: 2^254 ≤ s < 2^255 and 8 | s. The client's
// scalars (s_a, i, k) are arbitrary, so they are first rewritten, exactly:
//  * For P = G (order r): u(s·G) = u(s'·G) for every s' ≡ ±s (mod r). Among
//    s mod r + m·r and m·r − s mod r (0 ≤ m ≤ 8) exactly one of each family is a
//    multiple of 8 (r is odd), and one of the two lies in [2^254, 2^255) unless
//    s mod r is within 8·(8r − 2^255) ≈ 2^127 of 0 or r (x_form_mod_r).
//  * For any curve point P (order divides 8·r; W_b and V may lie outside the
//    subgroup): u(k·P) = u(−k·P) = u((8r − k)·P), and 8r − k = k1 + c with
//    c = (−k) mod 8 and k1 in X25519 form for 0 ≤ k < r − 2^128 or so. Then
//    −k·P = k1·P + c·P, which needs k1·P with its sign (x25519_point).
// x25519_point gets T = k1·P up to sign from u(T), i.e. Q = lift_x(u(T), 0) ∈ {T, −T},
// and tells which from u2 = u((k1 − 8)·P), a second X25519: Q = T gives
// u(Q − 8P) = u2 and Q = −T gives u(−Q − 8P) = u2. When exactly one of the two
// candidates matches, that candidate is T; otherwise (both match, only when 16·P
// or 2·T is ∞, or any X25519 output is 0, or a scalar is out of range) the caller
// falls back to the generic EC_POINT_mul. Every result is therefore the generic
// path's, bit for bit; the §19.3 vectors and the unit tests check it.

// True when v is in X25519 form (and so is v − 8, if need_minus8).
bool in_x_form(const BIGNUM* v, bool need_minus8, BN_CTX* ctx) {
  if (BN_is_negative(v) || BN_num_bits(v) != 255 || BN_is_bit_set(v, 0) || BN_is_bit_set(v, 1) || BN_is_bit_set(v, 2)) {
    return false;
  }
  if (!need_minus8) {
    return true;
  }
  BN_CTX_start(ctx);
  BIGNUM* t = BN_CTX_get(ctx);
  bool ok = t != nullptr && BN_copy(t, v) != nullptr && BN_sub_word(t, 8) == 1 && BN_num_bits(t) == 255;
  BN_CTX_end(ctx);
  return ok;
}

struct XScalar {
  Bytes32 k{};          // big-endian, X25519 form
  bool negate = false;  // k ≡ −s (mod r) rather than +s
};

// s' in X25519 form with s' ≡ ±s (mod r); nullopt when none of the candidates fits
// (including s ≡ 0 mod r, which the generic path reports).
std::optional<XScalar> x_form_mod_r(const Curve& c, const BIGNUM* s, bool need_minus8, BN_CTX* ctx) {
  BN_CTX_start(ctx);
  BIGNUM* s0 = BN_CTX_get(ctx);
  BIGNUM* mr = BN_CTX_get(ctx);
  BIGNUM* v = BN_CTX_get(ctx);
  std::optional<XScalar> out;
  if (v != nullptr && BN_nnmod(s0, s, c.r, ctx) == 1 && !BN_is_zero(s0)) {
    BN_zero(mr);
    for (int m = 0; m <= 8 && !out; ++m) {
      if (BN_add(v, s0, mr) == 1 && in_x_form(v, need_minus8, ctx)) {
        out = XScalar{bytes_of(v), false};
      } else if (BN_sub(v, mr, s0) == 1 && in_x_form(v, need_minus8, ctx)) {
        out = XScalar{bytes_of(v), true};
      }
      if (BN_add(mr, mr, c.r) != 1) {
        break;
      }
    }
  }
  BN_CTX_end(ctx);
  ERR_clear_error();
  return out;
}

// u(k·P) for k in X25519 form: the fixed-base public key when P = G (faster), else a derive.
std::optional<Bytes32> x25519_u(const Bytes32& k_be, const Bytes32* u_p) {
  Pkey key = x25519_key(k_be);
  if (!key) {
    return std::nullopt;
  }
  return u_p == nullptr ? x25519_public_u(key.get()) : x25519_derive(key.get(), *u_p);
}

// k1·P exactly (with its y), for k1 and k1 − 8 in X25519 form; P = G when u_p is
// nullptr. neg8p = −8·P. nullptr when the sign cannot be told (see above).
Point x25519_point(const Curve& c, const BIGNUM* k1, const EC_POINT* neg8p, const Bytes32* u_p, BN_CTX* ctx) {
  Bn k2 = new_bn();
  if (BN_copy(k2.get(), k1) == nullptr || BN_sub_word(k2.get(), 8) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  Bytes32 k1b = bytes_of(k1);
  Bytes32 k2b = bytes_of(k2.get());
  std::optional<Bytes32> u1 = x25519_u(k1b, u_p);
  std::optional<Bytes32> u2 = u1 ? x25519_u(k2b, u_p) : std::nullopt;
  OPENSSL_cleanse(k1b.data(), k1b.size());
  OPENSSL_cleanse(k2b.data(), k2b.size());
  if (!u2) {
    return nullptr;
  }
  Bn ub = bn_from(*u1);
  Point q = lift_x(c, ub.get(), 0, ctx);
  if (!q) {
    return nullptr;
  }
  Point qn = new_point(c);
  if (EC_POINT_copy(qn.get(), q.get()) != 1 || EC_POINT_invert(c.group, qn.get(), ctx) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  Point a = add(c, q.get(), neg8p, ctx);
  Point b = add(c, qn.get(), neg8p, ctx);
  std::optional<Wire> aw = a ? to_wire(c, a.get(), ctx) : std::nullopt;
  std::optional<Wire> bw = b ? to_wire(c, b.get(), ctx) : std::nullopt;
  if (!aw || !bw) {
    return nullptr;
  }
  bool am = aw->u == *u2;
  bool bm = bw->u == *u2;
  if (am && !bm) {
    return q;
  }
  if (bm && !am) {
    return qn;
  }
  return nullptr;
}

// s·G exactly via X25519; nullptr means "use mul_g" (never a different answer).
Point x25519_mul_g(const Curve& c, const BIGNUM* s, BN_CTX* ctx) {
  std::optional<XScalar> xs = x_form_mod_r(c, s, true, ctx);
  if (!xs) {
    return nullptr;
  }
  Bn k1 = bn_from(xs->k);
  OPENSSL_cleanse(xs->k.data(), xs->k.size());
  Point t = x25519_point(c, k1.get(), c.g_neg8, nullptr, ctx);
  if (t && xs->negate && EC_POINT_invert(c.group, t.get(), ctx) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return t;
}

// u(s·G) via X25519; nullopt means "use mul_g".
std::optional<Bytes32> x25519_u_mul_g(const Curve& c, const BIGNUM* s, BN_CTX* ctx) {
  std::optional<XScalar> xs = x_form_mod_r(c, s, false, ctx);
  if (!xs) {
    return std::nullopt;
  }
  std::optional<Bytes32> u = x25519_u(xs->k, nullptr);
  OPENSSL_cleanse(xs->k.data(), xs->k.size());
  return u;
}

// The client's Z = k·P for 0 ≤ k < r and any point P, exactly, as a to_wire result:
// the outer nullopt means "use the generic path", an inner nullopt is Z = ∞.
std::optional<std::optional<Wire>> x25519_mul(const Curve& c, const EC_POINT* p, const BIGNUM* k, BN_CTX* ctx) {
  std::optional<Wire> pw = to_wire(c, p, ctx);
  if (!pw) {
    return std::nullopt;  // P = ∞
  }
  Bn k1 = new_bn();
  Bn eight_r = new_bn();
  // k1 = 8r − k − c with c = (8r − k) mod 8
  if (BN_lshift(eight_r.get(), c.r, 3) != 1 || BN_sub(k1.get(), eight_r.get(), k) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  BN_ULONG cc = BN_mod_word(k1.get(), 8);
  if (cc == static_cast<BN_ULONG>(-1) || BN_sub_word(k1.get(), cc) != 1 || !in_x_form(k1.get(), true, ctx)) {
    ERR_clear_error();
    return std::nullopt;
  }
  // 2P, 4P, 8P; c·P = Σ bits, always the same two additions.
  Point p2 = new_point(c);
  Point p4 = new_point(c);
  Point neg8p = new_point(c);
  Point inf = new_point(c);
  if (EC_POINT_dbl(c.group, p2.get(), p, ctx) != 1 || EC_POINT_dbl(c.group, p4.get(), p2.get(), ctx) != 1 ||
      EC_POINT_dbl(c.group, neg8p.get(), p4.get(), ctx) != 1 || EC_POINT_invert(c.group, neg8p.get(), ctx) != 1 ||
      EC_POINT_set_to_infinity(c.group, inf.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  Point t = x25519_point(c, k1.get(), neg8p.get(), &pw->u, ctx);
  if (!t) {
    return std::nullopt;
  }
  Point s1 = add(c, t.get(), (cc & 1U) != 0 ? p : inf.get(), ctx);
  Point s2 = s1 ? add(c, s1.get(), (cc & 2U) != 0 ? p2.get() : inf.get(), ctx) : nullptr;
  Point z = s2 ? add(c, s2.get(), (cc & 4U) != 0 ? p4.get() : inf.get(), ctx) : nullptr;
  if (!z) {
    return std::nullopt;
  }
  return to_wire(c, z.get(), ctx);  // −k·P: the same u as k·P
}

std::optional<uint8_t> parity_of(std::byte b) {
  if (u8(b) > 1) {
    return std::nullopt;
  }
  return u8(b);
}

Bytes frame_of(std::span<const std::byte> payload) {
  LR_CHECK(payload.size() <= 255);  // our own messages only
  Bytes out;
  out.reserve(payload.size() + 1);
  out.push_back(static_cast<std::byte>(payload.size()));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

void wipe(void* p, std::size_t n) { OPENSSL_cleanse(p, n); }

// ---- hex for the verifier text -----------------------------------------------------

int hex_value(char ch) {
  if (ch >= '0' && ch <= '9') {
    return ch - '0';
  }
  if (ch >= 'a' && ch <= 'f') {
    return ch - 'a' + 10;
  }
  if (ch >= 'A' && ch <= 'F') {
    return ch - 'A' + 10;
  }
  return -1;
}

template <std::size_t N>
std::optional<std::array<std::byte, N>> parse_hex(std::string_view text) {
  if (text.size() != 2 * N) {
    return std::nullopt;
  }
  std::array<std::byte, N> out{};
  for (std::size_t k = 0; k < N; ++k) {
    int hi = hex_value(text[2 * k]);
    int lo = hex_value(text[2 * k + 1]);
    if (hi < 0 || lo < 0) {
      return std::nullopt;
    }
    out[k] = static_cast<std::byte>((hi << 4) | lo);
  }
  return out;
}

void append_hex(std::string& out, std::span<const std::byte> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::byte b : bytes) {
    out += kHex[u8(b) >> 4];
    out += kHex[u8(b) & 0xF];
  }
}

constexpr std::string_view kTextTag = "ecsrp5";

}  // namespace

// ---- framing ----------------------------------------------------------------------

std::optional<Frame> parse_frame(std::span<const std::byte> in) {
  if (in.empty()) {
    return std::nullopt;
  }
  std::size_t len = u8(in[0]);
  if (in.size() < 1 + len) {
    return std::nullopt;
  }
  return Frame{in.subspan(1, len), 1 + len};
}

core::Result<Bytes> make_frame(std::span<const std::byte> payload) {
  if (payload.size() > 255) {
    return core::fail("EC-SRP5: message payload is " + std::to_string(payload.size()) +
                      " bytes, a 1-byte length allows at most 255");
  }
  return frame_of(payload);
}

// ---- verifier ---------------------------------------------------------------------

Verifier derive_verifier(std::string_view user, std::string_view password, std::span<const std::byte, kSaltLen> salt) {
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bytes32 inner = password_hash(user, password);
  Bytes32 i = sha256({salt, inner});
  Bn ib = bn_from(i);
  Point gamma = x25519_mul_g(c, ib.get(), ctx.get());
  if (!gamma) {
    gamma = mul_g(c, ib.get(), ctx.get());
  }
  LR_CHECK(gamma != nullptr);
  // i·G = ∞ only if r divides i: a SHA-256 output that is a multiple of r (never).
  std::optional<Wire> w = to_wire(c, gamma.get(), ctx.get());
  LR_CHECK(w.has_value());
  Verifier v;
  std::copy(salt.begin(), salt.end(), v.salt.begin());
  v.x_gamma = w->u;
  v.gamma_parity = w->parity;
  wipe(inner.data(), inner.size());
  wipe(i.data(), i.size());
  return v;
}

core::Result<Verifier> derive_verifier(std::string_view user, std::string_view password) {
  Salt salt{};
  if (RAND_bytes(uc(salt.data()), static_cast<int>(salt.size())) != 1) {
    ERR_clear_error();
    return core::fail("EC-SRP5: RAND_bytes failed");
  }
  return derive_verifier(user, password, salt);
}

std::string to_text(const Verifier& v) {
  std::string out(kTextTag);
  out += '$';
  append_hex(out, v.salt);
  out += '$';
  append_hex(out, v.x_gamma);
  out += '$';
  out += v.gamma_parity == 0 ? '0' : '1';
  return out;
}

core::Result<Verifier> verifier_from_text(std::string_view text) {
  // Split on '$' into exactly four fields.
  std::array<std::string_view, 4> f{};
  std::size_t n = 0;
  std::size_t start = 0;
  for (std::size_t k = 0; k <= text.size(); ++k) {
    if (k == text.size() || text[k] == '$') {
      if (n == f.size()) {
        return core::fail("bad EC-SRP5 verifier: more than 4 '$'-separated fields");
      }
      f[n++] = text.substr(start, k - start);
      start = k + 1;
    }
  }
  if (n != f.size()) {
    return core::fail("bad EC-SRP5 verifier: expected ecsrp5$<salt>$<x_gamma>$<parity>, got " + std::to_string(n) +
                      " field(s)");
  }
  if (f[0] != kTextTag) {
    return core::fail("bad EC-SRP5 verifier: does not start with \"ecsrp5$\"");
  }
  auto salt = parse_hex<kSaltLen>(f[1]);
  if (!salt) {
    return core::fail("bad EC-SRP5 verifier: salt must be 32 hex digits");
  }
  auto x_gamma = parse_hex<kKeyLen>(f[2]);
  if (!x_gamma) {
    return core::fail("bad EC-SRP5 verifier: x_gamma must be 64 hex digits");
  }
  if (f[3] != "0" && f[3] != "1") {
    return core::fail("bad EC-SRP5 verifier: parity must be 0 or 1");
  }
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bn u = bn_from(*x_gamma);
  if (BN_cmp(u.get(), c.p) >= 0) {
    return core::fail("bad EC-SRP5 verifier: x_gamma is not reduced mod p");
  }
  Verifier v{*salt, *x_gamma, static_cast<uint8_t>(f[3] == "1" ? 1 : 0)};
  if (!lift_x(c, u.get(), v.gamma_parity, ctx.get())) {
    return core::fail("bad EC-SRP5 verifier: x_gamma is not the u-coordinate of a curve point");
  }
  return v;
}

Verifier fake_verifier(std::span<const std::byte> secret, std::string_view user) {
  Bytes32 salt_src = hmac_sha256(secret, "linerate ecsrp5 fake salt", user);
  Bytes32 seed = hmac_sha256(secret, "linerate ecsrp5 fake verifier", user);
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  // A hash-to-curve u-coordinate: any parity lifts, like a real x_gamma. Its point
  // is not i·G for a known i, which nobody can tell without the verifier.
  Point pt = redp1(c, seed, 0, ctx.get(), nullptr);
  LR_CHECK(pt != nullptr);  // 2^-128, see kRedp1MaxRounds
  std::optional<Wire> w = to_wire(c, pt.get(), ctx.get());
  LR_CHECK(w.has_value());
  Verifier v;
  std::copy_n(salt_src.begin(), kSaltLen, v.salt.begin());
  v.x_gamma = w->u;
  v.gamma_parity = static_cast<uint8_t>(u8(seed[0]) & 1);
  return v;
}

// ---- client (§6.6) -------------------------------------------------------------------

ClientHandshake::~ClientHandshake() {
  wipe(s_a_.data(), s_a_.size());
  wipe(inner_.data(), inner_.size());
  wipe(server_cc_.data(), server_cc_.size());
  wipe(&session_, sizeof session_);
}

core::Result<ClientHandshake> ClientHandshake::start(std::string_view user, std::string_view password) {
  auto s_a = random32();
  if (!s_a) {
    return tl::unexpected(s_a.error());
  }
  auto h = start(user, password, *s_a);
  wipe(s_a->data(), s_a->size());
  return h;
}

core::Result<ClientHandshake> ClientHandshake::start(std::string_view user, std::string_view password,
                                                     std::span<const std::byte, kKeyLen> s_a) {
  if (user.size() > kMaxUserLen) {
    return core::fail("EC-SRP5: username is " + std::to_string(user.size()) + " bytes, at most " +
                      std::to_string(kMaxUserLen) + " fit in MSG1");
  }
  if (user.find('\0') != std::string_view::npos) {
    return core::fail("EC-SRP5: username contains a NUL byte");
  }
  ClientHandshake h;
  std::copy(s_a.begin(), s_a.end(), h.s_a_.begin());
  h.inner_ = password_hash(user, password);
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bn s = bn_from(s_a);
  Point w_a = x25519_mul_g(c, s.get(), ctx.get());  // exact; nullptr: generic path
  if (!w_a) {
    w_a = mul_g(c, s.get(), ctx.get());
  }
  if (!w_a) {
    return ossl_fail("computing W_a = s_a*G");
  }
  std::optional<Wire> w = to_wire(c, w_a.get(), ctx.get());
  if (!w) {
    return core::fail("EC-SRP5: s_a is a multiple of the group order");
  }
  h.x_w_a_ = w->u;
  // MSG1 = [len] user 00 x_w_a parity_a (§6.5)
  auto ub = as_bytes(user);
  Bytes payload(ub.begin(), ub.end());
  payload.push_back(std::byte{0});
  payload.insert(payload.end(), w->u.begin(), w->u.end());
  payload.push_back(static_cast<std::byte>(w->parity));
  h.msg1_ = frame_of(payload);
  return h;
}

core::Result<Bytes> ClientHandshake::on_msg2(std::span<const std::byte> payload) {
  if (state_ != State::kSentMsg1) {
    return core::fail("EC-SRP5: unexpected MSG2 (already answered)");
  }
  state_ = State::kDone;  // any error ends the handshake
  if (payload.size() != kMsg2Len) {
    return core::fail("EC-SRP5: MSG2 is " + std::to_string(payload.size()) + " bytes, expected " +
                      std::to_string(kMsg2Len));
  }
  auto x_w_b = payload.subspan<0, kKeyLen>();
  std::optional<uint8_t> parity_b = parity_of(payload[kKeyLen]);
  auto salt = payload.subspan<kKeyLen + 1, kSaltLen>();
  if (!parity_b) {
    return core::fail("EC-SRP5: MSG2 parity byte is " + std::to_string(u8(payload[kKeyLen])) + ", expected 0 or 1");
  }
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  BN_CTX* x = ctx.get();

  Bn wb_u = bn_from(x_w_b);
  Point w_b = lift_x(c, wb_u.get(), *parity_b, x);
  if (!w_b) {
    return core::fail("EC-SRP5: server key x_w_b in MSG2 is not on the curve");
  }
  // i = H(salt || inner); x_gamma = to_wire(i·G).u; V = redp1(x_gamma, 1)
  session_.i = sha256({salt, inner_});
  Bn i = bn_from(session_.i);
  // Only u(i·G) is needed, which X25519 gives exactly (sign-free).
  if (std::optional<Bytes32> xg = x25519_u_mul_g(c, i.get(), x)) {
    session_.x_gamma = *xg;
  } else {
    Point gamma = mul_g(c, i.get(), x);
    if (!gamma) {
      return ossl_fail("computing i*G");
    }
    std::optional<Wire> gw = to_wire(c, gamma.get(), x);
    if (!gw) {
      return core::fail("EC-SRP5: i*G is the point at infinity");
    }
    session_.x_gamma = gw->u;
  }
  Point v = redp1(c, session_.x_gamma, 1, x, nullptr);
  if (!v) {
    return core::fail("EC-SRP5: redp1 found no point");
  }
  // B = W_b + V removes the server's password blinding: B = s_b·G.
  Point b = add(c, w_b.get(), v.get(), x);
  if (!b) {
    return ossl_fail("computing W_b + V");
  }
  // j = H(x_w_a || x_w_b) over the u-coordinates as sent; k = (i·j + s_a) mod r
  session_.j = sha256({x_w_a_, x_w_b});
  Bn j = bn_from(session_.j);
  Bn s_a = bn_from(s_a_);
  Bn k = new_bn();
  if (BN_mod_mul(k.get(), i.get(), j.get(), c.r, x) != 1 || BN_mod_add(k.get(), k.get(), s_a.get(), c.r, x) != 1) {
    return ossl_fail("computing k");
  }
  session_.k = bytes_of(k.get());
  std::optional<Wire> zw;
  if (std::optional<std::optional<Wire>> fast = x25519_mul(c, b.get(), k.get(), x)) {
    zw = *fast;
  } else {
    Point z = mul(c, b.get(), k.get(), x);
    if (!z) {
      return ossl_fail("computing Z = k*B");
    }
    zw = to_wire(c, z.get(), x);
  }
  if (!zw) {
    return core::fail("EC-SRP5: shared point Z is the point at infinity (bad MSG2)");
  }
  session_.z = zw->u;
  Bytes32 client_cc = sha256({session_.j, session_.z});
  server_cc_ = sha256({session_.j, client_cc, session_.z});
  state_ = State::kSentMsg3;
  return frame_of(client_cc);
}

core::Result<void> ClientHandshake::on_msg4(std::span<const std::byte> payload) {
  if (state_ != State::kSentMsg3) {
    return core::fail("EC-SRP5: unexpected MSG4 (no MSG3 sent)");
  }
  state_ = State::kDone;
  if (payload.size() != kConfirmLen) {
    return core::fail(std::errc::permission_denied, "EC-SRP5: server sent a " + std::to_string(payload.size()) +
                                                        "-byte MSG4 instead of its proof (wrong password?)");
  }
  if (CRYPTO_memcmp(payload.data(), server_cc_.data(), server_cc_.size()) != 0) {
    return core::fail(std::errc::permission_denied, "EC-SRP5: server proof in MSG4 does not match");
  }
  return {};
}

// ---- server (§6.7) -------------------------------------------------------------------

ServerHandshake::~ServerHandshake() {
  wipe(s_b_.data(), s_b_.size());
  wipe(&session_, sizeof session_);
  if (!fake_secret_.empty()) {
    wipe(fake_secret_.data(), fake_secret_.size());
  }
}

core::Result<ServerHandshake> ServerHandshake::create(std::span<const std::byte> fake_secret) {
  auto s_b = random32();
  if (!s_b) {
    return tl::unexpected(s_b.error());
  }
  ServerHandshake h = create_x25519_for_test(fake_secret, *s_b);
  wipe(s_b->data(), s_b->size());
  return h;
}

ServerHandshake ServerHandshake::create_x25519_for_test(std::span<const std::byte> fake_secret,
                                                        std::span<const std::byte, kKeyLen> s_b) {
  ServerHandshake h = create(fake_secret, s_b);
  clamp_be(h.s_b_);  // 251 random bits, still far more than the 128-bit security level
  h.x25519_ = true;
  return h;
}

ServerHandshake ServerHandshake::create(std::span<const std::byte> fake_secret,
                                        std::span<const std::byte, kKeyLen> s_b) {
  ServerHandshake h;
  std::copy(s_b.begin(), s_b.end(), h.s_b_.begin());
  h.fake_secret_.assign(fake_secret.begin(), fake_secret.end());
  return h;
}

core::Result<std::string> ServerHandshake::on_msg1(std::span<const std::byte> payload) {
  if (state_ != State::kStart) {
    return core::fail("EC-SRP5: unexpected second MSG1");
  }
  state_ = State::kDone;                      // any error ends the handshake
  constexpr std::size_t kTail = kKeyLen + 1;  // x_w_a parity_a after the NUL
  if (payload.size() > 255) {
    return core::fail("EC-SRP5: MSG1 is " + std::to_string(payload.size()) + " bytes, at most 255");
  }
  auto nul = std::find(payload.begin(), payload.end(), std::byte{0});
  if (nul == payload.end()) {
    return core::fail("EC-SRP5: MSG1 has no NUL after the username");
  }
  auto user_len = static_cast<std::size_t>(nul - payload.begin());
  if (payload.size() - user_len - 1 != kTail) {
    return core::fail("EC-SRP5: MSG1 has " + std::to_string(payload.size() - user_len - 1) +
                      " bytes after the username, expected " + std::to_string(kTail));
  }
  auto x_w_a = payload.subspan(user_len + 1).first<kKeyLen>();
  std::optional<uint8_t> parity_a = parity_of(payload.back());
  if (!parity_a) {
    return core::fail("EC-SRP5: MSG1 parity byte is " + std::to_string(u8(payload.back())) + ", expected 0 or 1");
  }
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bn u = bn_from(x_w_a);
  Point w_a = lift_x(c, u.get(), *parity_a, ctx.get());
  if (!w_a) {
    return core::fail("EC-SRP5: client key x_w_a in MSG1 is not on the curve");
  }
  std::optional<AffineForTest> aff = affine(c, w_a.get(), ctx.get());
  if (!aff) {
    return ossl_fail("reading W_a");
  }
  w_a_x_ = aff->x;
  w_a_y_ = aff->y;
  std::copy(x_w_a.begin(), x_w_a.end(), x_w_a_.begin());
  user_.assign(reinterpret_cast<const char*>(payload.data()), user_len);
  state_ = State::kGotMsg1;
  return user_;
}

core::Result<Bytes> ServerHandshake::msg2(const std::optional<Verifier>& verifier) {
  if (state_ != State::kGotMsg1) {
    return core::fail("EC-SRP5: MSG2 requested before a valid MSG1");
  }
  state_ = State::kDone;
  user_known_ = verifier.has_value();
  Verifier v = verifier ? *verifier : fake_verifier(fake_secret_, user_);
  if (v.gamma_parity > 1) {
    return core::fail("EC-SRP5: stored verifier has parity " + std::to_string(v.gamma_parity) + ", expected 0 or 1");
  }
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  BN_CTX* x = ctx.get();

  // Gamma = lift_x(x_gamma, gamma_parity) = i·G exactly (needs the stored parity).
  Bn xg = bn_from(v.x_gamma);
  Point gamma = lift_x(c, xg.get(), v.gamma_parity, x);
  if (!gamma) {
    return core::fail("EC-SRP5: stored verifier x_gamma is not a curve point");
  }
  // W_b = s_b·G + redp1(x_gamma, 0): the password-entangled ephemeral key.
  Point gamma_e = redp1(c, v.x_gamma, 0, x, nullptr);
  if (!gamma_e) {
    return core::fail("EC-SRP5: redp1 found no point");
  }
  // sg = s·G for the session's secret s. Generic path: s = s_b, one ladder.
  // X25519 path: X25519 gives only u(s_b·G); we take the even-y point with that u,
  // which is s·G for s = s_b or s = 8·r − s_b (= −s_b on the whole group), we do
  // not know which — and need not: Z = s·T below only enters through its
  // u-coordinate, and u(−s_b·T) = u(s_b·T), which X25519 computes exactly. An
  // honest client's B = W_b + V is then s·G and both sides agree (§6.7 with s).
  Bn s_b = bn_from(s_b_);
  Pkey xkey;
  Point sg;
  if (x25519_) {
    xkey = x25519_key(s_b_);
    std::optional<Bytes32> u = xkey ? x25519_public_u(xkey.get()) : std::nullopt;
    if (u) {
      Bn ub = bn_from(*u);
      sg = lift_x(c, ub.get(), 0, x);
    }
    if (!sg) {
      xkey.reset();  // no usable X25519: the generic path with the same (clamped) s_b
    }
  }
  if (!sg) {
    sg = mul_g(c, s_b.get(), x);
  }
  if (!sg) {
    return ossl_fail("computing s_b*G");
  }
  Point w_b = add(c, sg.get(), gamma_e.get(), x);
  if (!w_b) {
    return ossl_fail("computing W_b");
  }
  std::optional<Wire> wb = to_wire(c, w_b.get(), x);
  if (!wb) {
    return core::fail("EC-SRP5: W_b is the point at infinity (s_b unusable)");
  }
  // j = H(x_w_a || x_w_b); Z = s_b·(W_a + j·Gamma)
  session_.j = sha256({x_w_a_, wb->u});
  Bn j = bn_from(session_.j);
  Point w_a = point_from_affine(c, w_a_x_, w_a_y_, x);
  Point j_gamma = mul_public(c, gamma.get(), j.get(), x);
  if (!w_a || !j_gamma) {
    return ossl_fail("computing j*Gamma");
  }
  Point t = add(c, w_a.get(), j_gamma.get(), x);
  if (!t) {
    return ossl_fail("computing W_a + j*Gamma");
  }
  // Z = ∞ (§6.8) is only visible at MSG3: MSG2 goes out either way, and on_msg3 fails.
  std::optional<Bytes32> z_u;
  if (xkey) {
    std::optional<Wire> tw = to_wire(c, t.get(), x);  // T = ∞ gives Z = ∞
    z_u = tw ? x25519_derive(xkey.get(), tw->u) : std::nullopt;
  } else {
    Point z = mul(c, t.get(), s_b.get(), x);
    if (!z) {
      return ossl_fail("computing Z");
    }
    std::optional<Wire> zw = to_wire(c, z.get(), x);
    if (zw) {
      z_u = zw->u;
    }
  }
  z_valid_ = z_u.has_value();
  session_.z = z_u.value_or(Bytes32{});

  Bytes payload;
  payload.reserve(kMsg2Len);
  payload.insert(payload.end(), wb->u.begin(), wb->u.end());
  payload.push_back(static_cast<std::byte>(wb->parity));
  payload.insert(payload.end(), v.salt.begin(), v.salt.end());
  state_ = State::kSentMsg2;
  return frame_of(payload);
}

core::Result<Bytes> ServerHandshake::on_msg3(std::span<const std::byte> payload) {
  if (state_ != State::kSentMsg2) {
    return core::fail("EC-SRP5: unexpected MSG3 (no MSG2 sent)");
  }
  state_ = State::kDone;
  if (payload.size() != kConfirmLen) {
    return core::fail("EC-SRP5: MSG3 is " + std::to_string(payload.size()) + " bytes, expected " +
                      std::to_string(kConfirmLen));
  }
  Bytes32 want = sha256({session_.j, session_.z});
  bool match = CRYPTO_memcmp(payload.data(), want.data(), want.size()) == 0;
  if (!user_known_) {
    return core::fail(std::errc::permission_denied, "EC-SRP5: unknown user");
  }
  if (!z_valid_) {
    return core::fail(std::errc::permission_denied, "EC-SRP5: shared point Z is the point at infinity (bad MSG1)");
  }
  if (!match) {
    return core::fail(std::errc::permission_denied, "EC-SRP5: client proof in MSG3 does not match (wrong password)");
  }
  Bytes32 server_cc = sha256({session_.j, payload, session_.z});
  return frame_of(server_cc);
}

// ---- test hooks -----------------------------------------------------------------------

CurveConstantsForTest curve_constants_for_test() {
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  CurveConstantsForTest k;
  k.p = bytes_of(c.p);
  k.a = bytes_of(c.a);
  k.b = bytes_of(c.b);
  k.a_third = bytes_of(c.a_third);
  k.r = bytes_of(c.r);
  k.g = affine(c, EC_GROUP_get0_generator(c.group), ctx.get()).value_or(AffineForTest{});
  return k;
}

std::optional<AffineForTest> lift_x_for_test(std::span<const std::byte, kKeyLen> u, uint8_t parity) {
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bn ub = bn_from(u);
  Point pt = lift_x(c, ub.get(), parity, ctx.get());
  if (!pt) {
    return std::nullopt;
  }
  return affine(c, pt.get(), ctx.get());
}

AffineForTest mul_generator_for_test(std::span<const std::byte, kKeyLen> scalar) {
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bn s = bn_from(scalar);
  Point pt = mul_g(c, s.get(), ctx.get());
  return affine(c, pt.get(), ctx.get()).value_or(AffineForTest{});
}

std::optional<bool> has_order_dividing_r_for_test(std::span<const std::byte, kKeyLen> u, uint8_t parity) {
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Bn ub = bn_from(u);
  Point pt = lift_x(c, ub.get(), parity, ctx.get());
  if (!pt) {
    return std::nullopt;
  }
  Point rp = mul(c, pt.get(), c.r, ctx.get());
  LR_CHECK(rp != nullptr);
  return EC_POINT_is_at_infinity(c.group, rp.get()) == 1;
}

Redp1ForTest redp1_for_test(std::span<const std::byte, kKeyLen> data, uint8_t parity) {
  const Curve& c = curve();
  Ctx ctx = new_ctx();
  Redp1ForTest trace;
  Point pt = redp1(c, data, parity, ctx.get(), &trace);
  LR_CHECK(pt != nullptr);
  return trace;
}

Bytes32 inner_hash_for_test(std::string_view user, std::string_view password) { return password_hash(user, password); }

Bytes32 validator_private_for_test(std::string_view user, std::string_view password,
                                   std::span<const std::byte, kSaltLen> salt) {
  return sha256({salt, password_hash(user, password)});
}

Bytes32 j_for_test(std::span<const std::byte, kKeyLen> x_w_a, std::span<const std::byte, kKeyLen> x_w_b) {
  return sha256({x_w_a, x_w_b});
}

}  // namespace linerate::btest::ecsrp5
