// btest/pro/detail/pg_store.cpp — the PostgreSQL backend of Store (libpq via pg.hpp).
//
// Several btest-pro servers may share one database: usage rows are upserted with
// deltas (never read-modify-write), session ids come from a sequence, and the
// migrations take a transaction-scoped advisory lock so two servers starting at
// once do not both create the schema. Same logical schema as the SQLite backend
// (sqlite_store.cpp), with PostgreSQL types: BIGINT counters, BOOLEAN flags.
// SQL text is constant; every value is a $n parameter.
#include <chrono>
#include <string>
#include <vector>

#include "btest/pro/detail/common.hpp"
#include "btest/pro/detail/pg.hpp"

namespace linerate::btest::pro::detail {

namespace {

// An arbitrary constant: the advisory lock that serialises migrations.
constexpr const char* kMigrationLock = "7342170311";

struct Migration {
  int version;
  std::vector<const char*> statements;
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kList = {
      {1,
       {
           R"(CREATE TABLE users (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                enabled BOOLEAN NOT NULL,
                allow_md5 BOOLEAN NOT NULL,
                md5_password TEXT,
                verifier TEXT NOT NULL,
                day_total BIGINT NOT NULL DEFAULT 0,
                day_in BIGINT NOT NULL DEFAULT 0,
                day_out BIGINT NOT NULL DEFAULT 0,
                week_total BIGINT NOT NULL DEFAULT 0,
                week_in BIGINT NOT NULL DEFAULT 0,
                week_out BIGINT NOT NULL DEFAULT 0,
                month_total BIGINT NOT NULL DEFAULT 0,
                month_in BIGINT NOT NULL DEFAULT 0,
                month_out BIGINT NOT NULL DEFAULT 0,
                created BIGINT NOT NULL,
                CHECK (allow_md5 OR md5_password IS NULL)))",
           R"(CREATE TABLE usage (
                principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'ip')),
                principal TEXT NOT NULL,
                window_kind TEXT NOT NULL CHECK (window_kind IN ('day', 'week', 'month')),
                window_start TEXT NOT NULL,
                bytes_in BIGINT NOT NULL DEFAULT 0,
                bytes_out BIGINT NOT NULL DEFAULT 0,
                PRIMARY KEY (principal_kind, principal, window_kind, window_start)))",
           R"(CREATE TABLE sessions (
                id BIGSERIAL PRIMARY KEY,
                server TEXT NOT NULL,
                started_ms BIGINT NOT NULL,
                ended_ms BIGINT NOT NULL DEFAULT 0,
                user_name TEXT NOT NULL DEFAULT '',
                ip TEXT NOT NULL,
                proto TEXT NOT NULL,
                direction TEXT NOT NULL,
                connections INTEGER NOT NULL DEFAULT 1,
                bytes_in BIGINT NOT NULL DEFAULT 0,
                bytes_out BIGINT NOT NULL DEFAULT 0,
                lost BIGINT NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'running'))",
           "CREATE INDEX sessions_by_ip ON sessions (ip, started_ms DESC)",
           "CREATE INDEX sessions_by_started ON sessions (started_ms DESC)",
           "CREATE INDEX sessions_running ON sessions (server) WHERE status = 'running'",
           R"(CREATE TABLE intervals (
                session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                second INTEGER NOT NULL,
                bytes_in BIGINT NOT NULL DEFAULT 0,
                bytes_out BIGINT NOT NULL DEFAULT 0,
                lost BIGINT NOT NULL DEFAULT 0,
                cpu_local INTEGER NOT NULL DEFAULT -1,
                cpu_remote INTEGER NOT NULL DEFAULT -1,
                PRIMARY KEY (session_id, second)))",
           R"(CREATE TABLE rejections (
                id BIGSERIAL PRIMARY KEY,
                unix_ms BIGINT NOT NULL,
                server TEXT NOT NULL,
                ip TEXT NOT NULL,
                user_name TEXT NOT NULL DEFAULT '',
                reason TEXT NOT NULL))",
           "CREATE INDEX rejections_by_time ON rejections (unix_ms DESC)",
       }},
      // 2: the dashboard's "top IPs / users of a window" (Store::top_usage).
      // 2: the dashboard: "top IPs / users of a window" (Store::top_usage), and the
      // length of each interval (the last one of a test is usually partial).
      {2,
       {"CREATE INDEX usage_by_window ON usage (principal_kind, window_kind, window_start)",
        "ALTER TABLE intervals ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 1000"}},
  };
  return kList;
}

