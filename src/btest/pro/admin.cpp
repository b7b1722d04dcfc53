// btest/pro/admin.cpp — see admin.hpp.
#include "btest/pro/admin.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "btest/ecsrp5.hpp"
#include "btest/pro/detail/common.hpp"
#include "btest/pro/windows.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace linerate::btest::pro {

namespace {

using nlohmann::json;

constexpr std::array<const char*, 3> kWindowNames = {"day", "week", "month"};

std::string strip_line_end(std::string line) {
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

core::Result<std::string> new_verifier(const std::string& name, const std::string& password) {
  auto v = ecsrp5::derive_verifier(name, password);
  if (!v) {
    return core::fail("user '" + name + "': cannot derive verifier: " + v.error().message());
  }
  return ecsrp5::to_text(*v);
}

const DirLimits& dir_limits(const Limits& l, std::size_t w) { return w == 0 ? l.day : w == 1 ? l.week : l.month; }
const Usage& usage_of(const UsageByWindow& u, std::size_t w) { return w == 0 ? u.day : w == 1 ? u.week : u.month; }
const std::string& start_of(const WindowStarts& s, std::size_t w) { return w == 0 ? s.day : w == 1 ? s.week : s.month; }

std::string limit_cell(uint64_t v) { return v == 0 ? "-" : format_size(v); }

json limits_json(const Limits& l) {
  json j = json::object();
  const char* names[] = {"daily", "weekly", "monthly"};
  for (std::size_t w = 0; w < 3; ++w) {
    const DirLimits& d = dir_limits(l, w);
    j[names[w]] = {{"total", d.total}, {"in", d.in}, {"out", d.out}};
  }
  return j;
}

// A plain text table: columns padded to their widest cell.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width;
  for (const auto& r : rows) {
    width.resize(std::max(width.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) {
      width[i] = std::max(width[i], r[i].size());
    }
  }
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) {
        line.append(width[i] - r[i].size() + 2, ' ');
      }
    }
    out += line + "\n";
  }
  return out;
}

core::Result<std::string> user_add(Store& store, const AdminCommand& cmd, int64_t now_unix) {
  if (!cmd.password) {
    return core::fail("user add: a password is required (--password or --password-file)");
  }
  auto pw = read_password(*cmd.password);
  if (!pw) {
    return tl::unexpected(pw.error());
  }
  User u;
  u.name = cmd.name;
  u.enabled = cmd.enabled.value_or(true);
  u.allow_md5 = cmd.allow_md5.value_or(false);
  if (u.allow_md5) {
    u.md5_password = *pw;
  }
  auto v = new_verifier(u.name, *pw);
  if (!v) {
    return tl::unexpected(v.error());
  }
  u.verifier = *v;
  cmd.limits.apply(u.limits);
  u.created_unix = now_unix;
  if (auto r = store.add_user(u); !r) {
    return tl::unexpected(r.error());
  }
  return "user '" + u.name + "' added (" + auth_methods(u) + (u.enabled ? "" : ", disabled") + ")\n";
}

core::Result<std::string> user_set(Store& store, const AdminCommand& cmd) {
  auto found = store.find_user(cmd.name);
  if (!found) {
    return tl::unexpected(found.error());
  }
  if (!*found) {
    return core::fail("no user named '" + core::one_line(cmd.name) + "'");
  }
  User u = **found;
  if (cmd.enabled) {
    u.enabled = *cmd.enabled;
  }
  if (cmd.allow_md5) {
    u.allow_md5 = *cmd.allow_md5;
    if (!u.allow_md5) {
      u.md5_password.reset();  // --no-md5: the plaintext goes away
    }
  }
  if (cmd.password) {
    if (!u.allow_md5) {
      return core::fail("user set: a password goes only with --allow-md5 (use 'user passwd' to change it)");
    }
    auto pw = read_password(*cmd.password);
    if (!pw) {
      return tl::unexpected(pw.error());
    }
    // The verifier is rederived too, so MD5 and EC-SRP5 always accept the same password.
    auto v = new_verifier(u.name, *pw);
    if (!v) {
      return tl::unexpected(v.error());
    }
    u.verifier = *v;
    u.md5_password = *pw;
  } else if (u.allow_md5 && !u.md5_password) {
    return core::fail("user set: --allow-md5 needs the password again (--password or --password-file)");
  }
  cmd.limits.apply(u.limits);
  if (auto r = store.update_user(u); !r) {
    return tl::unexpected(r.error());
  }
  return "user '" + u.name + "' updated (" + (u.enabled ? "enabled" : "disabled") + ", " + auth_methods(u) + ")\n";
}

