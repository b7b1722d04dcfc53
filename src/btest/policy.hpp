// btest/policy.hpp — the hooks through which a multi-user server (btest-pro)
// decides who may log in, which tests may start and how many bytes they may move,
// and hears what happened. `btest -s` runs without a policy.
//
// Planes (STYLE): ServerPolicy and TestGrant are called from handshake and test
// threads (control plane, once per login / test / second). ByteBudget is the only
// hook on the data plane: called once per send or receive batch (a 256 KiB TCP
// write, a sendmmsg/recvmmsg batch), never per packet; it must be lock-free.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "btest/ecsrp5.hpp"
#include "btest/protocol.hpp"
#include "btest/report.hpp"
#include "core/address.hpp"
#include "core/interrupt.hpp"
#include "core/result.hpp"

namespace linerate::btest {

/// A test's byte allowance. "out" = server -> client, "in" = client -> server.
class ByteBudget {
 public:
  virtual ~ByteBudget() = default;
  /// Before sending `bytes`. false = the allowance is used up: do not send them,
  /// stop sending. (The bytes are charged either way, so concurrent senders of one
  /// principal overshoot by at most one batch each.)
  virtual bool take_out(uint64_t bytes) noexcept = 0;
  /// After receiving `bytes`. false = the allowance is now used up: stop reading.
  virtual bool take_in(uint64_t bytes) noexcept = 0;
};

/// What a client asks for, after authentication and before the OK.
struct TestRequest {
  core::SockAddr peer;
  std::string user;       // empty without authentication
  std::string_view auth;  // "none", "md5", "ecsrp5"
  Command cmd;
};

/// One admitted test. The server destroys it on every exit path once the test is
/// over (or failed to start); that releases what admit() took (per-IP slots,
/// budgets). Methods are called from the test's control thread only.
class TestGrant {
 public:
  virtual ~TestGrant() = default;
  /// The data-plane allowance, or nullptr for none. Lives as long as the grant.
  [[nodiscard]] virtual ByteBudget* budget() noexcept = 0;
  /// Fires when the allowance runs out, so the test ends at once (nullptr: never).
  [[nodiscard]] virtual const core::Interrupt* exhausted() const noexcept = 0;
  /// Why the allowance ran out ("quota_daily_user", ...), once exhausted() fired.
  [[nodiscard]] virtual std::string exhausted_reason() const = 0;
  /// The test's clock started (rec has the start time, peer, direction, ...).
  virtual void started(const TestRecord& rec) = 0;
  /// One second of the test (and the final partial one).
  virtual void interval(const TestRecord& rec, const IntervalSample& s) = 0;
  /// The test is ending, before the server closes its side (the client may
  /// start its next test the moment it sees that): release what the next test
  /// must find free, such as a per-IP slot. budget() stays valid until the grant
  /// is destroyed.
  virtual void finishing() = 0;
  /// The test is over; rec is final (end_reason set).
  virtual void ended(const TestRecord& rec) = 0;
};

class ServerPolicy {
 public:
  virtual ~ServerPolicy() = default;
  /// MD5 login (§5): the user's password, or nullopt when the user is unknown,
  /// disabled or not allowed MD5 (the login then fails like a wrong password).
  virtual std::optional<std::string> md5_password(std::string_view user) = 0;
  /// EC-SRP5 login (§6): the user's verifier, or nullopt when unknown or disabled
  /// (a fake verifier answers and the login fails at the proof).
  virtual std::optional<ecsrp5::Verifier> ecsrp5_verifier(std::string_view user) = 0;
  /// May this test start? An error refuses it; its message is a reason token
  /// such as "ip_limit" or "quota_daily_user" (logged, syslogged, recorded).
  virtual core::Result<std::unique_ptr<TestGrant>> admit(const TestRequest& req) = 0;
  /// A login or test was refused before admit() (bad password: "auth_failed";
  /// "max_sessions"): for the operator's records.
  virtual void rejected(const core::SockAddr& peer, std::string_view user, std::string_view reason) = 0;
};

}  // namespace linerate::btest
