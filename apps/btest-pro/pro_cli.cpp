// apps/btest-pro/pro_cli.cpp — see pro_cli.hpp.
#include "pro_cli.hpp"

#include <array>

#include <CLI/CLI.hpp>

#include "btest/pro/web/request.hpp"
#include "btest/pro/windows.hpp"
#include "core/address.hpp"
#include "core/text.hpp"
#include "core/units.hpp"

namespace linerate::btest::pro::cli {

namespace {

const char* kVersion = "btest-pro (linerate) 0.1.0";

const char* kFooter = R"(Commands:
  btest-pro [--db URL] user add NAME (--password PW | --password-file F) [--allow-md5]
            [--disabled] [--daily SIZE] [--weekly SIZE] [--monthly SIZE] [--daily-in SIZE] ...
  btest-pro [--db URL] user del NAME
  btest-pro [--db URL] user list [--json]
  btest-pro [--db URL] user set NAME [--enable|--disable] [--allow-md5 --password PW | --no-md5]
            [limit flags]
  btest-pro [--db URL] user passwd NAME (--password PW | --password-file F)
  btest-pro [--db URL] usage (--user NAME | --ip ADDR) [--at YYYY-MM-DD] [--tz ZONE] [--json]
  btest-pro [--db URL] serve [-P PORT] [--listen ADDR]... [--ip-daily SIZE] ... (see serve --help)

--db: a SQLite file (default btest-pro.db in the working directory; sqlite:PATH also
works) or postgresql://user@host/dbname to share users and quotas between servers.

SIZE is bytes with an optional decimal suffix: K = 1000, M = 10^6, G = 10^9,
T = 10^12, optionally followed by B: 500M, 2G, 1.5T, 1000000. 0 = unlimited.
Limits per window: --daily/--weekly/--monthly cap in + out together; the -in
(client to server) and -out (server to client) forms cap one direction.

Windows are calendar periods in the --tz zone (default UTC): the day, the ISO
week (Monday to Sunday) and the month.

Passwords: every user is stored as an EC-SRP5 verifier (salted; the password
cannot be read back). The plaintext is kept only for users with --allow-md5,
because the MD5 login of RouterOS before 6.43 needs it; --no-md5 drops it.
--password-file reads the first line of F (- = standard input); prefer it to
--password, which other local users can see in the process list.

Exit status: 0 ok, 1 runtime failure (database, unknown user, unreadable file),
2 usage error.)";

Parsed usage(std::string msg) {
  Parsed p;
  p.action = Parsed::Action::kUsageError;
  p.text = core::one_line(msg);
  p.exit_code = kExitUsage;
  return p;
}

// The nine limit flags with a prefix ("" for a user's, "ip-" for per-IP limits).
struct LimitFlags {
  std::array<std::string, kLimitSlots> text;
  std::array<CLI::Option*, kLimitSlots> opts{};

  void add(CLI::App* app, const std::string& prefix, const std::string& whose) {
    for (std::size_t i = 0; i < kLimitSlots; ++i) {
      std::string stem(limit_slot_name(static_cast<LimitSlot>(i)));
      std::string help = whose + " " + stem + " limit in bytes (SIZE; 0 = unlimited)";
      opts[i] = app->add_option("--" + prefix + stem, text[i], help);
    }
  }
  [[nodiscard]] bool any() const {
    for (const CLI::Option* o : opts) {
      if (o != nullptr && o->count() > 0) {
        return true;
      }
    }
    return false;
  }
  // Parse the given flags into edits; "" on success, else the error line.
  std::string parse(LimitEdits& out) const {
    for (std::size_t i = 0; i < kLimitSlots; ++i) {
      if (opts[i] == nullptr || opts[i]->count() == 0) {
        continue;
      }
      auto v = parse_size(text[i]);
      if (!v) {
        return opts[i]->get_name() + ": " + v.error().message();
      }
      out.values[i] = *v;
    }
    return {};
  }
};

// Password flags shared by add, set and passwd.
struct PasswordFlags {
  std::string text;
  std::string file;
  CLI::Option* text_opt = nullptr;
  CLI::Option* file_opt = nullptr;

