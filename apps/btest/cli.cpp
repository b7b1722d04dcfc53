// apps/btest/cli.cpp — see cli.hpp.
#include "cli.hpp"

#include <CLI/CLI.hpp>

#include "core/text.hpp"
#include "core/units.hpp"
#include "core/version.hpp"

namespace linerate::btest::cli {

namespace {

const char* kFooter = R"(Modes:
  btest -s [options]             run a server that RouterOS /tool bandwidth-test can use
  btest -c HOST [options]        test against a btest server (ours or a RouterOS router)

Direction (client, RouterOS words): -t transmit (we send), -r receive (server
sends; the default, as in RouterOS), -t -r both.

Speed limits are decimal bits per second: 500K, 100M, 1.5G (0 = unlimited, at most
4294967295 bit/s, the protocol's 32-bit field). -b caps whichever side sends;
--local-tx-speed and --remote-tx-speed set our cap and the server's cap apart.

UDP (-u): sizes are whole IP packets as in RouterOS (1500 = 1472 bytes of UDP
payload over IPv4). The server sends from its UDP port (--udp-ports, lowest free
first) to the client's port + 256; status goes both ways each second on the TCP
connection and each side prints the datagrams it lost. With no speed limit a UDP
sender adapts: it starts at 100 Mbit/s, quadruples while nothing is lost and
otherwise sends 110% of what the peer reported receiving (MikroTik's policy).
--connections N sends from N consecutive ports. IPv6 counts 48 header bytes per
packet by default (--udp6-overhead 28 counts as IPv4 does; RouterOS is unverified).

Multi-connection TCP (--connections N, RouterOS default 20): secondary connections
send the session token followed by the rest of our command; the spec leaves those
14 bytes uncertain, so our server accepts any bytes after a valid token.
--random-data asks both sides for random payload. A stream that carries status
records (the server's data in a "both" test) stays zeros so the records remain
unambiguous; every other stream is random.

Timeouts and durations take 10, 2.5, 500ms, 30s, 5m or 1h; 0 disables the limit.

Authentication: the client answers whatever the server asks (none, MD5 or
EC-SRP5). The server asks for EC-SRP5 when given -a/-p, as RouterOS 6.43 and
later do; --auth md5 serves clients older than 6.43. With EC-SRP5 the server
keeps only a salted verifier, derived at start-up with a fresh salt.

Exit status: 0 test completed (also when ended by the first Ctrl-C), 1 runtime
failure (cannot connect, protocol error, server ended the test early), 2 usage
error, 3 authentication failed or required; 130/143 when a second SIGINT/SIGTERM
forces an immediate exit.

Examples:
  btest -s -a btest -p btest --csv tests.csv   (EC-SRP5, as RouterOS 6.43+)
  btest -s -a btest -p btest --auth md5        (for RouterOS clients before 6.43)
  btest -c 192.0.2.1 -t -r -d 30 --connections 20 -a admin -p secret
  btest -c ::1 -r -b 100M --json
  btest -c 192.0.2.1 -u -t -r -b 50M --udp-size 1400)";

Parsed usage(std::string msg) {
  Parsed p;
  p.action = Parsed::Action::kUsageError;
  p.text = core::one_line(msg);  // argv may hold newlines: the error stays one line
  p.exit_code = kExitUsage;
  return p;
}

}  // namespace

Parsed parse_cli(const std::vector<std::string>& args) {
  CLI::App app{"btest — MikroTik-compatible bandwidth test client and server (linerate)", "btest"};
  app.footer(kFooter);
  app.set_version_flag("-V,--version", "btest (linerate) " + std::string(core::kVersion));

  bool server_mode = false;
  std::string host;
  uint16_t port = kDefaultPort;
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
  bool udp = false;
  unsigned udp_size = 0;
  unsigned local_udp_size = 0;
  unsigned remote_udp_size = 0;
  bool nat_probe = false;
  std::string udp_ports = "2001-2100";
  unsigned udp6_overhead = 48;
  bool no_offload = false;

  auto* s_opt = app.add_flag("-s,--server", server_mode, "Run as a server");
  auto* c_opt = app.add_option("-c,--client", host, "Run as a client against HOST (name, IPv4 or IPv6)");
  s_opt->excludes(c_opt);
  app.add_option("-P,--port", port, "TCP port (default 2000, as RouterOS)")->check(CLI::Range(1, 65535));
  auto* a_opt = app.add_option("-a,--user", user, "User name for authentication");
  auto* p_opt = app.add_option("-p,--password", password, "Password (required with -a; may be empty: -p '')");
  a_opt->needs(p_opt);
  p_opt->needs(a_opt);
  app.add_option("--csv", csv_path, "Append one CSV row per finished test to FILE (header written once)");
  app.add_option("--udp6-overhead", udp6_overhead,
                 "Header bytes counted per IPv6 UDP packet: 48 (IPv6+UDP, default) or 28 (as IPv4)")
      ->check(CLI::IsMember({28, 48}));
  app.add_flag("--no-offload", no_offload,
               "UDP: no GSO/GRO, one datagram per message (for comparison with tools that lack them)");
  app.add_flag("-q,--quiet", quiet,
               "Client: only the summary (no banner, no per-second lines). Server: warnings and errors only");

  // Options are grouped for help with ->group(), not CLI11 option groups: CLI11
  // 2.1.2 can loop forever on some argv with option groups (found by cli_fuzz).
  std::vector<CLI::Option*> client_only;
  std::vector<CLI::Option*> server_only;
  auto client_opt = [&](CLI::Option* o) {
    client_only.push_back(o->group("Client options"));
    return o;
  };
  auto server_opt = [&](CLI::Option* o) {
    server_only.push_back(o->group("Server options"));
    return o;
  };
  client_opt(app.add_flag("-t,--transmit", tx, "We transmit (RouterOS direction=transmit)"));
  client_opt(app.add_flag("-r,--receive", rx, "We receive (RouterOS direction=receive; default)"));
  client_opt(app.add_option("--direction", direction_word, "transmit, receive or both (instead of -t/-r)"))
      ->check(CLI::IsMember({"transmit", "receive", "both"}));
  client_opt(app.add_option("-b,--bandwidth", bw, "Speed cap for each sending side, e.g. 100M (default unlimited)"));
  client_opt(app.add_option("--local-tx-speed", local_bw, "Our transmit cap (overrides -b for our side)"));
  client_opt(app.add_option("--remote-tx-speed", remote_bw, "The server's transmit cap (overrides -b for its side)"));
  client_opt(app.add_option("-d,--duration", duration, "Test length: 10, 30s, 5m; 0 = until Ctrl-C (default 10)"));
  client_opt(app.add_option("--connections", connections, "Connections, 1-255 (default 1); UDP: source ports"))
      ->check(CLI::Range(1, 255));
  client_opt(app.add_flag("-u,--udp", udp, "UDP test instead of TCP (RouterOS protocol=udp)"));
  client_opt(
      app.add_option("--udp-size", udp_size,
                     "UDP packet size in bytes for both sides, IP+UDP header included, 28-64000 (default 1500)"));
  client_opt(
      app.add_option("--local-udp-tx-size", local_udp_size, "Size of the UDP packets we send (overrides --udp-size)"));
  client_opt(app.add_option("--remote-udp-tx-size", remote_udp_size,
                            "Size of the UDP packets the server sends (overrides --udp-size)"));
  client_opt(app.add_flag("-n,--nat", nat_probe,
                          "Accepted for compatibility: the empty datagram that opens a NAT pinhole is always sent"));
  client_opt(app.add_flag("--random-data", random_data, "Ask for random payload (RouterOS random-data=yes)"));
  client_opt(app.add_flag("--json", json, "Print one JSON summary on stdout instead of text"));

  server_opt(app.add_option("--listen", listen4,
                            "IPv4 address to listen on (repeatable). Default: 0.0.0.0 and :: together; giving --listen "
                            "or --listen6 listens only where told"));
  std::string auth_word;
  server_opt(app.add_option("--auth", auth_word,
                            "ecsrp5 (default with -a; RouterOS 6.43+ clients), md5 (older clients) or none"))
      ->check(CLI::IsMember({"none", "md5", "ecsrp5"}));
  server_opt(app.add_option("--listen6", listen6, "IPv6 address to listen on (repeatable; see --listen)"));
  server_opt(
      app.add_option("--syslog", syslog_target, "Send events to a syslog collector at HOST[:PORT] (UDP, default 514)"));
  server_opt(app.add_option("--syslog-format", syslog_format, "5424 (default) or 3164"))
      ->check(CLI::IsMember({"5424", "3164"}));
  server_opt(app.add_option("--udp-ports", udp_ports,
                            "UDP data ports FIRST-LAST, lowest free first (default 2001-2100; clients use port+256)"));
  server_opt(app.add_option("--max-sessions", max_sessions, "Concurrent tests allowed, 0 = unlimited (default 100)"));
  server_opt(app.add_option("--max-duration", max_duration, "End any test after this long, 0 = never (default 0)"));
  server_opt(app.add_option("--handshake-timeout", handshake_timeout,
                            "Drop a peer that has not finished the handshake (default 10s)"));
  server_opt(app.add_option("--secondary-timeout", secondary_timeout,
                            "Wait this long for missing secondary connections (default 10s)"));
  server_opt(app.add_option("--idle-timeout", idle_timeout,
                            "Drop a data connection with no progress for this long (default 30s)"));

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
    p.text = "btest (linerate) " + std::string(core::kVersion) + "\n";
    return p;
  } catch (const CLI::ParseError& e) {
    return usage(e.what());
  }

  if (!server_mode && host.empty()) {
    return usage("choose a mode: -s (server) or -c HOST (client)");
  }
  // An option of the other mode is a mistake, not something to ignore silently.
  for (const CLI::Option* o : server_mode ? client_only : server_only) {
    if (o->count() > 0) {
      return usage(o->get_name() + " is a " + (server_mode ? "client" : "server") + " option; it does not apply with " +
                   (server_mode ? "-s" : "-c"));
    }
  }
  std::optional<Credentials> creds;
  if (a_opt->count() > 0) {
    if (user.empty()) {
      return usage("-a needs a non-empty user name");
    }
    creds = Credentials{user, password};
  }
  std::string err;
  auto parse_ms = [&err](const std::string& text, const char* flag) -> std::optional<core::Millis> {
    auto v = core::parse_duration_ms(text);
    if (!v) {
      err = std::string(flag) + ": " + v.error().message();
      return std::nullopt;
    }
    return core::Millis(static_cast<int64_t>(*v));
  };

  Parsed out;
  if (server_mode) {
    ServerOptions so;
    ServerConfig& cfg = so.config;
    cfg.port = port;
    cfg.auth = creds;
    if (auth_word.empty()) {
      auth_word = creds ? "ecsrp5" : "none";
    }
    if (auth_word != "none" && !creds) {
      return usage("--auth " + auth_word + " needs a user and password: -a USER -p PASS");
    }
    if (auth_word == "none" && creds) {
      return usage("--auth none contradicts -a/-p; drop one of them");
    }
    cfg.auth_method = auth_word == "md5"      ? AuthMethod::kMd5
                      : auth_word == "ecsrp5" ? AuthMethod::kEcSrp5
                                              : AuthMethod::kNone;
    cfg.csv_path = csv_path;
    cfg.syslog_target = syslog_target;
    cfg.syslog_format = syslog_format == "3164" ? core::SyslogFormat::kRfc3164 : core::SyslogFormat::kRfc5424;
    cfg.max_sessions = max_sessions;
    cfg.quiet = quiet;
    auto md = parse_ms(max_duration, "--max-duration");
    auto ht = parse_ms(handshake_timeout, "--handshake-timeout");
    auto st = parse_ms(secondary_timeout, "--secondary-timeout");
    auto it = parse_ms(idle_timeout, "--idle-timeout");
    if (!md || !ht || !st || !it) {
      return usage(err);
    }
    cfg.max_duration = *md;
    cfg.handshake_timeout = *ht;
    cfg.secondary_timeout = *st;
    cfg.idle_timeout = *it;
    cfg.udp_ipv6_overhead = udp6_overhead;
    cfg.udp_offload = !no_offload;
    auto range = parse_udp_port_range(udp_ports);
    if (!range) {
      return usage(range.error().message());
    }
    cfg.udp_port_first = range->first;
    cfg.udp_port_last = range->second;
    so.default_listen = listen4.empty() && listen6.empty();
    auto listen = listen_addresses(listen4, listen6);
    if (!listen) {
      return usage(listen.error().message());
    }
    cfg.listen = std::move(*listen);
    out.action = Parsed::Action::kRunServer;
    out.server = std::move(so);
    return out;
  }

  ClientOptions co;
  ClientConfig& cfg = co.config;
  co.csv_path = csv_path;
  co.quiet = quiet;
  co.json = json;
  cfg.host = host;
  cfg.port = port;
  cfg.auth = creds;
  cfg.connections = connections;
  cfg.random_payload = random_data;
  cfg.proto = udp ? Proto::kUdp : Proto::kTcp;
  cfg.udp_ipv6_overhead = udp6_overhead;
  cfg.udp_offload = !no_offload;
  if (!udp && (udp_size != 0 || local_udp_size != 0 || remote_udp_size != 0 || nat_probe)) {
    return usage("UDP options (--udp-size, --local-udp-tx-size, --remote-udp-tx-size, -n) need -u");
  }
  for (auto [v, flag] : {std::pair{udp_size, "--udp-size"}, std::pair{local_udp_size, "--local-udp-tx-size"},
                         std::pair{remote_udp_size, "--remote-udp-tx-size"}}) {
    if (v != 0 && (v < 28 || v > 64000)) {
      return usage(std::string(flag) + ": " + std::to_string(v) +
                   " is outside 28-64000 bytes (RouterOS udp-tx-size range; the size includes the 28-byte IP+UDP "
                   "header)");
    }
  }
  const unsigned both_size = udp_size != 0 ? udp_size : 1500;
  cfg.udp_tx_size = local_udp_size != 0 ? local_udp_size : both_size;
  cfg.udp_remote_tx_size = remote_udp_size != 0 ? remote_udp_size : both_size;
  if (!direction_word.empty()) {
    if (tx || rx) {
      return usage("use either --direction or -t/-r, not both");
    }
    cfg.direction = direction_word == "transmit" ? Direction::kClientTx
                    : direction_word == "both"   ? Direction::kBoth
                                                 : Direction::kClientRx;
  } else if (tx && rx) {
    cfg.direction = Direction::kBoth;
  } else if (tx) {
    cfg.direction = Direction::kClientTx;
  } else {
    cfg.direction = Direction::kClientRx;
  }
  auto parse_bw = [&err](const std::string& text, const char* flag) -> std::optional<uint64_t> {
    if (text.empty()) {
      return uint64_t{0};
    }
    auto v = core::parse_bandwidth(text);
    if (!v) {
      err = std::string(flag) + ": " + v.error().message();
      return std::nullopt;
    }
    if (*v > 0xFFFFFFFFULL) {
      err = std::string(flag) + ": " + text + " is above 4294967295 bit/s, the most the btest protocol can carry";
      return std::nullopt;
    }
    return *v;
  };
  auto both_bw = parse_bw(bw, "-b");
  auto local = parse_bw(local_bw, "--local-tx-speed");
  auto remote = parse_bw(remote_bw, "--remote-tx-speed");
  if (!both_bw || !local || !remote) {
    return usage(err);
  }
  cfg.local_tx_speed = local_bw.empty() ? *both_bw : *local;
  cfg.remote_tx_speed = remote_bw.empty() ? *both_bw : *remote;
  auto d = parse_ms(duration, "-d");
  if (!d) {
    return usage(err);
  }
  cfg.duration = *d;
  out.action = Parsed::Action::kRunClient;
  out.client = std::move(co);
  return out;
}

}  // namespace linerate::btest::cli
