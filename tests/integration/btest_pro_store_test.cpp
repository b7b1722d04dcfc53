// tests/integration/btest_pro_store_test.cpp — the Store contract, run against both
// backends (a real SQLite file and a real PostgreSQL server), plus a kill -9
// durability test of the SQLite writer.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "btest/ecsrp5.hpp"
#include "btest/pro/admin.hpp"
#include "btest/pro/store.hpp"
#include "btest/pro/windows.hpp"
#include "pro_backends.hpp"

namespace linerate::btest::pro {
namespace {

using linerate::testing::TempDir;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'750'000'000));

User make_user(const std::string& name, const std::string& password, bool md5 = false) {
  User u;
  u.name = name;
  u.allow_md5 = md5;
  if (md5) {
    u.md5_password = password;
  }
  u.verifier = ecsrp5::to_text(ecsrp5::derive_verifier(name, password).value());
  return u;
}

WindowStarts windows(const std::string& day, const std::string& week, const std::string& month) {
  return WindowStarts{day, week, month};
}

SessionRow session_row(const std::string& server, int64_t started_ms, const std::string& ip) {
  SessionRow s;
  s.server = server;
  s.started_unix_ms = started_ms;
  s.user = "alice";
  s.ip = ip;
  s.proto = "tcp";
  s.direction = "both";
  return s;
}

// A full EC-SRP5 login (spec §6.6/§6.7) against a stored verifier, without sockets.
bool ecsrp5_login(const std::string& stored_verifier, const std::string& user, const std::string& password) {
  auto verifier = ecsrp5::verifier_from_text(stored_verifier);
  if (!verifier) {
    return false;
  }
  auto client = ecsrp5::ClientHandshake::start(user, password);
  std::vector<std::byte> secret(32, std::byte{7});
  auto server = ecsrp5::ServerHandshake::create(secret);
  if (!client || !server) {
    return false;
  }
  auto payload = [](const ecsrp5::Bytes& frame) { return std::span<const std::byte>(frame).subspan(1); };
  if (!server->on_msg1(payload(client->msg1()))) {
    return false;
  }
  auto msg2 = server->msg2(*verifier);
  if (!msg2) {
    return false;
  }
  auto msg3 = client->on_msg2(payload(*msg2));
  if (!msg3) {
    return false;
  }
  auto msg4 = server->on_msg3(payload(*msg3));
  return msg4 && client->on_msg4(payload(*msg4));
}

template <typename Backend>
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    LR_NEW_DB_URL(Backend, dir_, url_);
    auto s = Store::open(url_);
    ASSERT_TRUE(s) << s.error().message();
    store_ = std::move(*s);
  }
  Store& store() { return *store_; }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
};

using Backends = ::testing::Types<linerate::testing::SqliteBackend, linerate::testing::PostgresBackend>;
TYPED_TEST_SUITE(StoreTest, Backends, linerate::testing::BackendNames);

TYPED_TEST(StoreTest, MigrationsAreVersionedAndIdempotent) {
  EXPECT_EQ(this->store().schema_version(), 2);
  EXPECT_EQ(this->store().backend(), std::string(TypeParam::kName) == "Sqlite" ? "sqlite" : "postgresql");
  ASSERT_TRUE(this->store().add_user(make_user("alice", "pw")));
  this->store_.reset();
  for (int i = 0; i < 2; ++i) {
    auto again = Store::open(this->url_);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_EQ((*again)->schema_version(), 2);
    auto users = (*again)->list_users();
    ASSERT_TRUE(users);
    ASSERT_EQ(users->size(), 1u);
  }
}

