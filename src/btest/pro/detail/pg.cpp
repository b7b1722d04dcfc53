// btest/pro/detail/pg.cpp — see pg.hpp.
#include "btest/pro/detail/pg.hpp"

#include <charconv>

#include <libpq-fe.h>

#include "core/text.hpp"

namespace linerate::btest::pro::detail {

namespace {

// libpq messages end with a newline and may span lines ("DETAIL: ..."): keep the
// first line, which carries the reason.
std::string first_line(const char* msg) {
  std::string_view s = msg == nullptr ? std::string_view{} : std::string_view(msg);
  auto nl = s.find('\n');
  if (nl != std::string_view::npos) {
    s = s.substr(0, nl);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return core::one_line(s);
}

void ignore_notice(void* /*arg*/, const char* /*message*/) {}

}  // namespace

std::string redact_url(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) {
    return core::one_line(url);
  }
  std::size_t auth_start = scheme + 3;
  std::size_t auth_end = url.find_first_of("/?", auth_start);
  if (auth_end == std::string_view::npos) {
    auth_end = url.size();
  }
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  auto at = authority.rfind('@');
  std::string out(url.substr(0, auth_start));
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    auto colon = userinfo.find(':');
    out += colon == std::string_view::npos ? std::string(userinfo) : std::string(userinfo.substr(0, colon)) + ":***";
    out += authority.substr(at);
  } else {
    out += authority;
  }
  // A password can also come as a query parameter (?password=...).
  std::string rest(url.substr(auth_end));
  auto pw = rest.find("password=");
  if (pw != std::string::npos) {
    auto end = rest.find('&', pw);
    rest.replace(pw, end == std::string::npos ? std::string::npos : end - pw, "password=***");
  }
  return core::one_line(out + rest);
}

PgResult::PgResult(pg_result* r) : res_(r) {}

void PgResult::Free::operator()(pg_result* r) const noexcept { PQclear(r); }

int PgResult::rows() const { return res_ ? PQntuples(res_.get()) : 0; }

bool PgResult::is_null(int row, int col) const { return PQgetisnull(res_.get(), row, col) != 0; }

std::string_view PgResult::text(int row, int col) const {
  return {PQgetvalue(res_.get(), row, col), static_cast<std::size_t>(PQgetlength(res_.get(), row, col))};
}

int64_t PgResult::i64(int row, int col) const {
  std::string_view t = text(row, col);
  int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

bool PgResult::boolean(int row, int col) const {
  std::string_view t = text(row, col);
  return !t.empty() && (t[0] == 't' || t[0] == '1');
}

uint64_t PgResult::affected() const {
  const char* n = res_ ? PQcmdTuples(res_.get()) : "";
  uint64_t v = 0;
  std::from_chars(n, n + std::char_traits<char>::length(n), v);
  return v;
}

void PgConn::Close::operator()(pg_conn* c) const noexcept { PQfinish(c); }

core::Result<PgConn> PgConn::connect(const std::string& url) {
  PgConn c;
  c.label_ = redact_url(url);
  c.conn_.reset(PQconnectdb(url.c_str()));
  if (!c.conn_) {
    return core::fail("postgresql " + c.label_ + ": out of memory");
  }
  if (PQstatus(c.conn_.get()) != CONNECTION_OK) {
    return core::fail("postgresql " + c.label_ + ": cannot connect: " + first_line(PQerrorMessage(c.conn_.get())));
  }
  // NOTICEs (e.g. "relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(c.conn_.get(), ignore_notice, nullptr);
  return c;
}

core::Result<PgResult> PgConn::exec(std::string_view what, const char* sql, const std::vector<PgParam>& params) {
  last_sqlstate_.clear();
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    PQreset(conn_.get());
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
      return core::fail("postgresql " + label_ + ": connection lost: " + first_line(PQerrorMessage(conn_.get())));
    }
    PQsetNoticeProcessor(conn_.get(), ignore_notice, nullptr);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.push_back(p ? p->c_str() : nullptr);
  }
  PgResult res(
      PQexecParams(conn_.get(), sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
  pg_result* raw = res.get();
  if (raw == nullptr) {
    return core::fail(std::string(what) + ": " + first_line(PQerrorMessage(conn_.get())));
  }
  ExecStatusType st = PQresultStatus(raw);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
    last_sqlstate_ = state == nullptr ? "" : state;
    std::string msg = first_line(PQresultErrorField(raw, PG_DIAG_MESSAGE_PRIMARY));
    if (msg.empty()) {
      msg = first_line(PQresultErrorMessage(raw));
    }
    return core::fail(std::string(what) + ": " + msg + (last_sqlstate_.empty() ? "" : " (" + last_sqlstate_ + ")"));
  }
  return res;
}

core::Result<PgTransaction> PgTransaction::begin(PgConn& conn) {
  if (auto r = conn.exec("begin transaction", "BEGIN"); !r) {
    return tl::unexpected(r.error());
  }
  return PgTransaction(conn);
}

PgTransaction::~PgTransaction() {
  if (conn_ != nullptr) {
    (void)conn_->exec("rollback", "ROLLBACK");
  }
}

core::Result<void> PgTransaction::commit() {
  PgConn* c = conn_;
  conn_ = nullptr;
  auto r = c->exec("commit", "COMMIT");
  if (!r) {
    return tl::unexpected(r.error());
  }
  return {};
}

}  // namespace linerate::btest::pro::detail
