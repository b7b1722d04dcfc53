// tests/integration/btest_pro_cli_test.cpp — the btest-pro binary end to end:
// user add/list/set/passwd/del and usage --json against a temp SQLite file and a
// real PostgreSQL database; exit codes; one-line errors; passwords never printed.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "btest/ecsrp5.hpp"
#include "btest/pro/store.hpp"
#include "btest/pro/windows.hpp"
#include "pro_backends.hpp"

#ifndef LR_BTEST_PRO_BIN
#error "LR_BTEST_PRO_BIN must name the btest-pro binary"
#endif

namespace linerate::btest::pro {
namespace {

using linerate::testing::TempDir;
using nlohmann::json;

struct CmdResult {
  int rc = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename Backend>
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { LR_NEW_DB_URL(Backend, dir_, url_); }

  CmdResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {LR_BTEST_PRO_BIN, "--db", url_});
    const std::string out = dir_.path() + "/stdout";
    const std::string err = dir_.path() + "/stderr";
    pid_t pid = ::fork();
    if (pid == 0) {
      int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(o, 1);
      ::dup2(e, 2);
      if (::chdir(dir_.path().c_str()) != 0) {
        ::_exit(126);
      }
      std::vector<char*> argv;
      for (auto& a : args) {
        argv.push_back(a.data());
      }
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    CmdResult r;
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = slurp(out);
    r.err = slurp(err);
    for (const char* secret : {"s3cret-A", "s3cret-B", "s3cret-C", "s3cret-D"}) {
      EXPECT_EQ(r.out.find(secret), std::string::npos) << "password printed on stdout";
      EXPECT_EQ(r.err.find(secret), std::string::npos) << "password printed on stderr";
    }
    return r;
  }

  std::unique_ptr<Store> open() {
    auto s = Store::open(url_);
    EXPECT_TRUE(s) << s.error().message();
    return s ? std::move(*s) : nullptr;
  }

  static void expect_one_line_error(const CmdResult& r, int rc) {
    EXPECT_EQ(r.rc, rc) << r.err;
    ASSERT_FALSE(r.err.empty());
    std::string first = r.err.substr(0, r.err.find('\n'));
    EXPECT_EQ(first.rfind("btest-pro: ", 0), 0u) << r.err;
  }