TYPED_TEST(StoreTest, UserCrud) {
  Store& s = this->store();
  User bob = make_user("bob", "b");
  bob.limits.day.total = 2'000'000'000;
  bob.limits.week.in = 5;
  bob.limits.month.out = 9'223'372'036'854'775'807ULL;
  bob.enabled = false;
  ASSERT_TRUE(s.add_user(bob));
  ASSERT_TRUE(s.add_user(make_user("alice", "a", true)));
  auto dup = s.add_user(make_user("bob", "x"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message(), "user 'bob' already exists");

  auto found = s.find_user("bob");
  ASSERT_TRUE(found && *found);
  const User& f = **found;
  EXPECT_GT(f.id, 0);
  EXPECT_EQ(f.name, "bob");
  EXPECT_FALSE(f.enabled);
  EXPECT_FALSE(f.allow_md5);
  EXPECT_FALSE(f.md5_password);
  EXPECT_EQ(f.verifier, bob.verifier);
  EXPECT_EQ(f.limits, bob.limits);
  EXPECT_GT(f.created_unix, 0);
  auto none = s.find_user("carol");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);

  auto list = s.list_users();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alice");
  EXPECT_EQ((*list)[1].name, "bob");
  EXPECT_EQ((*list)[0].md5_password, "a");

  User changed = f;
  changed.enabled = true;
  changed.limits = Limits{};
  changed.limits.week.total = 77;
  ASSERT_TRUE(s.update_user(changed));
  auto after = s.find_user("bob");
  ASSERT_TRUE(after && *after);
  EXPECT_TRUE((*after)->enabled);
  EXPECT_EQ((*after)->limits, changed.limits);
  EXPECT_EQ((*after)->id, f.id);
  EXPECT_EQ((*after)->created_unix, f.created_unix);

  EXPECT_FALSE(s.update_user(make_user("carol", "c")));
  EXPECT_EQ(s.delete_user("bob").value(), true);
  EXPECT_EQ(s.delete_user("bob").value(), false);
  EXPECT_EQ(s.list_users()->size(), 1u);
}

TYPED_TEST(StoreTest, RejectsUsersThatBreakTheRules) {
  Store& s = this->store();
  User md5_without_pw = make_user("a", "pw");
  md5_without_pw.allow_md5 = true;
  EXPECT_FALSE(s.add_user(md5_without_pw));
  User pw_without_md5 = make_user("b", "pw");
  pw_without_md5.md5_password = "pw";
  auto r = s.add_user(pw_without_md5);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().find("pw'"), std::string::npos);  // never quotes the password
  User bad_verifier = make_user("c", "pw");
  bad_verifier.verifier = "ecsrp5$00$00$0";
  EXPECT_FALSE(s.add_user(bad_verifier));
  EXPECT_FALSE(s.add_user(make_user("", "pw")));
  EXPECT_FALSE(s.add_user(make_user(std::string(33, 'm'), "pw", true)));  // MD5 carries 32 bytes of name
  User huge = make_user("d", "pw");
  huge.limits.day.in = 1ULL << 63;
  EXPECT_FALSE(s.add_user(huge));
  EXPECT_TRUE(s.list_users()->empty());
}

