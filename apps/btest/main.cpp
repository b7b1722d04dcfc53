// apps/btest/main.cpp — command line for the btest client and server.
// Parses flags into ClientConfig/ServerConfig, runs, maps results to exit codes.
// Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 authentication failed
// or required.
#include <cstdio>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "btest/client.hpp"
#include "btest/server.hpp"
#include "core/csv.hpp"
#include "core/interrupt.hpp"
#include "core/units.hpp"

namespace {

using namespace linerate;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitAuth = 3;

int usage_error(const std::string& msg) {
  std::fprintf(stderr, "btest: %s\nTry 'btest --help' for more information.\n", msg.c_str());
  return kExitUsage;
}

const char* kFooter = R"(Modes:
  btest -s [options]             run a server that RouterOS /tool bandwidth-test can use
  btest -c HOST [options]        test against a btest server (ours or a RouterOS router)

Direction (client, RouterOS words): -t transmit (we send), -r receive (server
sends; the default, as in RouterOS), -t -r both.

Speed limits are decimal bits per second: 500K, 100M, 1.5G (0 = unlimited, at most
4294967295 bit/s, the protocol's 32-bit field). -b caps whichever side sends;
--local-tx-speed and --remote-tx-speed set our cap and the server's cap apart.

Multi-connection TCP (--connections N, RouterOS default 20): secondary connections
send the session token followed by the rest of our command; the spec leaves those
14 bytes uncertain, so our server accepts any bytes after a valid token.
TCP payload is always zeros, even with --random-data (the flag is sent to the
server), so status records inside the stream stay unambiguous.

Exit status: 0 test completed (also when ended by Ctrl-C), 1 runtime failure
(cannot connect, protocol error, server ended the test early), 2 usage error,
3 authentication failed or required.

Examples:
  btest -s -a btest -p btest --csv tests.csv
  btest -c 192.0.2.1 -t -r -d 30 --connections 20 -a admin -p secret
  btest -c ::1 -r -b 100M --json)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"btest — MikroTik-compatible bandwidth test client and server (linerate)", "btest"};
  app.footer(kFooter);
  app.set_version_flag("-V,--version", "btest (linerate) 0.1.0");

  bool server_mode = false;
  std::string host;
  uint16_t port = btest::kDefaultPort;
  bool tx = false;
  bool rx = false;
  std::string direction_word;
  std::string bw;
  std::string local_bw;
  std::string remote_bw;
  std::string duration = "10";
  unsigned connections = 1;
  std::string user;
  std::string password;
  std::string csv_path;
  bool quiet = false;
  bool json = false;
  bool random_data = false;
  std::vector<std::string> listen4;
  std::vector<std::string> listen6;
  std::string syslog_target;
  std::string syslog_format = "5424";
  unsigned max_sessions = 100;
  std::string max_duration = "0";
  std::string handshake_timeout = "10";
  std::string secondary_timeout = "10";
  std::string idle_timeout = "30";

  auto* s_opt = app.add_flag("-s,--server", server_mode, "Run as a server");
  auto* c_opt = app.add_option("-c,--client", host, "Run as a client against HOST (name, IPv4 or IPv6)");
  s_opt->excludes(c_opt);
  app.add_option("-P,--port", port, "TCP port (default 2000, as RouterOS)")->check(CLI::Range(1, 65535));
  auto* a_opt = app.add_option("-a,--user", user, "User name for authentication");
  auto* p_opt = app.add_option("-p,--password", password, "Password (required with -a; may be empty: -p '')");
  a_opt->needs(p_opt);
  p_opt->needs(a_opt);
  app.add_option("--csv", csv_path, "Append one CSV row per finished test to FILE (header written once)");
  app.add_flag("-q,--quiet", quiet, "Client: no per-second lines. Server: warnings and errors only");

  auto* g_client = app.add_option_group("Client");
  g_client->add_flag("-t,--transmit", tx, "We transmit (RouterOS direction=transmit)");
  g_client->add_flag("-r,--receive", rx, "We receive (RouterOS direction=receive; default)");
  g_client->add_option("--direction", direction_word, "transmit, receive or both (instead of -t/-r)")
      ->check(CLI::IsMember({"transmit", "receive", "both"}));
  g_client->add_option("-b,--bandwidth", bw, "Speed cap for each sending side, e.g. 100M (default unlimited)");
  g_client->add_option("--local-tx-speed", local_bw, "Our transmit cap (overrides -b for our side)");
  g_client->add_option("--remote-tx-speed", remote_bw, "The server's transmit cap (overrides -b for its side)");
  g_client->add_option("-d,--duration", duration, "Test length: 10, 30s, 5m; 0 = until Ctrl-C (default 10)");
  g_client->add_option("--connections", connections, "TCP connections, 1-255 (default 1)")
      ->check(CLI::Range(1, 255));
  g_client->add_flag("--random-data", random_data, "Ask for random payload (RouterOS random-data=yes)");
  g_client->add_flag("--json", json, "Print one JSON summary on stdout instead of text");

  auto* g_server = app.add_option_group("Server");
  g_server->add_option("--listen", listen4, "IPv4 address to listen on (repeatable; default 0.0.0.0)");
  g_server->add_option("--listen6", listen6, "IPv6 address to listen on (repeatable; default ::)");
  g_server->add_option("--syslog", syslog_target, "Send events to a syslog collector at HOST[:PORT] (UDP, default 514)");
  g_server->add_option("--syslog-format", syslog_format, "5424 (default) or 3164")
      ->check(CLI::IsMember({"5424", "3164"}));
  g_server->add_option("--max-sessions", max_sessions, "Concurrent tests allowed, 0 = unlimited (default 100)");
  g_server->add_option("--max-duration", max_duration, "End any test after this long, 0 = never (default 0)");
  g_server->add_option("--handshake-timeout", handshake_timeout, "Drop a peer that has not finished the handshake (default 10s)");
  g_server->add_option("--secondary-timeout", secondary_timeout, "Wait this long for missing secondary connections (default 10s)");
  g_server->add_option("--idle-timeout", idle_timeout, "Drop a data connection with no progress for this long (default 30s)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      return app.exit(e);
    }
    return usage_error(e.what());
  }

  if (!server_mode && host.empty()) {
    return usage_error("choose a mode: -s (server) or -c HOST (client)");
  }
  std::optional<btest::Credentials> creds;
  if (!user.empty() || a_opt->count() > 0) {
    if (user.empty()) {
      return usage_error("-a needs a non-empty user name");
    }
    creds = btest::Credentials{user, password};
  }
  auto parse_ms = [](const std::string& text, uint64_t& out, const char* flag) -> bool {
    auto v = core::parse_duration_ms(text);
    if (!v) {
      std::fprintf(stderr, "btest: %s: %s\n", flag, v.error().message().c_str());
      return false;
    }
    out = *v;
    return true;
  };

  core::Interrupt stop;
  core::install_signal_stop(stop);

  if (server_mode) {
    btest::ServerConfig cfg;
    cfg.port = port;
    cfg.auth = creds;
    cfg.csv_path = csv_path;
    cfg.syslog_target = syslog_target;
    cfg.syslog_format = syslog_format == "3164" ? core::SyslogFormat::kRfc3164 : core::SyslogFormat::kRfc5424;
    cfg.max_sessions = max_sessions;
    cfg.quiet = quiet;
    uint64_t ms = 0;
    if (!parse_ms(max_duration, ms, "--max-duration")) {
      return kExitUsage;
    }
    cfg.max_duration = core::Millis(ms);
    if (!parse_ms(handshake_timeout, ms, "--handshake-timeout")) {
      return kExitUsage;
    }
    cfg.handshake_timeout = core::Millis(ms);
    if (!parse_ms(secondary_timeout, ms, "--secondary-timeout")) {
      return kExitUsage;
    }
    cfg.secondary_timeout = core::Millis(ms);
    if (!parse_ms(idle_timeout, ms, "--idle-timeout")) {
      return kExitUsage;
    }
    cfg.idle_timeout = core::Millis(ms);
    bool defaults = listen4.empty() && listen6.empty();
    cfg.listen = listen4;
    cfg.listen.insert(cfg.listen.end(), listen6.begin(), listen6.end());
    if (defaults) {
      cfg.listen = {"0.0.0.0", "::"};
    }
    auto server = btest::Server::create(cfg);
    if (!server && defaults) {
      // No IPv6 on this host: serve IPv4 alone rather than refuse to start.
      std::fprintf(stderr, "btest: IPv6 listener unavailable (%s); serving IPv4 only\n",
                   server.error().message().c_str());
      cfg.listen = {"0.0.0.0"};
      server = btest::Server::create(cfg);
    }
    if (!server) {
      std::fprintf(stderr, "btest: %s\n", server.error().message().c_str());
      return kExitFailure;
    }
    (*server)->run(stop);
    return kExitOk;
  }

  // Client.
  btest::ClientConfig cfg;
  cfg.host = host;
  cfg.port = port;
  cfg.auth = creds;
  cfg.connections = connections;
  cfg.random_payload = random_data;
  if (!direction_word.empty()) {
    if (tx || rx) {
      return usage_error("use either --direction or -t/-r, not both");
    }
    cfg.direction = direction_word == "transmit" ? btest::Direction::kClientTx
                    : direction_word == "both"   ? btest::Direction::kBoth
                                                 : btest::Direction::kClientRx;
  } else if (tx && rx) {
    cfg.direction = btest::Direction::kBoth;
  } else if (tx) {
    cfg.direction = btest::Direction::kClientTx;
  } else {
    cfg.direction = btest::Direction::kClientRx;
  }
  auto parse_bw = [](const std::string& text, uint64_t& out, const char* flag) -> bool {
    if (text.empty()) {
      return true;
    }
    auto v = core::parse_bandwidth(text);
    if (!v) {
      std::fprintf(stderr, "btest: %s: %s\n", flag, v.error().message().c_str());
      return false;
    }
    if (*v > 0xFFFFFFFFULL) {
      std::fprintf(stderr, "btest: %s: %s is above 4294967295 bit/s, the most the btest protocol can carry\n",
                   flag, text.c_str());
      return false;
    }
    out = *v;
    return true;
  };
  uint64_t both_bw = 0;
  if (!parse_bw(bw, both_bw, "-b") || !parse_bw(local_bw, cfg.local_tx_speed, "--local-tx-speed") ||
      !parse_bw(remote_bw, cfg.remote_tx_speed, "--remote-tx-speed")) {
    return kExitUsage;
  }
  if (local_bw.empty()) {
    cfg.local_tx_speed = both_bw;
  }
  if (remote_bw.empty()) {
    cfg.remote_tx_speed = both_bw;
  }
  uint64_t ms = 0;
  if (!parse_ms(duration, ms, "-d")) {
    return kExitUsage;
  }
  cfg.duration = core::Millis(ms);

  std::optional<core::CsvAppender> csv;
  if (!csv_path.empty()) {
    auto c = core::CsvAppender::open(csv_path, btest::csv_header());
    if (!c) {
      std::fprintf(stderr, "btest: %s\n", c.error().message().c_str());
      return kExitFailure;
    }
    csv.emplace(std::move(*c));
  }

  const bool lines = !quiet && !json;
  if (lines) {
    char len_text[32];
    std::snprintf(len_text, sizeof(len_text), "%.1f s", static_cast<double>(ms) / 1000.0);
    std::printf("Connecting to %s port %u: TCP %s, %u connection%s, %s\n", host.c_str(), port,
                std::string(btest::direction_name(cfg.direction)).c_str(), connections, connections == 1 ? "" : "s",
                ms == 0 ? "until Ctrl-C" : len_text);
    std::fflush(stdout);
  }
  auto outcome = btest::run_client(cfg, stop, [&](const btest::TestRecord& r, const btest::IntervalSample& s) {
    if (lines) {
      std::printf("%s\n", btest::interval_line(r, s).c_str());
      std::fflush(stdout);
    }
  });
  for (const auto& w : outcome.warnings) {
    std::fprintf(stderr, "btest: warning: %s\n", w.c_str());
  }
  if (!outcome.started) {
    std::fprintf(stderr, "btest: %s\n", outcome.error.c_str());
    switch (outcome.failure) {
      case btest::ClientFailure::kAuthFailed:
      case btest::ClientFailure::kAuthRequired:
        return kExitAuth;
      default:
        return kExitFailure;
    }
  }
  const auto& rec = outcome.record;
  if (json) {
    std::printf("%s\n", btest::summary_json(rec).c_str());
  } else {
    std::printf("%s", btest::summary_text(rec).c_str());
  }
  if (csv) {
    if (auto r = csv->append(btest::csv_row(rec)); !r) {
      std::fprintf(stderr, "btest: %s\n", r.error().message().c_str());
      return kExitFailure;
    }
  }
  return rec.ok ? kExitOk : kExitFailure;
}
