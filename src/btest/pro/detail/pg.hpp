// btest/pro/detail/pg.hpp — a small RAII wrapper over libpq (PostgreSQL 15).
//
// Only what the store needs: connect from a URI, run one parameterised statement
// (PQexecParams, text format; SQL text is always a constant in our code and every
// value travels as a parameter), read text cells, and a transaction guard that
// rolls back unless committed. libpq's types are forward-declared so this header
// does not pull in libpq-fe.h.
//
// Errors are one line: libpq's multi-line messages are folded, and the connection
// URI (which may carry a password) is never part of a message — redact_url() gives
// a printable form. Not thread-safe: one PgConn per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

struct pg_conn;
struct pg_result;

namespace linerate::btest::pro::detail {

/// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db".
[[nodiscard]] std::string redact_url(std::string_view url);

/// One statement parameter in text form; nullopt = SQL NULL.
using PgParam = std::optional<std::string>;

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(pg_result* r);
  [[nodiscard]] int rows() const;
  [[nodiscard]] bool is_null(int row, int col) const;
  [[nodiscard]] std::string_view text(int row, int col) const;
  /// Integer cell; an unparsable or NULL cell reads as 0 (our schema has none).
  [[nodiscard]] int64_t i64(int row, int col) const;
  /// Boolean cell ("t"/"f").
  [[nodiscard]] bool boolean(int row, int col) const;
  /// Rows changed by an INSERT/UPDATE/DELETE.
  [[nodiscard]] uint64_t affected() const;
  [[nodiscard]] pg_result* get() const { return res_.get(); }

 private:
  struct Free {
    void operator()(pg_result* r) const noexcept;
  };
  std::unique_ptr<pg_result, Free> res_;
};

class PgConn {
 public:
  /// Connect with a libpq URI or key=value string. Errors name the redacted URI.
  static core::Result<PgConn> connect(const std::string& url);

  /// Run one statement with $1..$n parameters. Errors name `what` plus the
  /// server's one-line message (SQLSTATE included). Reconnects once if the
  /// connection was lost before the statement.
  core::Result<PgResult> exec(std::string_view what, const char* sql, const std::vector<PgParam>& params = {});

  /// Escape hatch for tests: the SQLSTATE of the last failed exec ("" if none).
  [[nodiscard]] const std::string& last_sqlstate() const { return last_sqlstate_; }

 private:
  struct Close {
    void operator()(pg_conn* c) const noexcept;
  };
  std::unique_ptr<pg_conn, Close> conn_;
  std::string label_;
  std::string last_sqlstate_;
};

/// BEGIN now; ROLLBACK in the destructor unless commit() succeeded.
class PgTransaction {
 public:
  static core::Result<PgTransaction> begin(PgConn& conn);
  PgTransaction(PgTransaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  PgTransaction& operator=(PgTransaction&&) = delete;
  PgTransaction(const PgTransaction&) = delete;
  PgTransaction& operator=(const PgTransaction&) = delete;
  ~PgTransaction();
  core::Result<void> commit();

 private:
  explicit PgTransaction(PgConn& conn) : conn_(&conn) {}
  PgConn* conn_;
};

}  // namespace linerate::btest::pro::detail