TYPED_TEST(StoreTest, CliAddedUserHasAVerifierThatLogsIn) {
  Store& s = this->store();
  AdminCommand add;
  add.action = AdminAction::kUserAdd;
  add.name = "alice";
  add.password = PasswordSource{PasswordSource::Kind::kText, "correct horse"};
  ASSERT_TRUE(run_admin(s, add, kNow));
  auto u = s.find_user("alice");
  ASSERT_TRUE(u && *u);
  EXPECT_FALSE((*u)->md5_password);
  EXPECT_EQ((*u)->created_unix, 1'750'000'000);
  auto v = ecsrp5::verifier_from_text((*u)->verifier);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(*v, ecsrp5::derive_verifier("alice", "correct horse", v->salt));
  EXPECT_TRUE(ecsrp5_login((*u)->verifier, "alice", "correct horse"));
  EXPECT_FALSE(ecsrp5_login((*u)->verifier, "alice", "wrong"));

  AdminCommand passwd = add;
  passwd.action = AdminAction::kUserPasswd;
  passwd.password = PasswordSource{PasswordSource::Kind::kText, "battery staple"};
  ASSERT_TRUE(run_admin(s, passwd, kNow));
  auto u2 = s.find_user("alice");
  auto v2 = ecsrp5::verifier_from_text((*u2)->verifier);
  ASSERT_TRUE(v2);
  EXPECT_NE(v2->salt, v->salt);  // fresh salt
  EXPECT_TRUE(ecsrp5_login((*u2)->verifier, "alice", "battery staple"));
  EXPECT_FALSE(ecsrp5_login((*u2)->verifier, "alice", "correct horse"));
  EXPECT_FALSE((*u2)->md5_password);  // not allowed MD5: still no plaintext
}

TYPED_TEST(StoreTest, PlaintextOnlyWhileMd5IsAllowed) {
  Store& s = this->store();
  AdminCommand add;
  add.action = AdminAction::kUserAdd;
  add.name = "old";
  add.allow_md5 = true;
  add.password = PasswordSource{PasswordSource::Kind::kText, "pw1"};
  ASSERT_TRUE(run_admin(s, add, kNow));
  EXPECT_EQ((*s.find_user("old"))->md5_password, "pw1");

  AdminCommand passwd;
  passwd.action = AdminAction::kUserPasswd;
  passwd.name = "old";
  passwd.password = PasswordSource{PasswordSource::Kind::kText, "pw2"};
  ASSERT_TRUE(run_admin(s, passwd, kNow));
  auto u = *s.find_user("old");
  EXPECT_EQ(u->md5_password, "pw2");
  EXPECT_TRUE(ecsrp5_login(u->verifier, "old", "pw2"));

  AdminCommand no_md5;
  no_md5.action = AdminAction::kUserSet;
  no_md5.name = "old";
  no_md5.allow_md5 = false;
  ASSERT_TRUE(run_admin(s, no_md5, kNow));
  u = *s.find_user("old");
  EXPECT_FALSE(u->allow_md5);
  EXPECT_FALSE(u->md5_password);
  EXPECT_TRUE(ecsrp5_login(u->verifier, "old", "pw2"));

  AdminCommand md5_again = no_md5;
  md5_again.allow_md5 = true;
  auto refused = run_admin(s, md5_again, kNow);  // no password given
  EXPECT_FALSE(refused);
  md5_again.password = PasswordSource{PasswordSource::Kind::kText, "pw3"};
  ASSERT_TRUE(run_admin(s, md5_again, kNow));
  u = *s.find_user("old");
  EXPECT_EQ(u->md5_password, "pw3");
  EXPECT_TRUE(ecsrp5_login(u->verifier, "old", "pw3"));  // verifier follows the new password
}

TYPED_TEST(StoreTest, UsageUpsertAddsAcrossBatchesAndWindows) {
  Store& s = this->store();
  const Principal alice{PrincipalKind::kUser, "alice"};
  const Principal ip{PrincipalKind::kIp, "192.0.2.7"};
  const WindowStarts mon = windows("2025-03-10", "2025-03-10", "2025-03-01");
  const WindowStarts tue = windows("2025-03-11", "2025-03-10", "2025-03-01");
  const WindowStarts next_month = windows("2025-04-01", "2025-03-31", "2025-04-01");
  WriteBatch b1;
  b1.usage = {{alice, mon, 100, 1000}, {ip, mon, 1, 2}};
  WriteBatch b2;
  b2.usage = {{alice, mon, 50, 500}, {alice, tue, 7, 70}, {ip, tue, 0, 0}};
  WriteBatch b3;
  b3.usage = {{alice, next_month, 3, 4}};
  for (const WriteBatch* b : {&b1, &b2, &b3}) {
    auto r = s.write(*b);
    ASSERT_TRUE(r) << r.error().message();
  }
  auto on_mon = s.usage(alice, mon);
  ASSERT_TRUE(on_mon);
  EXPECT_EQ(on_mon->day.in, 150u);
  EXPECT_EQ(on_mon->day.out, 1500u);
  EXPECT_EQ(on_mon->week.in, 157u);
  EXPECT_EQ(on_mon->week.out, 1570u);
  EXPECT_EQ(on_mon->month.total(), 1727u);
  auto on_tue = s.usage(alice, tue);
  EXPECT_EQ(on_tue->day.in, 7u);
  EXPECT_EQ(on_tue->week.in, 157u);
  auto april = s.usage(alice, next_month);
  EXPECT_EQ(april->day.total(), 7u);
  EXPECT_EQ(april->week.total(), 7u);
  EXPECT_EQ(april->month.total(), 7u);
  auto ip_use = s.usage(ip, tue);
  EXPECT_EQ(ip_use->day.total(), 0u);
  EXPECT_EQ(ip_use->week.in, 1u);
  EXPECT_EQ(ip_use->week.out, 2u);
  // The same key as a user is a different principal.
  EXPECT_EQ(s.usage(Principal{PrincipalKind::kIp, "alice"}, mon)->month.total(), 0u);
}

TYPED_TEST(StoreTest, WriteIsAllOrNothing) {
  Store& s = this->store();
  auto id = s.begin_session(session_row("srv", 1000, "192.0.2.1"));
  ASSERT_TRUE(id);
  const Principal alice{PrincipalKind::kUser, "alice"};
  const WindowStarts w = windows("2025-03-10", "2025-03-10", "2025-03-01");
  WriteBatch bad;
  bad.usage = {{alice, w, 10, 20}};
  bad.rejections = {{5, "srv", "192.0.2.9", "", "auth_failed"}};
  bad.intervals = {{*id, 0, 1, 1, 0, 5, 5}, {*id + 1000, 0, 1, 1, 0, -1, -1}};  // no such session
  auto r = s.write(bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().find('\n'), std::string::npos);
  EXPECT_EQ(s.usage(alice, w)->day.total(), 0u);
  EXPECT_TRUE(s.recent_rejections(10)->empty());
  EXPECT_TRUE(s.intervals(*id)->empty());

  WriteBatch bad_end;
  bad_end.usage = {{alice, w, 10, 20}};
  SessionRow ghost;
  ghost.id = *id + 999;
  ghost.status = "ok";
  bad_end.session_ends = {ghost};
  EXPECT_FALSE(s.write(bad_end));
  EXPECT_EQ(s.usage(alice, w)->day.total(), 0u);

  WriteBatch too_big;
  too_big.usage = {{alice, w, 1ULL << 63, 0}};
  EXPECT_FALSE(s.write(too_big));

  // The store still works after a failed batch.
  WriteBatch good = bad;
  good.intervals.pop_back();
  ASSERT_TRUE(s.write(good));
  EXPECT_EQ(s.usage(alice, w)->day.total(), 30u);
  EXPECT_EQ(s.intervals(*id)->size(), 1u);
}

TYPED_TEST(StoreTest, SessionLifecycleIntervalsAndRejections) {
  Store& s = this->store();
  auto id = s.begin_session(session_row("srv", 1'000, "2001:db8::1"));
  ASSERT_TRUE(id);
  auto running = s.session(*id);
  ASSERT_TRUE(running && *running);
  EXPECT_EQ((*running)->status, "running");
  EXPECT_EQ((*running)->ended_unix_ms, 0);
  EXPECT_EQ((*running)->ip, "2001:db8::1");

  WriteBatch b;
  SessionRow end = **running;
  end.ended_unix_ms = 11'000;
  end.bytes_in = 123;
  end.bytes_out = 456;
  end.lost = 3;
  end.connections = 20;
  end.status = "quota_daily_user";
  b.session_ends = {end};
  for (uint32_t sec = 0; sec < 3; ++sec) {
    b.intervals.push_back({*id, 2 - sec, 10 * sec, 20 * sec, sec, 40, -1});
  }
  b.rejections = {{3000, "srv", "192.0.2.1", "bob", "user_disabled"},
                  {2000, "srv", "192.0.2.2", "", "auth_failed"},
                  {4000, "srv", "192.0.2.3", "", "max_sessions"}};
  ASSERT_TRUE(s.write(b));
  auto done = *s.session(*id);
  EXPECT_EQ(done->ended_unix_ms, 11'000);
  EXPECT_EQ(done->bytes_in, 123u);
  EXPECT_EQ(done->bytes_out, 456u);
  EXPECT_EQ(done->lost, 3u);
  EXPECT_EQ(done->connections, 20u);
  EXPECT_EQ(done->status, "quota_daily_user");
  auto iv = s.intervals(*id);
  ASSERT_TRUE(iv);
  ASSERT_EQ(iv->size(), 3u);
  EXPECT_EQ((*iv)[0].second, 0u);
  EXPECT_EQ((*iv)[0].bytes_in, 20u);
  EXPECT_EQ((*iv)[0].cpu_local, 40);
  EXPECT_EQ((*iv)[0].cpu_remote, -1);
  EXPECT_EQ((*iv)[2].second, 2u);
  auto rej = s.recent_rejections(2);
  ASSERT_TRUE(rej);
  ASSERT_EQ(rej->size(), 2u);
  EXPECT_EQ((*rej)[0].reason, "max_sessions");
  EXPECT_EQ((*rej)[1].user, "bob");
  EXPECT_FALSE(*s.session(*id + 100));
}

// The writer's batch insert: one transaction, every row gets its own id, and the
// rows read back as inserted.
TYPED_TEST(StoreTest, BeginSessionsInsertsABatchWithDistinctIds) {
  Store& s = this->store();
  std::vector<SessionRow> rows = {session_row("w", 10, "192.0.2.10"), session_row("w", 11, "192.0.2.11"),
                                  session_row("w", 12, "2001:db8::12")};
  ASSERT_TRUE(s.begin_sessions(rows));
  std::set<int64_t> ids;
  for (const SessionRow& r : rows) {
    EXPECT_GT(r.id, 0);
    ids.insert(r.id);
    auto back = s.session(r.id);
    ASSERT_TRUE(back && *back);
    EXPECT_EQ((*back)->ip, r.ip);
    EXPECT_EQ((*back)->status, "running");
  }
  EXPECT_EQ(ids.size(), rows.size());
  std::vector<SessionRow> none;
  EXPECT_TRUE(s.begin_sessions(none));
}

TYPED_TEST(StoreTest, CloseStaleSessionsOfOneServer) {
  Store& s = this->store();
  auto a1 = s.begin_session(session_row("a", 1, "192.0.2.1"));
  auto a2 = s.begin_session(session_row("a", 2, "192.0.2.1"));
  auto a3 = s.begin_session(session_row("a", 3, "192.0.2.1"));
  auto b1 = s.begin_session(session_row("b", 4, "192.0.2.1"));
  ASSERT_TRUE(a1 && a2 && a3 && b1);
  WriteBatch b;
  SessionRow end;
  end.id = *a3;
  end.ended_unix_ms = 50;
  end.status = "ok";
  b.session_ends = {end};
  ASSERT_TRUE(s.write(b));
  EXPECT_EQ(s.close_stale_sessions("a", 99).value(), 2u);
  EXPECT_EQ((*s.session(*a1))->status, "interrupted");
  EXPECT_EQ((*s.session(*a2))->ended_unix_ms, 99);
  EXPECT_EQ((*s.session(*a3))->status, "ok");
  EXPECT_EQ((*s.session(*a3))->ended_unix_ms, 50);
  EXPECT_EQ((*s.session(*b1))->status, "running");
  EXPECT_EQ(s.close_stale_sessions("a", 100).value(), 0u);
}

TYPED_TEST(StoreTest, RecentSessionsNewestFirstWithLimitAndIpFilter) {
  Store& s = this->store();
  const int64_t starts[] = {5000, 1000, 3000, 4000, 2000};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(s.begin_session(session_row("srv", starts[i], i % 2 == 0 ? "192.0.2.1" : "192.0.2.2")));
  }
  auto all = s.recent_sessions("", 3);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].started_unix_ms, 5000);
  EXPECT_EQ((*all)[1].started_unix_ms, 4000);
  EXPECT_EQ((*all)[2].started_unix_ms, 3000);
  auto one_ip = s.recent_sessions("192.0.2.1", 10);
  ASSERT_EQ(one_ip->size(), 3u);
  EXPECT_EQ((*one_ip)[0].started_unix_ms, 5000);
  EXPECT_EQ((*one_ip)[1].started_unix_ms, 3000);
  EXPECT_EQ((*one_ip)[2].started_unix_ms, 2000);
  EXPECT_TRUE(s.recent_sessions("198.51.100.1", 10)->empty());
  EXPECT_TRUE(s.recent_sessions("", 0)->empty());
}

TYPED_TEST(StoreTest, UsageCommandShowsUsedLimitRemaining) {
  Store& s = this->store();
  User u = make_user("alice", "pw");
  u.limits.day.total = 1000;
  u.limits.day.in = 300;
  ASSERT_TRUE(s.add_user(u));
  WriteBatch b;
  b.usage = {{Principal{PrincipalKind::kUser, "alice"}, *window_starts_for_date("2025-03-12"), 400, 500}};
  ASSERT_TRUE(s.write(b));
  AdminCommand cmd;
  cmd.action = AdminAction::kUsage;
  cmd.who = Principal{PrincipalKind::kUser, "alice"};
  cmd.at_date = "2025-03-12";
  cmd.json = true;
  auto out = run_admin(s, cmd, kNow);
  ASSERT_TRUE(out) << out.error().message();
  EXPECT_NE(out->find("\"remaining\": 100"), std::string::npos) << *out;  // 1000 - 900
  EXPECT_NE(out->find("\"remaining\": 0"), std::string::npos) << *out;    // in: 300 - 400, floored
  cmd.who = Principal{PrincipalKind::kUser, "nobody"};
  EXPECT_FALSE(run_admin(s, cmd, kNow));
}

// The dashboard's "top IPs / users": one window (kind and first day) and one
// principal kind, most bytes (in + out) first, ties by name, at most `limit`.
TYPED_TEST(StoreTest, TopUsageRanksOneWindowAndKindByTotalThenName) {
  Store& s = this->store();
  const WindowStarts mon = windows("2025-03-10", "2025-03-10", "2025-03-01");
  const WindowStarts tue = windows("2025-03-11", "2025-03-10", "2025-03-01");
  const WindowStarts april = windows("2025-04-01", "2025-03-31", "2025-04-01");
  auto ip = [](const char* a) { return Principal{PrincipalKind::kIp, a}; };
  auto user = [](const char* n) { return Principal{PrincipalKind::kUser, n}; };
  WriteBatch b1;
  b1.usage = {{ip("192.0.2.1"), mon, 100, 200}, {ip("192.0.2.2"), mon, 500, 0},  {ip("192.0.2.3"), mon, 0, 300},
              {ip("192.0.2.4"), mon, 1, 1},     {ip("10.0.0.1"), tue, 120, 180}, {ip("192.0.2.9"), april, 9000, 0},
              {user("alice"), mon, 9000, 1000}, {user("carol"), mon, 1, 0},      {user("bob"), mon, 0, 1}};
  ASSERT_TRUE(s.write(b1));
  using Ranked = std::vector<std::pair<std::string, std::pair<uint64_t, uint64_t>>>;
  auto top = [&](PrincipalKind kind, const char* window, const char* start, uint32_t limit) {
    auto r = s.top_usage(kind, window, start, limit);
    EXPECT_TRUE(r) << r.error().message();
    Ranked out;
    for (const auto& [name, u] : r ? *r : std::vector<std::pair<std::string, Usage>>{}) {
      out.push_back({name, {u.in, u.out}});
    }
    return out;
  };
  const Ranked mon_day = {
      {"192.0.2.2", {500, 0}}, {"192.0.2.1", {100, 200}}, {"192.0.2.3", {0, 300}}, {"192.0.2.4", {1, 1}}};
  EXPECT_EQ(top(PrincipalKind::kIp, "day", "2025-03-10", 10), mon_day) << "users are not IPs; Tuesday is not Monday";
  EXPECT_EQ(top(PrincipalKind::kIp, "day", "2025-03-10", 2), Ranked(mon_day.begin(), mon_day.begin() + 2));
  EXPECT_EQ(top(PrincipalKind::kIp, "day", "2025-03-10", 1), Ranked(mon_day.begin(), mon_day.begin() + 1));
  EXPECT_EQ(top(PrincipalKind::kIp, "day", "2025-03-11", 10), (Ranked{{"10.0.0.1", {120, 180}}}));
  EXPECT_TRUE(top(PrincipalKind::kIp, "day", "2025-03-12", 10).empty());
  const Ranked week = {{"192.0.2.2", {500, 0}},
                       {"10.0.0.1", {120, 180}},
                       {"192.0.2.1", {100, 200}},
                       {"192.0.2.3", {0, 300}},
                       {"192.0.2.4", {1, 1}}};
  EXPECT_EQ(top(PrincipalKind::kIp, "week", "2025-03-10", 10), week) << "both days of the week, ties by name";
  EXPECT_EQ(top(PrincipalKind::kIp, "month", "2025-03-01", 10), week);
  EXPECT_EQ(top(PrincipalKind::kIp, "month", "2025-04-01", 10), (Ranked{{"192.0.2.9", {9000, 0}}}));
  // The window kind is part of the filter: no day or week starts on 2025-03-01,
  // no month on 2025-03-10.
  EXPECT_TRUE(top(PrincipalKind::kIp, "day", "2025-03-01", 10).empty());
  EXPECT_TRUE(top(PrincipalKind::kIp, "week", "2025-03-01", 10).empty());
  EXPECT_TRUE(top(PrincipalKind::kIp, "month", "2025-03-10", 10).empty());
  EXPECT_EQ(top(PrincipalKind::kUser, "day", "2025-03-10", 10),
            (Ranked{{"alice", {9000, 1000}}, {"bob", {0, 1}}, {"carol", {1, 0}}}));

  // Later batches add up, and the ranking follows the sums.
  WriteBatch b2;
  b2.usage = {{ip("192.0.2.4"), mon, 600, 0}, {ip("192.0.2.3"), mon, 0, 1}};
  ASSERT_TRUE(s.write(b2));
  EXPECT_EQ(top(PrincipalKind::kIp, "day", "2025-03-10", 3),
            (Ranked{{"192.0.2.4", {601, 1}}, {"192.0.2.2", {500, 0}}, {"192.0.2.3", {0, 301}}}));
}

// Schema 2: each interval keeps its length (the last one of a test is usually a
// short tail) through write() and intervals().
TYPED_TEST(StoreTest, IntervalDurationRoundTrips) {
  Store& s = this->store();
  EXPECT_EQ(IntervalRow{}.duration_ms, 1000u) << "a full second unless told otherwise";
  auto id = s.begin_session(session_row("srv", 1'000, "192.0.2.1"));
  ASSERT_TRUE(id);
  const std::vector<uint32_t> lengths = {1000, 999, 1001, 1, 37, 499, 500, 3'600'000};
  WriteBatch b;
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    IntervalRow row;
    row.session_id = *id;
    row.second = static_cast<uint32_t>(i);
    row.bytes_in = 10 * i;
    row.bytes_out = 20 * i;
    row.duration_ms = lengths[i];
    b.intervals.push_back(row);
  }
  IntervalRow defaulted{*id, static_cast<uint32_t>(lengths.size()), 5, 6, 0, -1, -1};
  b.intervals.push_back(defaulted);
  ASSERT_TRUE(s.write(b));
  auto back = s.intervals(*id);
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->size(), lengths.size() + 1);
  for (std::size_t i = 0; i < lengths.size(); ++i) {
    EXPECT_EQ((*back)[i].second, i);
    EXPECT_EQ((*back)[i].duration_ms, lengths[i]) << "second " << i;
    EXPECT_EQ((*back)[i].bytes_in, 10 * i);
    EXPECT_EQ((*back)[i].bytes_out, 20 * i);
  }
  EXPECT_EQ(back->back().duration_ms, 1000u);
  // A reopened store (a fresh connection) reads the same.
  this->store_.reset();
  auto again = Store::open(this->url_);
  ASSERT_TRUE(again) << again.error().message();
  auto reread = (*again)->intervals(*id);
  ASSERT_TRUE(reread);
  ASSERT_EQ(reread->size(), lengths.size() + 1);
  EXPECT_EQ((*reread)[4].duration_ms, 37u);
  EXPECT_EQ((*reread)[7].duration_ms, 3'600'000u);
}

TEST(PostgresUrl, ErrorsNeverShowThePassword) {
  auto r = Store::open("postgresql://btest:topsecret@127.0.0.1:1/nodb?connect_timeout=2");
  ASSERT_FALSE(r);
  std::string msg = r.error().message();
  EXPECT_EQ(msg.find("topsecret"), std::string::npos) << msg;
  EXPECT_NE(msg.find("btest:***@127.0.0.1:1"), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos);
}

TEST(SqliteUrl, PrefixAndPlainPathAreTheSameFile) {
  TempDir dir;
  std::string path = dir.path() + "/x.db";
  {
    auto s = Store::open("sqlite:" + path);
    ASSERT_TRUE(s) << s.error().message();
    ASSERT_TRUE((*s)->add_user(make_user("alice", "pw")));
  }
  auto s = Store::open(path);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->list_users()->size(), 1u);
  EXPECT_FALSE(Store::open(dir.path() + "/missing-dir/x.db"));
  EXPECT_FALSE(Store::open("sqlite:"));
}

