// bench/load/pro_seed.cpp — fill a btest-pro database with N users for load
// benchmarks: names <prefix>0 .. <prefix>N-1, one password, EC-SRP5 verifiers
// with fresh salts (and the plaintext with --allow-md5), no limits.
//
//   pro_seed --db URL --users N --prefix u --password bench [--allow-md5]
// Exit 0 ok, 1 database error, 2 usage error.
#include <chrono>
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "btest/ecsrp5.hpp"
#include "btest/pro/store.hpp"

using namespace linerate;

int main(int argc, char** argv) {
  CLI::App app{"pro_seed — N users in a btest-pro database (benchmarks)", "pro_seed"};
  std::string db;
  unsigned users = 10'000;
  std::string prefix = "u";
  std::string password = "bench";
  bool allow_md5 = false;
  app.add_option("--db", db, "Database URL (as btest-pro --db)")->required();
  app.add_option("--users", users, "How many users (default 10000)")->check(CLI::Range(1u, 10'000'000u));
  app.add_option("--prefix", prefix, "Name prefix (default u)");
  app.add_option("--password", password, "Everyone's password (default bench)");
  app.add_flag("--allow-md5", allow_md5, "Also store the plaintext so MD5 logins work");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto store = btest::pro::Store::open(db);
  if (!store) {
    std::fprintf(stderr, "pro_seed: %s\n", store.error().message().c_str());
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (unsigned i = 0; i < users; ++i) {
    btest::pro::User u;
    u.name = prefix + std::to_string(i);
    auto v = btest::ecsrp5::derive_verifier(u.name, password);
    if (!v) {
      std::fprintf(stderr, "pro_seed: %s\n", v.error().message().c_str());
      return 1;
    }
    u.verifier = btest::ecsrp5::to_text(*v);
    u.allow_md5 = allow_md5;
    if (allow_md5) {
      u.md5_password = password;
    }
    if (auto r = (*store)->add_user(u); !r) {
      std::fprintf(stderr, "pro_seed: user %s: %s\n", u.name.c_str(), r.error().message().c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "pro_seed: %u users in %.1f s (%s)\n", users,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
               std::string((*store)->backend()).c_str());
  return 0;
}
