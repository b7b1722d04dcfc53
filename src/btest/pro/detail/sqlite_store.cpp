// btest/pro/detail/sqlite_store.cpp — the SQLite backend of Store (SQLiteCpp).
//
// One database file in WAL mode: readers (the CLI, a dashboard) never block the
// writer thread and vice versa. synchronous=NORMAL: in WAL mode a committed
// transaction survives a killed process (kill -9); only a power loss can lose the
// last commits, never corrupt the file. busy_timeout lets a second process (the
// CLI next to a running server) wait for the write lock instead of failing.
// Foreign keys are enforced (intervals reference sessions), so a batch that
// names a missing session fails as a whole.
//
// SQLiteCpp throws; every public method catches at its edge and returns a
// one-line Result. SQL text is constant; values are always bound parameters.
#include <chrono>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "btest/pro/detail/common.hpp"

namespace linerate::btest::pro::detail {

namespace {

constexpr int kBusyTimeoutMs = 5000;

// Versioned migrations, oldest first; the PostgreSQL backend has the same list
// with its own types (pg_store.cpp). Never edit a shipped entry: append one.
struct Migration {
  int version;
  std::vector<const char*> statements;
};

const std::vector<Migration>& migrations() {
  static const std::vector<Migration> kList = {
      {1,
       {
           R"(CREATE TABLE users (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
                allow_md5 INTEGER NOT NULL CHECK (allow_md5 IN (0, 1)),
                md5_password TEXT,
                verifier TEXT NOT NULL,
                day_total INTEGER NOT NULL DEFAULT 0,
                day_in INTEGER NOT NULL DEFAULT 0,
                day_out INTEGER NOT NULL DEFAULT 0,
                week_total INTEGER NOT NULL DEFAULT 0,
                week_in INTEGER NOT NULL DEFAULT 0,
                week_out INTEGER NOT NULL DEFAULT 0,
                month_total INTEGER NOT NULL DEFAULT 0,
                month_in INTEGER NOT NULL DEFAULT 0,
                month_out INTEGER NOT NULL DEFAULT 0,
                created INTEGER NOT NULL,
                CHECK (allow_md5 = 1 OR md5_password IS NULL)))",
           R"(CREATE TABLE usage (
                principal_kind TEXT NOT NULL CHECK (principal_kind IN ('user', 'ip')),
                principal TEXT NOT NULL,
                window_kind TEXT NOT NULL CHECK (window_kind IN ('day', 'week', 'month')),
                window_start TEXT NOT NULL,
                bytes_in INTEGER NOT NULL DEFAULT 0,
                bytes_out INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (principal_kind, principal, window_kind, window_start)) WITHOUT ROWID)",
           R"(CREATE TABLE sessions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                server TEXT NOT NULL,
                started_ms INTEGER NOT NULL,
                ended_ms INTEGER NOT NULL DEFAULT 0,
                user_name TEXT NOT NULL DEFAULT '',
                ip TEXT NOT NULL,
                proto TEXT NOT NULL,
                direction TEXT NOT NULL,
                connections INTEGER NOT NULL DEFAULT 1,
                bytes_in INTEGER NOT NULL DEFAULT 0,
                bytes_out INTEGER NOT NULL DEFAULT 0,
                lost INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'running'))",
           "CREATE INDEX sessions_by_ip ON sessions (ip, started_ms DESC)",
           "CREATE INDEX sessions_by_started ON sessions (started_ms DESC)",
           "CREATE INDEX sessions_running ON sessions (server) WHERE status = 'running'",
           R"(CREATE TABLE intervals (
                session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
                second INTEGER NOT NULL,
                bytes_in INTEGER NOT NULL DEFAULT 0,
                bytes_out INTEGER NOT NULL DEFAULT 0,
                lost INTEGER NOT NULL DEFAULT 0,
                cpu_local INTEGER NOT NULL DEFAULT -1,
                cpu_remote INTEGER NOT NULL DEFAULT -1,
                PRIMARY KEY (session_id, second)))",
           R"(CREATE TABLE rejections (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                unix_ms INTEGER NOT NULL,
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

constexpr const char* kUserColumns =
    "id, name, enabled, allow_md5, md5_password, verifier, day_total, day_in, day_out, week_total, week_in, "
    "week_out, month_total, month_in, month_out, created";

constexpr const char* kSessionColumns =
    "id, server, started_ms, ended_ms, user_name, ip, proto, direction, connections, bytes_in, bytes_out, lost, status";

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