// A writer process killed with SIGKILL between (or inside) commits: after reopen
// the database holds exactly the batches that committed — every reported one and
// at most the one in flight, each complete (usage, window rows and intervals
// agree), never a partial or doubled batch.
TEST(SqliteDurability, KilledWriterKeepsExactlyTheCommittedBatches) {
  TempDir dir;
  const std::string path = dir.path() + "/kill.db";
  int64_t sid = 0;
  {
    auto s = Store::open(path);
    ASSERT_TRUE(s) << s.error().message();
    auto id = (*s)->begin_session(session_row("srv", 1, "192.0.2.1"));
    ASSERT_TRUE(id);
    sid = *id;
  }
  const Principal who{PrincipalKind::kUser, "w"};
  const WindowStarts w = windows("2025-03-11", "2025-03-10", "2025-03-01");
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(fds[0]);
    auto s = Store::open(path);
    if (!s) {
      ::_exit(3);
    }
    for (uint32_t k = 1; k < 1'000'000; ++k) {
      WriteBatch b;
      b.usage = {{who, w, k, 2ULL * k}};
      b.intervals = {{sid, k, k, k, 0, -1, -1}};
      if (!(*s)->write(b)) {
        ::_exit(4);
      }
      if (::write(fds[1], &k, sizeof(k)) != sizeof(k)) {
        ::_exit(5);
      }
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  uint32_t reported = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (reported < 40 && std::chrono::steady_clock::now() < deadline) {
    uint32_t k = 0;
    if (::read(fds[0], &k, sizeof(k)) != sizeof(k)) {
      break;
    }
    reported = k;
  }
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited early with " << WEXITSTATUS(status);
  for (uint32_t k = 0; ::read(fds[0], &k, sizeof(k)) == sizeof(k);) {
    reported = k;  // commits reported after our last read
  }
  ::close(fds[0]);
  ASSERT_GE(reported, 1u);

  auto s = Store::open(path);
  ASSERT_TRUE(s) << s.error().message();
  auto u = (*s)->usage(who, w);
  ASSERT_TRUE(u);
  auto iv = (*s)->intervals(sid);
  ASSERT_TRUE(iv);
  const uint64_t n = iv->size();  // batches in the database
  EXPECT_TRUE(n == reported || n == reported + 1ULL) << "reported " << reported << ", stored " << n;
  const uint64_t sum = n * (n + 1) / 2;
  EXPECT_EQ(u->day.in, sum);
  EXPECT_EQ(u->day.out, 2 * sum);
  EXPECT_EQ(u->week.in, sum);
  EXPECT_EQ(u->month.out, 2 * sum);
}

}  // namespace
}  // namespace linerate::btest::pro