  void add(CLI::App* app) {
    text_opt =
        app->add_option("--password", text, "The password (visible in the process list; prefer --password-file)");
    file_opt = app->add_option("--password-file", file, "Read the password from the first line of FILE (- = stdin)");
    text_opt->excludes(file_opt);
    file_opt->excludes(text_opt);
  }
  [[nodiscard]] std::optional<PasswordSource> get() const {
    if (text_opt->count() > 0) {
      return PasswordSource{PasswordSource::Kind::kText, text};
    }
    if (file_opt->count() > 0) {
      return PasswordSource{PasswordSource::Kind::kFile, file};
    }
    return std::nullopt;
  }
};

std::string check_user_name(const std::string& name) {
  if (name.empty()) {
    return "user name must not be empty";
  }
  for (char c : name) {
    auto b = static_cast<unsigned char>(c);
    if (b < 0x20 || b == 0x7f) {
      return "user name '" + core::one_line(name) + "' contains a control character";
    }
  }
  return {};
}

}  // namespace

Parsed parse_cli(const std::vector<std::string>& args) {
  CLI::App app{"btest-pro — multi-user btest server with a user database and quotas (linerate)", "btest-pro"};
  app.footer(kFooter);
  app.set_version_flag("-V,--version", kVersion);
  app.require_subcommand(1);
  std::string db = kDefaultDbUrl;
  app.add_option("--db", db, "Database: FILE or sqlite:FILE (default btest-pro.db) or postgresql://...");

  // --- user ---------------------------------------------------------------------
  CLI::App* user = app.add_subcommand("user", "Manage users: add, del, list, set, passwd");
  user->require_subcommand(1);
  user->fallthrough();

  std::string add_name;
  PasswordFlags add_pw;
  bool add_md5 = false;
  bool add_disabled = false;
  LimitFlags add_limits;
  CLI::App* add = user->add_subcommand("add", "Add a user (EC-SRP5 verifier; plaintext only with --allow-md5)");
  add->fallthrough();
  add->add_option("name", add_name, "User name")->required();
  add_pw.add(add);
  add->add_flag("--allow-md5", add_md5, "Also allow the MD5 login of RouterOS before 6.43 (stores the plaintext)");
  add->add_flag("--disabled", add_disabled, "Create the user disabled");
  add_limits.add(add, "", "User's");

  std::string del_name;
  CLI::App* del = user->add_subcommand("del", "Delete a user (its usage history stays)");
  del->fallthrough();
  del->add_option("name", del_name, "User name")->required();

  bool list_json = false;
  CLI::App* list = user->add_subcommand("list", "List users: enabled, auth methods, limits (never passwords)");
  list->fallthrough();
  list->add_flag("--json", list_json, "JSON array instead of a table");

  std::string set_name;
  PasswordFlags set_pw;
  bool set_enable = false;
  bool set_disable = false;
  bool set_md5 = false;
  bool set_no_md5 = false;
  LimitFlags set_limits;
  CLI::App* set = user->add_subcommand("set", "Change a user: enable/disable, MD5, limits (0 = unlimited)");
  set->fallthrough();
  set->add_option("name", set_name, "User name")->required();
  auto* en = set->add_flag("--enable", set_enable, "Enable the user");
  auto* dis = set->add_flag("--disable", set_disable, "Disable the user (its logins are refused)");
  en->excludes(dis);
  dis->excludes(en);
  auto* md5 = set->add_flag("--allow-md5", set_md5, "Allow MD5 logins; needs the password again");
  auto* nomd5 = set->add_flag("--no-md5", set_no_md5, "Refuse MD5 logins and drop the stored plaintext");
  md5->excludes(nomd5);
  nomd5->excludes(md5);
  set_pw.add(set);
  set_limits.add(set, "", "User's");

  std::string pw_name;
  PasswordFlags pw_pw;
  CLI::App* passwd = user->add_subcommand("passwd", "Set a new password (new verifier with a fresh salt)");
  passwd->fallthrough();
  passwd->add_option("name", pw_name, "User name")->required();
  pw_pw.add(passwd);

  // --- usage --------------------------------------------------------------------
  std::string usage_user;
  std::string usage_ip;
  std::string usage_at;
  std::string usage_tz = "UTC";
  bool usage_json = false;
  LimitFlags usage_limits;
  CLI::App* use = app.add_subcommand("usage", "Used and remaining quota of a user or an IP per window");
  use->fallthrough();
  auto* u_opt = use->add_option("--user", usage_user, "User name");
  auto* ip_opt = use->add_option("--ip", usage_ip, "Client IP address");
  u_opt->excludes(ip_opt);
  ip_opt->excludes(u_opt);
  use->add_option("--at", usage_at, "The windows containing this date YYYY-MM-DD (default: now)");
  use->add_option("--tz", usage_tz, "Zone of the windows: UTC (default) or e.g. Europe/Riga");
  use->add_flag("--json", usage_json, "JSON instead of a table");
  usage_limits.add(use, "ip-", "The server's per-IP");

  // --- serve --------------------------------------------------------------------
  CLI::App* serve = app.add_subcommand("serve", "Run the server (users and quotas from --db)");
  serve->fallthrough();
  uint16_t port = kDefaultPort;
  std::vector<std::string> listen4;
  std::vector<std::string> listen6;
  std::string auth_word = "ecsrp5";
  LimitFlags ip_limits;
  unsigned max_conn_per_ip = 0;
  std::string max_duration = "0";
  unsigned max_sessions = 100;
  std::string udp_ports = "2001-2100";
  std::string syslog_target;
  std::string syslog_format = "5424";
  std::string csv_path;
  std::string serve_tz = "UTC";
  std::string server_name;
  bool quiet = false;
  std::string handshake_timeout = "10";
  std::string secondary_timeout = "10";
  std::string idle_timeout = "30";
  unsigned udp6_overhead = 48;
  bool no_offload = false;
  std::string web_listen;
  std::string admin_token;
  std::string admin_token_file;
  serve->add_option("-P,--port", port, "TCP port (default 2000, as RouterOS)")->check(CLI::Range(1, 65535));
  serve->add_option("--listen", listen4,
                    "IPv4 address to listen on (repeatable). Default: 0.0.0.0 and :: together; giving --listen or "
                    "--listen6 listens only where told");
  serve->add_option("--listen6", listen6, "IPv6 address to listen on (repeatable; see --listen)");
  serve
      ->add_option("--auth", auth_word,
                   "ecsrp5 (default; RouterOS 6.43+) or md5 (older clients; users with --allow-md5)")
      ->check(CLI::IsMember({"md5", "ecsrp5"}));
  ip_limits.add(serve, "ip-", "Per-IP");
  serve->add_option("--max-conn-per-ip", max_conn_per_ip,
                    "Concurrent tests per client IP (a multi-connection test counts once), 0 = unlimited (default)");
  serve->add_option("--max-duration", max_duration, "End any test after this long, 0 = never (default 0)");
  serve->add_option("--max-sessions", max_sessions, "Concurrent tests allowed, 0 = unlimited (default 100)");
  serve->add_option("--udp-ports", udp_ports,
                    "UDP data ports FIRST-LAST, lowest free first (default 2001-2100; clients use port+256)");
  serve->add_option("--syslog", syslog_target, "Send events to a syslog collector at HOST[:PORT] (UDP, default 514)");
  serve->add_option("--syslog-format", syslog_format, "5424 (default) or 3164")->check(CLI::IsMember({"5424", "3164"}));
  serve->add_option("--csv", csv_path, "Append one CSV row per finished test to FILE (header written once)");
  serve->add_option("--tz", serve_tz, "Zone of the quota windows: UTC (default) or e.g. Europe/Riga");
  serve->add_option("--server-name", server_name, "Name recorded with sessions (default HOSTNAME:PORT)");
  serve->add_flag("-q,--quiet", quiet, "Warnings and errors only");
  serve->add_option("--handshake-timeout", handshake_timeout,
                    "Drop a peer that has not finished the handshake (default 10s)");
  serve->add_option("--secondary-timeout", secondary_timeout,
                    "Wait this long for missing secondary connections (default 10s)");
  serve->add_option("--idle-timeout", idle_timeout,
                    "Drop a data connection with no progress for this long (default 30s)");
  serve
      ->add_option("--udp6-overhead", udp6_overhead,
                   "Header bytes counted per IPv6 UDP packet: 48 (IPv6+UDP, default) or 28 (as IPv4)")
      ->check(CLI::IsMember({28, 48}));
  serve->add_flag("--no-offload", no_offload, "UDP: no GSO/GRO, one datagram per message");
  serve->add_option("--web", web_listen,
                    "Serve the dashboard, JSON API and /metrics at ADDR:PORT, e.g. 127.0.0.1:8080 or [::1]:8080 "
                    "(default: off)");
  auto* token_opt = serve->add_option(
      "--admin-token", admin_token,
      "Token that opens the dashboard's admin view and every IP's page (16+ characters; visible in the "
      "process list: prefer --admin-token-file)");
  serve->add_option("--admin-token-file", admin_token_file, "Read the admin token from the first line of FILE")
      ->excludes(token_opt);

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    Parsed p;
    p.action = Parsed::Action::kPrint;
    p.text = app.help();
    return p;
  } catch (const CLI::CallForVersion&) {
    Parsed p;
    p.action = Parsed::Action::kPrint;
    p.text = std::string(kVersion) + "\n";
    return p;
  } catch (const CLI::ParseError& e) {
    return usage(e.what());
  }
  if (db.empty()) {
    return usage("--db must not be empty");
  }

  Parsed out;
  if (*serve) {
    ServeConfig cfg;
    ServerConfig& s = cfg.server;
    cfg.db_url = db;
    s.port = port;
    s.auth_method = auth_word == "md5" ? AuthMethod::kMd5 : AuthMethod::kEcSrp5;
    s.csv_path = csv_path;
    s.syslog_target = syslog_target;
    s.syslog_format = syslog_format == "3164" ? core::SyslogFormat::kRfc3164 : core::SyslogFormat::kRfc5424;
    s.max_sessions = max_sessions;
    s.quiet = quiet;
    s.udp_ipv6_overhead = udp6_overhead;
    s.udp_offload = !no_offload;
    std::string err;
    auto parse_ms = [&err](const std::string& text, const char* flag) -> std::optional<core::Millis> {
      auto v = core::parse_duration_ms(text);
      if (!v) {
        err = std::string(flag) + ": " + v.error().message();
        return std::nullopt;
      }
      return core::Millis(static_cast<int64_t>(*v));
    };
    auto md = parse_ms(max_duration, "--max-duration");
    auto ht = parse_ms(handshake_timeout, "--handshake-timeout");
    auto st = parse_ms(secondary_timeout, "--secondary-timeout");
    auto it = parse_ms(idle_timeout, "--idle-timeout");
    if (!md || !ht || !st || !it) {
      return usage(err);
    }
    s.max_duration = *md;
    s.handshake_timeout = *ht;
    s.secondary_timeout = *st;
    s.idle_timeout = *it;
    auto range = parse_udp_port_range(udp_ports);
    if (!range) {
      return usage(range.error().message());
    }
    s.udp_port_first = range->first;
    s.udp_port_last = range->second;
    out.default_listen = listen4.empty() && listen6.empty();
    auto listen = listen_addresses(listen4, listen6);
    if (!listen) {
      return usage(listen.error().message());
    }
    s.listen = std::move(*listen);
    LimitEdits edits;
    if (std::string e = ip_limits.parse(edits); !e.empty()) {
      return usage(e);
    }
    edits.apply(cfg.ip_limits);
    cfg.max_conn_per_ip = max_conn_per_ip;
    if (serve_tz.empty()) {
      return usage("--tz must not be empty");
    }
    cfg.time_zone = serve_tz;
    cfg.server_name = server_name;
    if (!web_listen.empty()) {
      if (auto w = web::parse_listen(web_listen); !w) {
        return usage(w.error());
      }
    }
    if (!admin_token.empty()) {
      if (auto t = web::check_token(admin_token); !t) {
        return usage("--admin-token: " + t.error());
      }
    }
    if ((!admin_token.empty() || !admin_token_file.empty()) && web_listen.empty()) {
      return usage("--admin-token and --admin-token-file need --web ADDR:PORT");
    }
    cfg.web_listen = web_listen;
    cfg.admin_token = admin_token;
    cfg.admin_token_file = admin_token_file;
    out.action = Parsed::Action::kServe;
    out.serve = std::move(cfg);
    return out;
  }

  AdminCommand cmd;
  cmd.db_url = db;
  if (*use) {
    cmd.action = AdminAction::kUsage;
    if (u_opt->count() == 0 && ip_opt->count() == 0) {
      return usage("usage: say whose: --user NAME or --ip ADDR");
    }
    if (u_opt->count() > 0) {
      if (std::string e = check_user_name(usage_user); !e.empty()) {
        return usage(e);
      }
      if (usage_limits.any()) {
        return usage("--ip-* limits apply to --ip only; a user's limits come from the database");
      }
      cmd.who = Principal{PrincipalKind::kUser, usage_user};
    } else {
      auto ip = core::parse_ip(usage_ip, 0);
      if (!ip) {
        return usage("--ip: '" + usage_ip + "' is not an IPv4 or IPv6 address");
      }
      cmd.who = Principal{PrincipalKind::kIp, ip->ip()};  // canonical: v4-mapped IPv6 prints as IPv4
      if (std::string e = usage_limits.parse(cmd.limits); !e.empty()) {
        return usage(e);
      }
    }
    if (!usage_at.empty()) {
      if (auto w = window_starts_for_date(usage_at); !w) {
        return usage("--at: " + w.error().message());
      }
    }
    if (usage_tz.empty()) {
      return usage("--tz must not be empty");
    }
    cmd.at_date = usage_at;
    cmd.time_zone = usage_tz;
    cmd.json = usage_json;
  } else if (*add) {
    cmd.action = AdminAction::kUserAdd;
    cmd.name = add_name;
    cmd.password = add_pw.get();
    if (!cmd.password) {
      return usage("user add: give the password with --password PW or --password-file FILE");
    }
    cmd.enabled = !add_disabled;
    cmd.allow_md5 = add_md5;
    if (std::string e = add_limits.parse(cmd.limits); !e.empty()) {
      return usage(e);
    }
  } else if (*del) {
    cmd.action = AdminAction::kUserDel;
    cmd.name = del_name;
  } else if (*list) {
    cmd.action = AdminAction::kUserList;
    cmd.json = list_json;
  } else if (*set) {
    cmd.action = AdminAction::kUserSet;
    cmd.name = set_name;
    cmd.password = set_pw.get();
    if (set_md5 && !cmd.password) {
      return usage(
          "user set --allow-md5 needs the password again (--password or --password-file): only a verifier "
          "is stored");
    }
    if (cmd.password && !set_md5) {
      return usage("user set: --password goes only with --allow-md5; use 'user passwd NAME' to change a password");
    }
    if (set_enable || set_disable) {
      cmd.enabled = set_enable;
    }
    if (set_md5 || set_no_md5) {
      cmd.allow_md5 = set_md5;
    }
    if (std::string e = set_limits.parse(cmd.limits); !e.empty()) {
      return usage(e);
    }
    if (!cmd.enabled && !cmd.allow_md5 && !cmd.limits.any()) {
      return usage("user set: nothing to change (give --enable, --disable, --allow-md5, --no-md5 or a limit)");
    }
  } else if (*passwd) {
    cmd.action = AdminAction::kUserPasswd;
    cmd.name = pw_name;
    cmd.password = pw_pw.get();
    if (!cmd.password) {
      return usage("user passwd: give the password with --password PW or --password-file FILE");
    }
  } else {
    return usage("choose a command: user, usage or serve");
  }
  if (cmd.action != AdminAction::kUserList && cmd.action != AdminAction::kUsage) {
    if (std::string e = check_user_name(cmd.name); !e.empty()) {
      return usage(e);
    }
  }
  out.action = Parsed::Action::kAdmin;
  out.admin = std::move(cmd);
  return out;
}

}  // namespace linerate::btest::pro::cli