uint64_t u64(const SQLite::Column& c) {
  int64_t v = c.getInt64();
  return v < 0 ? 0 : static_cast<uint64_t>(v);
}

User read_user(SQLite::Statement& q) {
  User u;
  u.id = q.getColumn(0).getInt64();
  u.name = q.getColumn(1).getString();
  u.enabled = q.getColumn(2).getInt() != 0;
  u.allow_md5 = q.getColumn(3).getInt() != 0;
  if (!q.getColumn(4).isNull()) {
    u.md5_password = q.getColumn(4).getString();
  }
  u.verifier = q.getColumn(5).getString();
  u.limits.day = {u64(q.getColumn(6)), u64(q.getColumn(7)), u64(q.getColumn(8))};
  u.limits.week = {u64(q.getColumn(9)), u64(q.getColumn(10)), u64(q.getColumn(11))};
  u.limits.month = {u64(q.getColumn(12)), u64(q.getColumn(13)), u64(q.getColumn(14))};
  u.created_unix = q.getColumn(15).getInt64();
  return u;
}

SessionRow read_session(SQLite::Statement& q) {
  SessionRow s;
  s.id = q.getColumn(0).getInt64();
  s.server = q.getColumn(1).getString();
  s.started_unix_ms = q.getColumn(2).getInt64();
  s.ended_unix_ms = q.getColumn(3).getInt64();
  s.user = q.getColumn(4).getString();
  s.ip = q.getColumn(5).getString();
  s.proto = q.getColumn(6).getString();
  s.direction = q.getColumn(7).getString();
  s.connections = static_cast<uint32_t>(q.getColumn(8).getInt64());
  s.bytes_in = u64(q.getColumn(9));
  s.bytes_out = u64(q.getColumn(10));
  s.lost = u64(q.getColumn(11));
  s.status = q.getColumn(12).getString();
  return s;
}