  TempDir dir_;
  std::string url_;
};

using Backends = ::testing::Types<linerate::testing::SqliteBackend, linerate::testing::PostgresBackend>;
TYPED_TEST_SUITE(CliTest, Backends, linerate::testing::BackendNames);

TYPED_TEST(CliTest, UserLifecycle) {
  CmdResult r = this->run({"user", "add", "alice", "--password", "s3cret-A", "--daily", "2G", "--weekly-in", "1.5T"});
  ASSERT_EQ(r.rc, 0) << r.err;
  {
    std::ofstream f(this->dir_.path() + "/pw");
    f << "s3cret-B\r\n";
  }
  r = this->run({"user", "add", "bob", "--password-file", this->dir_.path() + "/pw", "--allow-md5", "--disabled"});
  ASSERT_EQ(r.rc, 0) << r.err;
  this->expect_one_line_error(this->run({"user", "add", "alice", "--password", "x"}), 1);

  r = this->run({"user", "list", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json list = json::parse(r.out);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["name"], "alice");
  EXPECT_EQ(list[0]["auth"], "ecsrp5");
  EXPECT_EQ(list[0]["enabled"], true);
  EXPECT_EQ(list[0]["limits"]["daily"]["total"], 2'000'000'000ULL);
  EXPECT_EQ(list[0]["limits"]["weekly"]["in"], 1'500'000'000'000ULL);
  EXPECT_EQ(list[1]["name"], "bob");
  EXPECT_EQ(list[1]["auth"], "ecsrp5,md5");
  EXPECT_EQ(list[1]["enabled"], false);
  r = this->run({"user", "list"});
  ASSERT_EQ(r.rc, 0);
  EXPECT_NE(r.out.find("ecsrp5,md5"), std::string::npos) << r.out;

  {
    auto s = this->open();
    auto bob = s->find_user("bob");
    ASSERT_TRUE(bob && *bob);
    EXPECT_EQ((*bob)->md5_password, "s3cret-B");  // first line, line ending stripped
    auto v = ecsrp5::verifier_from_text((*bob)->verifier);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, ecsrp5::derive_verifier("bob", "s3cret-B", v->salt));
    auto alice = *s->find_user("alice");
    EXPECT_FALSE(alice->md5_password);
  }

  ASSERT_EQ(this->run({"user", "set", "bob", "--enable", "--no-md5", "--monthly-out", "3G"}).rc, 0);
  ASSERT_EQ(this->run({"user", "set", "alice", "--disable", "--daily", "0"}).rc, 0);
  this->expect_one_line_error(this->run({"user", "set", "alice", "--allow-md5"}), 2);
  this->expect_one_line_error(this->run({"user", "set", "carol", "--enable"}), 1);
  ASSERT_EQ(this->run({"user", "passwd", "alice", "--password", "s3cret-C"}).rc, 0);
  {
    auto s = this->open();
    auto bob = *s->find_user("bob");
    EXPECT_TRUE(bob->enabled);
    EXPECT_FALSE(bob->allow_md5);
    EXPECT_FALSE(bob->md5_password);
    EXPECT_EQ(bob->limits.month.out, 3'000'000'000ULL);
    auto alice = *s->find_user("alice");
    EXPECT_FALSE(alice->enabled);
    EXPECT_EQ(alice->limits.day.total, 0u);
    EXPECT_EQ(alice->limits.week.in, 1'500'000'000'000ULL);
    auto v = ecsrp5::verifier_from_text(alice->verifier);
    ASSERT_TRUE(v);
    EXPECT_EQ(*v, ecsrp5::derive_verifier("alice", "s3cret-C", v->salt));
    EXPECT_FALSE(alice->md5_password);
  }
  ASSERT_EQ(this->run({"user", "set", "alice", "--allow-md5", "--password", "s3cret-D"}).rc, 0);
  EXPECT_EQ((*this->open()->find_user("alice"))->md5_password, "s3cret-D");

  ASSERT_EQ(this->run({"user", "del", "bob"}).rc, 0);
  this->expect_one_line_error(this->run({"user", "del", "bob"}), 1);
  r = this->run({"user", "list", "--json"});
  EXPECT_EQ(json::parse(r.out).size(), 1u);
}

TYPED_TEST(CliTest, UsageJsonForUserAndIp) {
  ASSERT_EQ(this->run({"user", "add", "alice", "--password", "s3cret-A", "--daily", "1K", "--weekly-out", "5K"}).rc, 0);
  {
    auto s = this->open();
    WriteBatch b;
    auto w = *window_starts_for_date("2025-03-12");
    b.usage = {{Principal{PrincipalKind::kUser, "alice"}, w, 400, 300},
               {Principal{PrincipalKind::kIp, "192.0.2.5"}, w, 10, 20}};
    ASSERT_TRUE(s->write(b));
  }
  CmdResult r = this->run({"usage", "--user", "alice", "--at", "2025-03-14", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["limits"], "user");
  EXPECT_EQ(j["windows"][0]["window"], "day");
  EXPECT_EQ(j["windows"][0]["start"], "2025-03-14");
  EXPECT_EQ(j["windows"][0]["total"]["used"], 0);  // another day
  EXPECT_EQ(j["windows"][0]["total"]["remaining"], 1000);
  EXPECT_EQ(j["windows"][1]["start"], "2025-03-10");
  EXPECT_EQ(j["windows"][1]["in"]["used"], 400);
  EXPECT_EQ(j["windows"][1]["out"]["used"], 300);
  EXPECT_EQ(j["windows"][1]["out"]["limit"], 5000);
  EXPECT_EQ(j["windows"][1]["out"]["remaining"], 4700);
  EXPECT_TRUE(j["windows"][1]["total"]["limit"].is_null());  // unlimited
  EXPECT_EQ(j["windows"][2]["start"], "2025-03-01");

  r = this->run({"usage", "--ip", "::ffff:192.0.2.5", "--at", "2025-03-12", "--json", "--ip-daily", "25"});
  ASSERT_EQ(r.rc, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["principal"], "192.0.2.5");
  EXPECT_EQ(j["limits"], "flags");
  EXPECT_EQ(j["windows"][0]["total"]["used"], 30);
  EXPECT_EQ(j["windows"][0]["total"]["remaining"], 0);
  r = this->run({"usage", "--ip", "192.0.2.5", "--tz", "Europe/Riga"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("no limit given"), std::string::npos) << r.out;

  this->expect_one_line_error(this->run({"usage"}), 2);
  this->expect_one_line_error(this->run({"usage", "--user", "alice", "--at", "2025-02-30"}), 2);
  this->expect_one_line_error(this->run({"usage", "--user", "alice", "--tz", "Mars/Olympus"}), 2);
  this->expect_one_line_error(this->run({"usage", "--user", "alice", "--ip-daily", "1G"}), 2);
  this->expect_one_line_error(this->run({"usage", "--user", "nobody"}), 1);
  this->expect_one_line_error(this->run({"user", "add", "x", "--password", "p", "--daily", "12X"}), 2);
}

// The dashboard flags are checked before anything is opened or bound: a bad
// --web address, a weak admin token, a token without --web, an unreadable token
// file: usage errors (2) or a runtime error (1), each one line.
TYPED_TEST(CliTest, WebFlagsAreValidated) {
  this->expect_one_line_error(this->run({"serve", "--web", "8080"}), 2);
  this->expect_one_line_error(this->run({"serve", "--web", "::1:8080"}), 2);
  this->expect_one_line_error(this->run({"serve", "--web", "127.0.0.1:70000"}), 2);
  this->expect_one_line_error(this->run({"serve", "--web", "127.0.0.1:0", "--admin-token", "short"}), 2);
  this->expect_one_line_error(this->run({"serve", "--admin-token", "0123456789abcdef0123"}), 2);
  this->expect_one_line_error(
      this->run({"serve", "--web", "127.0.0.1:0", "--admin-token", "0123456789abcdef", "--admin-token-file", "f"}), 2);
  this->expect_one_line_error(this->run({"serve", "-P", "1", "--listen", "127.0.0.1", "--web", "127.0.0.1:0",
                                         "--admin-token-file", "/nonexistent/token"}),
                              1);
}

TEST(CliSqlite, UnopenableDatabaseIsARuntimeError) {
  TempDir dir;
  std::string db = dir.path() + "/no/such/dir/x.db";
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execl(LR_BTEST_PRO_BIN, LR_BTEST_PRO_BIN, "--db", db.c_str(), "user", "list", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

}  // namespace
}  // namespace linerate::btest::pro