core::Result<std::string> user_passwd(Store& store, const AdminCommand& cmd) {
  if (!cmd.password) {
    return core::fail("user passwd: a password is required (--password or --password-file)");
  }
  auto found = store.find_user(cmd.name);
  if (!found) {
    return tl::unexpected(found.error());
  }
  if (!*found) {
    return core::fail("no user named '" + core::one_line(cmd.name) + "'");
  }
  auto pw = read_password(*cmd.password);
  if (!pw) {
    return tl::unexpected(pw.error());
  }
  User u = **found;
  auto v = new_verifier(u.name, *pw);
  if (!v) {
    return tl::unexpected(v.error());
  }
  u.verifier = *v;
  if (u.allow_md5) {
    u.md5_password = *pw;
  }
  if (auto r = store.update_user(u); !r) {
    return tl::unexpected(r.error());
  }
  return "user '" + u.name + "': password changed\n";
}

core::Result<std::string> user_list(Store& store, const AdminCommand& cmd) {
  auto users = store.list_users();
  if (!users) {
    return tl::unexpected(users.error());
  }
  if (cmd.json) {
    json arr = json::array();
    for (const User& u : *users) {
      arr.push_back({{"name", u.name},
                     {"enabled", u.enabled},
                     {"auth", auth_methods(u)},
                     {"limits", limits_json(u.limits)},
                     {"created", u.created_unix}});
    }
    return arr.dump(2) + "\n";
  }
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "ENABLED", "AUTH", "DAILY total/in/out", "WEEKLY total/in/out", "MONTHLY total/in/out"}};
  for (const User& u : *users) {
    std::vector<std::string> r = {core::one_line(u.name), u.enabled ? "yes" : "no", auth_methods(u)};
    for (std::size_t w = 0; w < 3; ++w) {
      const DirLimits& d = dir_limits(u.limits, w);
      r.push_back(limit_cell(d.total) + "/" + limit_cell(d.in) + "/" + limit_cell(d.out));
    }
    rows.push_back(std::move(r));
  }
  std::string out = table(rows);
  out +=
      std::to_string(users->size()) + (users->size() == 1 ? " user" : " users") + "; limits in bytes, - = unlimited\n";
  return out;
}