constexpr const char* kUserSelect =
    "SELECT id, name, enabled, allow_md5, md5_password, verifier, day_total, day_in, day_out, week_total, week_in, "
    "week_out, month_total, month_in, month_out, created FROM users ";

constexpr const char* kSessionSelect =
    "SELECT id, server, started_ms, ended_ms, user_name, ip, proto, direction, connections, bytes_in, bytes_out, "
    "lost, status FROM sessions ";

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string num(int64_t v) { return std::to_string(v); }
std::string boolean(bool b) { return b ? "true" : "false"; }

uint64_t u64(const PgResult& r, int row, int col) {
  int64_t v = r.i64(row, col);
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

User read_user(const PgResult& r, int row) {
  User u;
  u.id = r.i64(row, 0);
  u.name = std::string(r.text(row, 1));
  u.enabled = r.boolean(row, 2);
  u.allow_md5 = r.boolean(row, 3);
  if (!r.is_null(row, 4)) {
    u.md5_password = std::string(r.text(row, 4));
  }
  u.verifier = std::string(r.text(row, 5));
  u.limits.day = {u64(r, row, 6), u64(r, row, 7), u64(r, row, 8)};
  u.limits.week = {u64(r, row, 9), u64(r, row, 10), u64(r, row, 11)};
  u.limits.month = {u64(r, row, 12), u64(r, row, 13), u64(r, row, 14)};
  u.created_unix = r.i64(row, 15);
  return u;
}

SessionRow read_session(const PgResult& r, int row) {
  SessionRow s;
  s.id = r.i64(row, 0);
  s.server = std::string(r.text(row, 1));
  s.started_unix_ms = r.i64(row, 2);
  s.ended_unix_ms = r.i64(row, 3);
  s.user = std::string(r.text(row, 4));
  s.ip = std::string(r.text(row, 5));
  s.proto = std::string(r.text(row, 6));
  s.direction = std::string(r.text(row, 7));
  s.connections = static_cast<uint32_t>(r.i64(row, 8));
  s.bytes_in = u64(r, row, 9);
  s.bytes_out = u64(r, row, 10);
  s.lost = u64(r, row, 11);
  s.status = std::string(r.text(row, 12));
  return s;
}

// $1..$13: enabled, allow_md5, md5_password, verifier, nine limits.
core::Result<std::vector<PgParam>> user_fields(const User& u) {
  std::vector<PgParam> p;
  p.emplace_back(boolean(u.enabled));
  p.emplace_back(boolean(u.allow_md5));
  p.push_back(u.md5_password);
  p.emplace_back(u.verifier);
  const DirLimits* wins[] = {&u.limits.day, &u.limits.week, &u.limits.month};
  for (const DirLimits* w : wins) {
    for (uint64_t v : {w->total, w->in, w->out}) {
      auto i = to_db_int(v, "limit");
      if (!i) {
        return tl::unexpected(i.error());
      }
      p.emplace_back(num(*i));
    }
  }
  return p;
}

template <typename T>
tl::unexpected<core::Error> err(const core::Result<T>& r) {
  return tl::unexpected(r.error());
}

class PgStore final : public Store {
 public:
  explicit PgStore(PgConn conn) : conn_(std::move(conn)) {}

  core::Result<void> migrate() {
    auto tx = PgTransaction::begin(conn_);
    if (!tx) {
      return err(tx);
    }
    if (auto r = conn_.exec("migration lock", "SELECT pg_advisory_xact_lock($1::bigint)", {kMigrationLock}); !r) {
      return err(r);
    }
    if (auto r = conn_.exec("migrating schema",
                            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied BIGINT "
                            "NOT NULL)");
        !r) {
      return err(r);
    }
    auto cur = conn_.exec("migrating schema", "SELECT COALESCE(MAX(version), 0) FROM schema_version");
    if (!cur) {
      return err(cur);
    }
    int current = static_cast<int>(cur->i64(0, 0));
    if (current > kSchemaVersion) {
      return core::fail("database schema version " + std::to_string(current) +
                        " is newer than this btest-pro understands (" + std::to_string(kSchemaVersion) + ")");
    }
    for (const Migration& m : migrations()) {
      if (m.version <= current) {
        continue;
      }
      for (const char* sql : m.statements) {
        if (auto r = conn_.exec("migration " + std::to_string(m.version), sql); !r) {
          return err(r);
        }
      }
      if (auto r = conn_.exec("migrating schema", "INSERT INTO schema_version (version, applied) VALUES ($1, $2)",
                              {num(m.version), num(now_unix())});
          !r) {
        return err(r);
      }
      current = m.version;
    }
    if (auto c = tx->commit(); !c) {
      return c;
    }
    version_ = current;
    return {};
  }

  [[nodiscard]] std::string_view backend() const override { return "postgresql"; }
  [[nodiscard]] int schema_version() const override { return version_; }

  core::Result<void> add_user(const User& u) override {
    if (auto c = check_user(u); !c) {
      return c;
    }
    auto p = user_fields(u);
    if (!p) {
      return err(p);
    }
    p->emplace_back(u.name);
    p->emplace_back(num(u.created_unix != 0 ? u.created_unix : now_unix()));
    auto r = conn_.exec("adding user '" + u.name + "'",
                        "INSERT INTO users (enabled, allow_md5, md5_password, verifier, day_total, day_in, day_out, "
                        "week_total, week_in, week_out, month_total, month_in, month_out, name, created) VALUES ($1, "
                        "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                        *p);
    if (!r) {
      if (conn_.last_sqlstate() == "23505") {  // unique_violation
        return core::fail("user '" + u.name + "' already exists");
      }
      return err(r);
    }
    return {};
  }

  core::Result<std::optional<User>> find_user(std::string_view name) override {
    auto r = conn_.exec("looking up user", (std::string(kUserSelect) + "WHERE name = $1").c_str(), {std::string(name)});
    if (!r) {
      return err(r);
    }
    if (r->rows() == 0) {
      return std::optional<User>{};
    }
    return std::optional<User>{read_user(*r, 0)};
  }

  core::Result<std::vector<User>> list_users() override {
    auto r = conn_.exec("listing users", (std::string(kUserSelect) + "ORDER BY name COLLATE \"C\"").c_str());
    if (!r) {
      return err(r);
    }
    std::vector<User> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back(read_user(*r, i));
    }
    return out;
  }

  core::Result<void> update_user(const User& u) override {
    if (auto c = check_user(u); !c) {
      return c;
    }
    auto p = user_fields(u);
    if (!p) {
      return err(p);
    }
    p->emplace_back(u.name);
    auto r = conn_.exec("updating user '" + u.name + "'",
                        "UPDATE users SET enabled = $1, allow_md5 = $2, md5_password = $3, verifier = $4, day_total = "
                        "$5, day_in = $6, day_out = $7, week_total = $8, week_in = $9, week_out = $10, month_total = "
                        "$11, month_in = $12, month_out = $13 WHERE name = $14",
                        *p);
    if (!r) {
      return err(r);
    }
    if (r->affected() == 0) {
      return core::fail("no user named '" + u.name + "'");
    }
    return {};
  }

  core::Result<bool> delete_user(std::string_view name) override {
    auto r = conn_.exec("deleting user", "DELETE FROM users WHERE name = $1", {std::string(name)});
    if (!r) {
      return err(r);
    }
    return r->affected() > 0;
  }

  core::Result<UsageByWindow> usage(const Principal& who, const WindowStarts& at) override {
    auto r = conn_.exec("reading usage",
                        "SELECT window_kind, bytes_in, bytes_out FROM usage WHERE principal_kind = $1 AND principal = "
                        "$2 AND ((window_kind = 'day' AND window_start = $3) OR (window_kind = 'week' AND "
                        "window_start = $4) OR (window_kind = 'month' AND window_start = $5))",
                        {std::string(principal_kind_text(who.kind)), who.key, at.day, at.week, at.month});
    if (!r) {
      return err(r);
    }
    UsageByWindow out;
    for (int i = 0; i < r->rows(); ++i) {
      std::string_view kind = r->text(i, 0);
      Usage u{u64(*r, i, 1), u64(*r, i, 2)};
      (kind == "day" ? out.day : kind == "week" ? out.week : out.month) = u;
    }
    return out;
  }

  core::Result<std::vector<std::pair<std::string, Usage>>> top_usage(PrincipalKind kind, std::string_view window,
                                                                     std::string_view start, uint32_t limit) override {
    auto r = conn_.exec("listing top usage",
                        "SELECT principal, bytes_in, bytes_out FROM usage WHERE principal_kind = $1 AND "
                        "window_kind = $2 AND window_start = $3 ORDER BY bytes_in + bytes_out DESC, principal "
                        "LIMIT $4",
                        {std::string(principal_kind_text(kind)), std::string(window), std::string(start), num(limit)});
    if (!r) {
      return err(r);
    }
    std::vector<std::pair<std::string, Usage>> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.emplace_back(std::string(r->text(i, 0)), Usage{u64(*r, i, 1), u64(*r, i, 2)});
    }
    return out;
  }

  core::Result<int64_t> begin_session(const SessionRow& s) override {
    auto r = conn_.exec("recording session start",
                        "INSERT INTO sessions (server, started_ms, ended_ms, user_name, ip, proto, direction, "
                        "connections, status) VALUES ($1, $2, 0, $3, $4, $5, $6, $7, 'running') RETURNING id",
                        {s.server, num(s.started_unix_ms), s.user, s.ip, s.proto, s.direction, num(s.connections)});
    if (!r) {
      return err(r);
    }
    return r->i64(0, 0);
  }

  core::Result<void> begin_sessions(std::vector<SessionRow>& rows) override {
    if (rows.empty()) {
      return {};
    }
    auto tx = PgTransaction::begin(conn_);
    if (!tx) {
      return err(tx);
    }
    for (SessionRow& s : rows) {
      auto id = begin_session(s);
      if (!id) {
        return tl::unexpected(id.error());
      }
      s.id = *id;
    }
    return tx->commit();
  }

  core::Result<uint64_t> close_stale_sessions(std::string_view server, int64_t now_unix_ms) override {
    auto r = conn_.exec("closing stale sessions",
                        "UPDATE sessions SET status = 'interrupted', ended_ms = $1 WHERE server = $2 AND status = "
                        "'running'",
                        {num(now_unix_ms), std::string(server)});
    if (!r) {
      return err(r);
    }
    return r->affected();
  }

  core::Result<std::optional<SessionRow>> session(int64_t id) override {
    auto r = conn_.exec("reading session", (std::string(kSessionSelect) + "WHERE id = $1").c_str(), {num(id)});
    if (!r) {
      return err(r);
    }
    if (r->rows() == 0) {
      return std::optional<SessionRow>{};
    }
    return std::optional<SessionRow>{read_session(*r, 0)};
  }

  core::Result<std::vector<SessionRow>> recent_sessions(std::string_view ip, uint32_t limit) override {
    std::string sql = std::string(kSessionSelect) + (ip.empty() ? "" : "WHERE ip = $2 ") +
                      "ORDER BY started_ms DESC, id DESC LIMIT $1";
    std::vector<PgParam> params{num(limit)};
    if (!ip.empty()) {
      params.emplace_back(std::string(ip));
    }
    auto r = conn_.exec("listing sessions", sql.c_str(), params);
    if (!r) {
      return err(r);
    }
    std::vector<SessionRow> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back(read_session(*r, i));
    }
    return out;
  }

  core::Result<std::vector<IntervalRow>> intervals(int64_t session_id) override {
    auto r = conn_.exec("reading intervals",
                        "SELECT session_id, second, bytes_in, bytes_out, lost, cpu_local, cpu_remote, duration_ms FROM "
                        "intervals "
                        "WHERE session_id = $1 ORDER BY second",
                        {num(session_id)});
    if (!r) {
      return err(r);
    }
    std::vector<IntervalRow> out;
    for (int i = 0; i < r->rows(); ++i) {
      IntervalRow row;
      row.session_id = r->i64(i, 0);
      row.second = static_cast<uint32_t>(r->i64(i, 1));
      row.bytes_in = u64(*r, i, 2);
      row.bytes_out = u64(*r, i, 3);
      row.lost = u64(*r, i, 4);
      row.cpu_local = static_cast<int>(r->i64(i, 5));
      row.cpu_remote = static_cast<int>(r->i64(i, 6));
      row.duration_ms = static_cast<uint32_t>(r->i64(i, 7));
      out.push_back(row);
    }
    return out;
  }

  core::Result<std::vector<RejectionRow>> recent_rejections(uint32_t limit) override {
    auto r = conn_.exec("listing rejections",
                        "SELECT unix_ms, server, ip, user_name, reason FROM rejections ORDER BY unix_ms DESC, id DESC "
                        "LIMIT $1",
                        {num(limit)});
    if (!r) {
      return err(r);
    }
    std::vector<RejectionRow> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back(RejectionRow{r->i64(i, 0), std::string(r->text(i, 1)), std::string(r->text(i, 2)),
                                 std::string(r->text(i, 3)), std::string(r->text(i, 4))});
    }
    return out;
  }

  core::Result<void> write(const WriteBatch& batch) override {
    if (batch.empty()) {
      return {};
    }
    auto tx = PgTransaction::begin(conn_);
    if (!tx) {
      return err(tx);
    }
    for (const UsageDelta& d : batch.usage) {
      if (d.in == 0 && d.out == 0) {
        continue;
      }
      auto in = to_db_int(d.in, "usage bytes in");
      auto out = to_db_int(d.out, "usage bytes out");
      if (!in || !out) {
        return core::fail((in ? out : in).error().message());
      }
      const std::pair<const char*, const std::string*> wins[] = {
          {"day", &d.windows.day}, {"week", &d.windows.week}, {"month", &d.windows.month}};
      for (const auto& [kind, start] : wins) {
        auto r = conn_.exec(
            "writing usage",
            "INSERT INTO usage (principal_kind, principal, window_kind, window_start, bytes_in, "
            "bytes_out) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (principal_kind, principal, "
            "window_kind, window_start) DO UPDATE SET bytes_in = usage.bytes_in + excluded.bytes_in, "
            "bytes_out = usage.bytes_out + excluded.bytes_out",
            {std::string(principal_kind_text(d.who.kind)), d.who.key, std::string(kind), *start, num(*in), num(*out)});
        if (!r) {
          return err(r);
        }
      }
    }
    for (const SessionRow& s : batch.session_ends) {
      auto in = to_db_int(s.bytes_in, "session bytes in");
      auto out = to_db_int(s.bytes_out, "session bytes out");
      auto lost = to_db_int(s.lost, "session lost");
      if (!in || !out || !lost) {
        return core::fail("session " + std::to_string(s.id) + ": counter does not fit a signed 64-bit column");
      }
      auto r =
          conn_.exec("writing session end",
                     "UPDATE sessions SET ended_ms = $1, bytes_in = $2, bytes_out = $3, lost = $4, status = $5, "
                     "connections = $6 WHERE id = $7",
                     {num(s.ended_unix_ms), num(*in), num(*out), num(*lost), s.status, num(s.connections), num(s.id)});
      if (!r) {
        return err(r);
      }
      if (r->affected() == 0) {
        return core::fail("session end: no session " + std::to_string(s.id));
      }
    }
    for (const IntervalRow& row : batch.intervals) {
      auto in = to_db_int(row.bytes_in, "interval bytes in");
      auto out = to_db_int(row.bytes_out, "interval bytes out");
      auto lost = to_db_int(row.lost, "interval lost");
      if (!in || !out || !lost) {
        return core::fail("interval: counter does not fit a signed 64-bit column");
      }
      auto r = conn_.exec("writing interval",
                          "INSERT INTO intervals (session_id, second, bytes_in, bytes_out, lost, cpu_local, "
                          "cpu_remote, duration_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                          {num(row.session_id), num(row.second), num(*in), num(*out), num(*lost), num(row.cpu_local),
                           num(row.cpu_remote), num(row.duration_ms)});
      if (!r) {
        return err(r);
      }
    }
    for (const RejectionRow& row : batch.rejections) {
      auto r = conn_.exec("writing rejection",
                          "INSERT INTO rejections (unix_ms, server, ip, user_name, reason) VALUES ($1, $2, $3, $4, $5)",
                          {num(row.unix_ms), row.server, row.ip, row.user, row.reason});
      if (!r) {
        return err(r);
      }
    }
    return tx->commit();
  }

 private:
  PgConn conn_;
  int version_ = 0;
};

}  // namespace

core::Result<std::unique_ptr<Store>> open_pg_store(const std::string& url) {
  auto conn = PgConn::connect(url);
  if (!conn) {
    return err(conn);
  }
  auto store = std::make_unique<PgStore>(std::move(*conn));
  if (auto m = store->migrate(); !m) {
    return tl::unexpected(m.error());
  }
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace linerate::btest::pro::detail