// Binds the user's mutable fields to ?1..?14 in kUserColumns order (from enabled on).
core::Result<void> bind_user_fields(SQLite::Statement& q, const User& u) {
  q.bind(1, u.enabled ? 1 : 0);
  q.bind(2, u.allow_md5 ? 1 : 0);
  if (u.md5_password) {
    q.bind(3, *u.md5_password);
  } else {
    q.bind(3);
  }
  q.bind(4, u.verifier);
  const DirLimits* wins[] = {&u.limits.day, &u.limits.week, &u.limits.month};
  int idx = 5;
  for (const DirLimits* w : wins) {
    for (uint64_t v : {w->total, w->in, w->out}) {
      auto i = to_db_int(v, "limit");
      if (!i) {
        return tl::unexpected(i.error());
      }
      q.bind(idx++, *i);
    }
  }
  return {};
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(SQLite::Database db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  core::Result<void> migrate() {
    return guard("migrating schema", [&]() -> core::Result<void> {
      SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
      db_.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL)");
      int current = 0;
      {
        SQLite::Statement q(db_, "SELECT COALESCE(MAX(version), 0) FROM schema_version");
        if (q.executeStep()) {
          current = q.getColumn(0).getInt();
        }
      }
      if (current > kSchemaVersion) {
        return core::fail("database schema version " + std::to_string(current) +
                          " is newer than this btest-pro understands (" + std::to_string(kSchemaVersion) + ")");
      }
      for (const Migration& m : migrations()) {
        if (m.version <= current) {
          continue;
        }
        for (const char* sql : m.statements) {
          db_.exec(sql);
        }
        SQLite::Statement ins(db_, "INSERT INTO schema_version (version, applied) VALUES (?1, ?2)");
        ins.bind(1, m.version);
        ins.bind(2, now_unix());
        ins.exec();
        current = m.version;
      }
      tx.commit();
      version_ = current;
      return {};
    });
  }

  [[nodiscard]] std::string_view backend() const override { return "sqlite"; }
  [[nodiscard]] int schema_version() const override { return version_; }

  core::Result<void> add_user(const User& u) override {
    if (auto c = check_user(u); !c) {
      return c;
    }
    return guard("adding user '" + u.name + "'", [&]() -> core::Result<void> {
      SQLite::Statement q(db_,
                          "INSERT INTO users (enabled, allow_md5, md5_password, verifier, day_total, day_in, day_out, "
                          "week_total, week_in, week_out, month_total, month_in, month_out, name, created) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)");
      if (auto b = bind_user_fields(q, u); !b) {
        return b;
      }
      q.bind(14, u.name);
      q.bind(15, u.created_unix != 0 ? u.created_unix : now_unix());
      try {
        q.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE ||
            e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY) {
          return core::fail("user '" + u.name + "' already exists");
        }
        throw;
      }
      return {};
    });
  }

  core::Result<std::optional<User>> find_user(std::string_view name) override {
    return guard("looking up user", [&]() -> core::Result<std::optional<User>> {
      SQLite::Statement q(db_, std::string("SELECT ") + kUserColumns + " FROM users WHERE name = ?1");
      q.bind(1, std::string(name));
      if (!q.executeStep()) {
        return std::optional<User>{};
      }
      return std::optional<User>{read_user(q)};
    });
  }

  core::Result<std::vector<User>> list_users() override {
    return guard("listing users", [&]() -> core::Result<std::vector<User>> {
      SQLite::Statement q(db_, std::string("SELECT ") + kUserColumns + " FROM users ORDER BY name");
      std::vector<User> out;
      while (q.executeStep()) {
        out.push_back(read_user(q));
      }
      return out;
    });
  }

  core::Result<void> update_user(const User& u) override {
    if (auto c = check_user(u); !c) {
      return c;
    }
    return guard("updating user '" + u.name + "'", [&]() -> core::Result<void> {
      SQLite::Statement q(db_,
                          "UPDATE users SET enabled = ?1, allow_md5 = ?2, md5_password = ?3, verifier = ?4, "
                          "day_total = ?5, day_in = ?6, day_out = ?7, week_total = ?8, week_in = ?9, week_out = ?10, "
                          "month_total = ?11, month_in = ?12, month_out = ?13 WHERE name = ?14");
      if (auto b = bind_user_fields(q, u); !b) {
        return b;
      }
      q.bind(14, u.name);
      if (q.exec() == 0) {
        return core::fail("no user named '" + u.name + "'");
      }
      return {};
    });
  }

  core::Result<bool> delete_user(std::string_view name) override {
    return guard("deleting user", [&]() -> core::Result<bool> {
      SQLite::Statement q(db_, "DELETE FROM users WHERE name = ?1");
      q.bind(1, std::string(name));
      return q.exec() > 0;
    });
  }

  core::Result<UsageByWindow> usage(const Principal& who, const WindowStarts& at) override {
    return guard("reading usage", [&]() -> core::Result<UsageByWindow> {
      SQLite::Statement q(db_,
                          "SELECT window_kind, bytes_in, bytes_out FROM usage WHERE principal_kind = ?1 AND "
                          "principal = ?2 AND ((window_kind = 'day' AND window_start = ?3) OR (window_kind = 'week' "
                          "AND window_start = ?4) OR (window_kind = 'month' AND window_start = ?5))");
      q.bind(1, std::string(principal_kind_text(who.kind)));
      q.bind(2, who.key);
      q.bind(3, at.day);
      q.bind(4, at.week);
      q.bind(5, at.month);
      UsageByWindow out;
      while (q.executeStep()) {
        std::string kind = q.getColumn(0).getString();
        Usage u{u64(q.getColumn(1)), u64(q.getColumn(2))};
        (kind == "day" ? out.day : kind == "week" ? out.week : out.month) = u;
      }
      return out;
    });
  }

  core::Result<std::vector<std::pair<std::string, Usage>>> top_usage(PrincipalKind kind, std::string_view window,
                                                                     std::string_view start, uint32_t limit) override {
    return guard("listing top usage", [&]() -> core::Result<std::vector<std::pair<std::string, Usage>>> {
      SQLite::Statement q(db_,
                          "SELECT principal, bytes_in, bytes_out FROM usage WHERE principal_kind = ?1 AND "
                          "window_kind = ?2 AND window_start = ?3 ORDER BY bytes_in + bytes_out DESC, principal "
                          "LIMIT ?4");
      q.bind(1, std::string(principal_kind_text(kind)));
      q.bind(2, std::string(window));
      q.bind(3, std::string(start));
      q.bind(4, static_cast<int64_t>(limit));
      std::vector<std::pair<std::string, Usage>> out;
      while (q.executeStep()) {
        out.emplace_back(q.getColumn(0).getString(), Usage{u64(q.getColumn(1)), u64(q.getColumn(2))});
      }
      return out;
    });
  }

  core::Result<int64_t> begin_session(const SessionRow& s) override {
    return guard("recording session start", [&]() -> core::Result<int64_t> {
      SQLite::Statement q(db_,
                          "INSERT INTO sessions (server, started_ms, ended_ms, user_name, ip, proto, direction, "
                          "connections, status) VALUES (?1, ?2, 0, ?3, ?4, ?5, ?6, ?7, 'running')");
      q.bind(1, s.server);
      q.bind(2, s.started_unix_ms);
      q.bind(3, s.user);
      q.bind(4, s.ip);
      q.bind(5, s.proto);
      q.bind(6, s.direction);
      q.bind(7, static_cast<int64_t>(s.connections));
      q.exec();
      return db_.getLastInsertRowid();
    });
  }

  core::Result<void> begin_sessions(std::vector<SessionRow>& rows) override {
    if (rows.empty()) {
      return {};
    }
    return guard("recording session starts", [&]() -> core::Result<void> {
      SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
      for (SessionRow& s : rows) {
        auto id = begin_session(s);
        if (!id) {
          return tl::unexpected(id.error());
        }
        s.id = *id;
      }
      tx.commit();
      return {};
    });
  }

  core::Result<uint64_t> close_stale_sessions(std::string_view server, int64_t now_unix_ms) override {
    return guard("closing stale sessions", [&]() -> core::Result<uint64_t> {
      SQLite::Statement q(db_,
                          "UPDATE sessions SET status = 'interrupted', ended_ms = ?1 WHERE server = ?2 AND "
                          "status = 'running'");
      q.bind(1, now_unix_ms);
      q.bind(2, std::string(server));
      return static_cast<uint64_t>(q.exec());
    });
  }

  core::Result<std::optional<SessionRow>> session(int64_t id) override {
    return guard("reading session", [&]() -> core::Result<std::optional<SessionRow>> {
      SQLite::Statement q(db_, std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id = ?1");
      q.bind(1, id);
      if (!q.executeStep()) {
        return std::optional<SessionRow>{};
      }
      return std::optional<SessionRow>{read_session(q)};
    });
  }

  core::Result<std::vector<SessionRow>> recent_sessions(std::string_view ip, uint32_t limit) override {
    return guard("listing sessions", [&]() -> core::Result<std::vector<SessionRow>> {
      std::string sql = std::string("SELECT ") + kSessionColumns + " FROM sessions " +
                        (ip.empty() ? "" : "WHERE ip = ?2 ") + "ORDER BY started_ms DESC, id DESC LIMIT ?1";
      SQLite::Statement q(db_, sql);
      q.bind(1, static_cast<int64_t>(limit));
      if (!ip.empty()) {
        q.bind(2, std::string(ip));
      }
      std::vector<SessionRow> out;
      while (q.executeStep()) {
        out.push_back(read_session(q));
      }
      return out;
    });
  }

  core::Result<std::vector<IntervalRow>> intervals(int64_t session_id) override {
    return guard("reading intervals", [&]() -> core::Result<std::vector<IntervalRow>> {
      SQLite::Statement q(
          db_,
          "SELECT session_id, second, bytes_in, bytes_out, lost, cpu_local, cpu_remote, duration_ms FROM "
          "intervals "
          "WHERE session_id = ?1 ORDER BY second");
      q.bind(1, session_id);
      std::vector<IntervalRow> out;
      while (q.executeStep()) {
        IntervalRow r;
        r.session_id = q.getColumn(0).getInt64();
        r.second = static_cast<uint32_t>(q.getColumn(1).getInt64());
        r.bytes_in = u64(q.getColumn(2));
        r.bytes_out = u64(q.getColumn(3));
        r.lost = u64(q.getColumn(4));
        r.cpu_local = q.getColumn(5).getInt();
        r.cpu_remote = q.getColumn(6).getInt();
        r.duration_ms = static_cast<uint32_t>(q.getColumn(7).getInt64());
        out.push_back(r);
      }
      return out;
    });
  }

  core::Result<std::vector<RejectionRow>> recent_rejections(uint32_t limit) override {
    return guard("listing rejections", [&]() -> core::Result<std::vector<RejectionRow>> {
      SQLite::Statement q(db_,
                          "SELECT unix_ms, server, ip, user_name, reason FROM rejections "
                          "ORDER BY unix_ms DESC, id DESC LIMIT ?1");
      q.bind(1, static_cast<int64_t>(limit));
      std::vector<RejectionRow> out;
      while (q.executeStep()) {
        RejectionRow r;
        r.unix_ms = q.getColumn(0).getInt64();
        r.server = q.getColumn(1).getString();
        r.ip = q.getColumn(2).getString();
        r.user = q.getColumn(3).getString();
        r.reason = q.getColumn(4).getString();
        out.push_back(std::move(r));
      }
      return out;
    });
  }

  core::Result<void> write(const WriteBatch& batch) override {
    if (batch.empty()) {
      return {};
    }
    return guard("writing batch", [&]() -> core::Result<void> {
      SQLite::Transaction tx(db_, SQLite::TransactionBehavior::IMMEDIATE);
      if (!batch.usage.empty()) {
        SQLite::Statement q(db_,
                            "INSERT INTO usage (principal_kind, principal, window_kind, window_start, bytes_in, "
                            "bytes_out) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (principal_kind, principal, "
                            "window_kind, window_start) DO UPDATE SET bytes_in = usage.bytes_in + excluded.bytes_in, "
                            "bytes_out = usage.bytes_out + excluded.bytes_out");
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
            q.bind(1, std::string(principal_kind_text(d.who.kind)));
            q.bind(2, d.who.key);
            q.bind(3, kind);
            q.bind(4, *start);
            q.bind(5, *in);
            q.bind(6, *out);
            q.exec();
            q.reset();
          }
        }
      }
      if (!batch.session_ends.empty()) {
        SQLite::Statement q(db_,
                            "UPDATE sessions SET ended_ms = ?1, bytes_in = ?2, bytes_out = ?3, lost = ?4, status = "
                            "?5, connections = ?6 WHERE id = ?7");
        for (const SessionRow& s : batch.session_ends) {
          auto in = to_db_int(s.bytes_in, "session bytes in");
          auto out = to_db_int(s.bytes_out, "session bytes out");
          auto lost = to_db_int(s.lost, "session lost");
          if (!in || !out || !lost) {
            return core::fail("session " + std::to_string(s.id) + ": counter does not fit a signed 64-bit column");
          }
          q.bind(1, s.ended_unix_ms);
          q.bind(2, *in);
          q.bind(3, *out);
          q.bind(4, *lost);
          q.bind(5, s.status);
          q.bind(6, static_cast<int64_t>(s.connections));
          q.bind(7, s.id);
          if (q.exec() == 0) {
            return core::fail("session end: no session " + std::to_string(s.id));
          }
          q.reset();
        }
      }
      if (!batch.intervals.empty()) {
        SQLite::Statement q(db_,
                            "INSERT INTO intervals (session_id, second, bytes_in, bytes_out, lost, cpu_local, "
                            "cpu_remote, duration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        for (const IntervalRow& r : batch.intervals) {
          auto in = to_db_int(r.bytes_in, "interval bytes in");
          auto out = to_db_int(r.bytes_out, "interval bytes out");
          auto lost = to_db_int(r.lost, "interval lost");
          if (!in || !out || !lost) {
            return core::fail("interval: counter does not fit a signed 64-bit column");
          }
          q.bind(1, r.session_id);
          q.bind(2, static_cast<int64_t>(r.second));
          q.bind(3, *in);
          q.bind(4, *out);
          q.bind(5, *lost);
          q.bind(6, r.cpu_local);
          q.bind(7, r.cpu_remote);
          q.bind(8, static_cast<int64_t>(r.duration_ms));
          q.exec();
          q.reset();
        }
      }
      if (!batch.rejections.empty()) {
        SQLite::Statement q(db_,
                            "INSERT INTO rejections (unix_ms, server, ip, user_name, reason) VALUES (?1, ?2, ?3, ?4, "
                            "?5)");
        for (const RejectionRow& r : batch.rejections) {
          q.bind(1, r.unix_ms);
          q.bind(2, r.server);
          q.bind(3, r.ip);
          q.bind(4, r.user);
          q.bind(5, r.reason);
          q.exec();
          q.reset();
        }
      }
      tx.commit();
      return {};
    });
  }

 private:
  // Runs f and turns any exception (SQLiteCpp's, bad_alloc) into a one-line error.
  template <typename F>
  auto guard(const std::string& what, F&& f) -> decltype(f()) {
    try {
      return f();
    } catch (const std::exception& e) {
      return core::fail("sqlite " + path_ + ": " + what + ": " + e.what());
    }
  }

  SQLite::Database db_;
  std::string path_;
  int version_ = 0;
};

}  // namespace

core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  try {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, kBusyTimeoutMs);
    // journal_mode must change outside a transaction; it persists in the file.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    auto store = std::make_unique<SqliteStore>(std::move(db), path);
    if (auto m = store->migrate(); !m) {
      return tl::unexpected(m.error());
    }
    return std::unique_ptr<Store>(std::move(store));
  } catch (const std::exception& e) {
    return core::fail("sqlite " + path + ": cannot open: " + e.what());
  }
}

}  // namespace linerate::btest::pro::detail