core::Result<std::string> usage_report(Store& store, const AdminCommand& cmd,
                                       std::chrono::system_clock::time_point now) {
  WindowStarts at;
  if (!cmd.at_date.empty()) {
    auto w = window_starts_for_date(cmd.at_date);
    if (!w) {
      return tl::unexpected(w.error());
    }
    at = *w;
  } else {
    if (auto tz = set_time_zone(cmd.time_zone); !tz) {
      return tl::unexpected(tz.error());
    }
    at = window_starts(now);
  }
  // Whose limits: a user's row; for an IP, the --ip-* flags if any were given.
  Limits limits;
  std::string source;
  if (cmd.who.kind == PrincipalKind::kUser) {
    auto found = store.find_user(cmd.who.key);
    if (!found) {
      return tl::unexpected(found.error());
    }
    if (!*found) {
      return core::fail("no user named '" + core::one_line(cmd.who.key) + "'");
    }
    limits = (*found)->limits;
    source = "user";
  } else if (cmd.limits.any()) {
    cmd.limits.apply(limits);
    source = "flags";
  } else {
    source = "none";
  }
  auto used = store.usage(cmd.who, at);
  if (!used) {
    return tl::unexpected(used.error());
  }
  const bool known = source != "none";
  const char* dirs[] = {"total", "in", "out"};
  auto pick = [](const Usage& u, std::size_t d) { return d == 0 ? u.total() : d == 1 ? u.in : u.out; };
  auto pick_limit = [](const DirLimits& l, std::size_t d) { return d == 0 ? l.total : d == 1 ? l.in : l.out; };

  if (cmd.json) {
    json windows = json::array();
    for (std::size_t w = 0; w < 3; ++w) {
      json win = {{"window", kWindowNames[w]}, {"start", start_of(at, w)}};
      for (std::size_t d = 0; d < 3; ++d) {
        uint64_t u = pick(usage_of(*used, w), d);
        uint64_t lim = pick_limit(dir_limits(limits, w), d);
        json cell = {{"used", u}, {"limit", nullptr}, {"remaining", nullptr}};
        if (known && lim != 0) {
          cell["limit"] = lim;
          cell["remaining"] = lim > u ? lim - u : 0;
        }
        win[dirs[d]] = cell;
      }
      windows.push_back(win);
    }
    json out = {{"kind", detail::principal_kind_text(cmd.who.kind)},
                {"principal", cmd.who.key},
                {"time_zone", cmd.at_date.empty() ? cmd.time_zone : std::string()},
                {"limits", source},
                {"windows", windows}};
    if (!cmd.at_date.empty()) {
      out["at"] = cmd.at_date;
      out.erase("time_zone");
    }
    return out.dump(2) + "\n";
  }
  std::string out = std::string(cmd.who.kind == PrincipalKind::kUser ? "user '" : "ip ") + core::one_line(cmd.who.key) +
                    (cmd.who.kind == PrincipalKind::kUser ? "'" : "") +
                    (cmd.at_date.empty() ? ": calendar windows in " + cmd.time_zone + " now"
                                         : ": calendar windows containing " + cmd.at_date) +
                    "\n";
  if (!known) {
    out += "no limit given (pass the server's --ip-daily ... flags to see what remains)\n";
  }
  std::vector<std::vector<std::string>> rows = {{"WINDOW", "START", "DIR", "USED", "LIMIT", "REMAINING"}};
  for (std::size_t w = 0; w < 3; ++w) {
    for (std::size_t d = 0; d < 3; ++d) {
      uint64_t u = pick(usage_of(*used, w), d);
      uint64_t lim = pick_limit(dir_limits(limits, w), d);
      std::string lim_text = !known ? "-" : lim == 0 ? "unlimited" : core::format_bytes(lim);
      std::string rem_text = !known || lim == 0 ? "-" : core::format_bytes(lim > u ? lim - u : 0);
      rows.push_back({d == 0 ? kWindowNames[w] : "", d == 0 ? start_of(at, w) : "", dirs[d], core::format_bytes(u),
                      lim_text, rem_text});
    }
  }
  return out + table(rows);
}

}  // namespace

std::string auth_methods(const User& u) { return u.allow_md5 ? "ecsrp5,md5" : "ecsrp5"; }

core::Result<std::string> read_password(const PasswordSource& src) {
  if (src.kind == PasswordSource::Kind::kText) {
    return src.value;
  }
  std::string line;
  if (src.value == "-") {
    if (!std::getline(std::cin, line) && !std::cin.eof()) {
      return core::fail("cannot read the password from standard input");
    }
    return strip_line_end(line);
  }
  std::ifstream in(src.value, std::ios::binary);
  if (!in) {
    return core::errno_error("cannot read password file '" + core::one_line(src.value) + "'");
  }
  if (!std::getline(in, line) && in.bad()) {
    return core::fail("cannot read password file '" + core::one_line(src.value) + "'");
  }
  return strip_line_end(line);
}

core::Result<std::string> run_admin(Store& store, const AdminCommand& cmd, std::chrono::system_clock::time_point now) {
  const int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  switch (cmd.action) {
    case AdminAction::kUserAdd:
      return user_add(store, cmd, now_unix);
    case AdminAction::kUserDel: {
      auto r = store.delete_user(cmd.name);
      if (!r) {
        return tl::unexpected(r.error());
      }
      if (!*r) {
        return core::fail("no user named '" + core::one_line(cmd.name) + "'");
      }
      return "user '" + cmd.name + "' deleted\n";
    }
    case AdminAction::kUserList:
      return user_list(store, cmd);
    case AdminAction::kUserSet:
      return user_set(store, cmd);
    case AdminAction::kUserPasswd:
      return user_passwd(store, cmd);
    case AdminAction::kUsage:
      return usage_report(store, cmd, now);
  }
  return core::fail("unknown command");
}

core::Result<std::string> run_admin(const AdminCommand& cmd, std::chrono::system_clock::time_point now) {
  auto store = Store::open(cmd.db_url);
  if (!store) {
    return tl::unexpected(store.error());
  }
  return run_admin(**store, cmd, now);
}

}  // namespace linerate::btest::pro
