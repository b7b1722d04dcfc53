// tests/integration/pro_backends.hpp — the two Store backends as test parameters.
//
// Each test gets a fresh database: a new SQLite file in its own temp directory,
// or a new database on one PostgreSQL server per test process (started on first
// use, stopped at exit; see pg_test_server.hpp). PostgreSQL tests skip only when
// the server binaries are not installed.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "pg_test_server.hpp"

namespace linerate::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/lr-pro-XXXXXX";
    path_ = ::mkdtemp(tmpl) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// The process-wide PostgreSQL test server, or nullptr with `why` ("skip: ..." or a failure).
inline PgTestServer* shared_pg(std::string& why) {
  static std::string failure;
  static std::unique_ptr<PgTestServer> server = PgTestServer::start(failure);
  why = failure;
  return server.get();
}

struct SqliteBackend {
  static constexpr const char* kName = "Sqlite";
  /// "" + GTEST_SKIP never happens for SQLite.
  static std::string new_url(const TempDir& dir, std::string& /*why*/) { return dir.path() + "/pro.db"; }
};

struct PostgresBackend {
  static constexpr const char* kName = "Postgres";
  static std::string new_url(const TempDir& /*dir*/, std::string& why) {
    PgTestServer* pg = shared_pg(why);
    if (pg == nullptr) {
      return {};
    }
    std::string url = pg->create_database();
    if (url.empty()) {
      why = "CREATE DATABASE failed on the test server";
    }
    return url;
  }
};

struct BackendNames {
  template <typename T>
  static std::string GetName(int /*i*/) {
    return T::kName;
  }
};

/// In SetUp: the URL of a fresh database, or skip/fail the test.
#define LR_NEW_DB_URL(Backend, dir, out)      \
  do {                                        \
    std::string why_;                         \
    out = Backend::new_url(dir, why_);        \
    if (out.empty()) {                        \
      if (why_.rfind("skip: ", 0) == 0) {     \
        GTEST_SKIP() << why_.substr(6);       \
      }                                       \
      FAIL() << "no test database: " << why_; \
    }                                         \
  } while (0)

}  // namespace linerate::testing
