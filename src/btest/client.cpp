// btest/client.cpp — see client.hpp. Section numbers refer to the spec.
#include "btest/client.hpp"

#include <array>
#include <chrono>
#include <functional>
#include <limits>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/socket.h>

#include "btest/ecsrp5.hpp"
#include "btest/interval_meter.hpp"
#include "btest/tcp_transfer.hpp"
#include "btest/udp_session.hpp"
#include "btest/udp_transfer.hpp"
#include "core/cpu.hpp"

namespace linerate::btest {

namespace {

using SteadyClock = std::chrono::steady_clock;

ClientOutcome failure(ClientFailure kind, std::string msg) {
  ClientOutcome o;
  o.failure = kind;
  o.error = std::move(msg);
  return o;
}

core::Result<core::Fd> connect_any(const ClientConfig& cfg) {
  auto addrs = core::resolve(cfg.host, cfg.port);
  if (!addrs) {
    return tl::unexpected(addrs.error());
  }
  core::Error last;
  for (const auto& a : *addrs) {
    auto fd = core::tcp_connect(a, cfg.connect_timeout);
    if (fd) {
      return fd;
    }
    last = fd.error();
  }
  return tl::unexpected(last);
}

// Connect and check the HELLO of §2.
core::Result<core::Fd> open_and_greet(const ClientConfig& cfg, ClientFailure& kind) {
  auto fd = connect_any(cfg);
  if (!fd) {
    kind = ClientFailure::kConnect;
    return fd;
  }
  Bytes4 hello{};
  if (auto r = core::read_exact(fd->get(), hello, cfg.handshake_timeout); !r) {
    kind = ClientFailure::kProtocol;
    return core::fail("no greeting from " + cfg.host + ": " + r.error().message());
  }
  if (hello != kHello) {
    kind = ClientFailure::kProtocol;
    return core::fail(cfg.host + " is not a btest server (greeting " + hex(hello) + ", expected 01 00 00 00)");
  }
  return fd;
}

// §6.6 client side after the server's 03 00 00 00: MSG1 → MSG2 → MSG3 → MSG4.
// Errors with std::errc::permission_denied mean "authentication failed".
core::Result<void> ecsrp5_login(int fd, const Credentials& cred, core::Millis timeout) {
  const core::Deadline deadline(timeout);
  auto denied = [] { return core::fail(std::errc::permission_denied, "authentication failed"); };
  auto hs = ecsrp5::ClientHandshake::start(cred.user, cred.password);
  if (!hs) {
    return tl::unexpected(hs.error());
  }
  if (auto r = core::write_all(fd, hs->msg1(), deadline.left()); !r) {
    return core::fail("sending EC-SRP5 MSG1: " + r.error().message());
  }
  std::vector<std::byte> payload;
  if (!core::read_u8_prefixed(fd, payload, deadline.left())) {
    return denied();  // servers close here on an unknown user
  }
  auto msg3 = hs->on_msg2(payload);
  if (!msg3) {
    return core::fail("bad EC-SRP5 MSG2 from the server: " + msg3.error().message());
  }
  if (auto r = core::write_all(fd, *msg3, deadline.left()); !r) {
    return core::fail("sending EC-SRP5 MSG3: " + r.error().message());
  }
  // EOF, a zero-length MSG4 (our AUTH_FAILED seen as a frame) or a wrong proof
  // all mean the password was wrong (§6.9).
  if (!core::read_u8_prefixed(fd, payload, deadline.left()) || !hs->on_msg4(payload)) {
    return denied();
  }
  return {};
}

int wait_any2(int a, int b, core::Millis timeout) {
  pollfd p[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  int rc = ::poll(p, 2, static_cast<int>(std::max<int64_t>(0, timeout.count())));
  if (rc <= 0) {
    return -1;
  }
  return (p[0].revents != 0) ? 0 : 1;
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The control connection after the handshake.
struct Session {
  core::Fd fd;
  Reply reply;
  std::string auth_used = "none";
  Bytes16 wire{};
};

// §2-§6: connect, greet, command, authenticate. On failure `out` says why.
std::optional<Session> handshake(const ClientConfig& cfg, const Command& cmd, ClientOutcome& out) {
  auto fail_with = [&](ClientFailure kind, std::string msg) {
    out = failure(kind, std::move(msg));
    return std::nullopt;
  };
  Session s;
  s.wire = encode_command(cmd);
  ClientFailure kind = ClientFailure::kNone;
  auto primary = open_and_greet(cfg, kind);
  if (!primary) {
    return fail_with(kind, primary.error().message());
  }
  s.fd = std::move(*primary);
  const int pfd = s.fd.get();
  if (auto r = core::write_all(pfd, s.wire, cfg.handshake_timeout); !r) {
    return fail_with(ClientFailure::kProtocol, "sending command: " + r.error().message());
  }

  // §4 reply, then §5 MD5 or §6 EC-SRP5 when the server asks for it.
  Bytes4 raw{};
  if (auto r = core::read_exact(pfd, raw, cfg.handshake_timeout); !r) {
    return fail_with(ClientFailure::kProtocol,
                     "server closed the connection after the command: " + r.error().message());
  }
  Reply reply = decode_reply(raw);
  if (reply.kind == ReplyKind::kMd5) {
    if (!cfg.auth) {
      return fail_with(ClientFailure::kAuthRequired, "server requires authentication; pass -a USER -p PASSWORD");
    }
    Bytes16 challenge{};
    if (auto r = core::read_exact(pfd, challenge, cfg.handshake_timeout); !r) {
      return fail_with(ClientFailure::kProtocol, "reading MD5 challenge: " + r.error().message());
    }
    Bytes48 resp = encode_md5_response(cfg.auth->user, cfg.auth->password, challenge);
    if (auto r = core::write_all(pfd, resp, cfg.handshake_timeout); !r) {
      return fail_with(ClientFailure::kProtocol, "sending MD5 response: " + r.error().message());
    }
    if (auto r = core::read_exact(pfd, raw, cfg.handshake_timeout); !r) {
      // RouterOS and others may just close on a wrong password.
      return fail_with(ClientFailure::kAuthFailed, "authentication failed");
    }
    reply = decode_reply(raw);
    if (reply.kind == ReplyKind::kAuthFailed) {
      return fail_with(ClientFailure::kAuthFailed, "authentication failed");
    }
    s.auth_used = "md5";
  } else if (reply.kind == ReplyKind::kEcSrp5) {
    if (!cfg.auth) {
      return fail_with(ClientFailure::kAuthRequired, "server requires authentication; pass -a USER -p PASSWORD");
    }
    if (auto r = ecsrp5_login(pfd, *cfg.auth, cfg.handshake_timeout); !r) {
      if (r.error().code == std::errc::permission_denied) {
        return fail_with(ClientFailure::kAuthFailed, "authentication failed");
      }
      return fail_with(ClientFailure::kProtocol, r.error().message());
    }
    if (auto r = core::read_exact(pfd, raw, cfg.handshake_timeout); !r) {
      return fail_with(ClientFailure::kAuthFailed, "authentication failed");
    }
    reply = decode_reply(raw);
    s.auth_used = "ecsrp5";
  }
  if (reply.kind == ReplyKind::kAuthFailed) {
    return fail_with(ClientFailure::kAuthFailed, "authentication failed");
  }
  if (reply.kind != ReplyKind::kOk) {
    return fail_with(ClientFailure::kProtocol, "unexpected reply " + hex(raw) + " to the test command");
  }
  s.reply = reply;
  return s;
}

TestRecord new_record(const ClientConfig& cfg, const Session& s) {
  TestRecord rec;
  rec.mode = "client";
  rec.peer = cfg.host + ":" + std::to_string(cfg.port);
  if (auto pa = core::peer_address(s.fd.get())) {
    rec.peer = pa->to_string();
  }
  rec.user = cfg.auth && s.auth_used != "none" ? cfg.auth->user : "";
  rec.auth = s.auth_used;
  rec.proto = cfg.proto;
  rec.direction = cfg.direction;
  rec.tx_speed_cap_bps = cfg.local_tx_speed;
  return rec;
}

// The client's 1-second ticker: on_tick(now) once a second until the duration
// passes, a stop is requested (Ctrl-C) or the server ends the test (`ended`).
// Returns the end reason and whether the end was a normal one.
std::pair<std::string, bool> tick_until_end(const ClientConfig& cfg, const core::Interrupt& stop,
                                            const core::Interrupt& ended,
                                            const std::function<std::string()>& ended_reason,
                                            const std::function<void(SteadyClock::time_point)>& on_tick) {
  const auto start = SteadyClock::now();
  const bool bounded = cfg.duration.count() > 0;
  const auto end_at = start + cfg.duration;
  auto next_tick = start + std::chrono::seconds(1);
  for (;;) {
    auto wake = bounded ? std::min(next_tick, end_at) : next_tick;
    auto timeout = std::chrono::duration_cast<core::Millis>(wake - SteadyClock::now()) + core::Millis(1);
    int which = wait_any2(stop.fd(), ended.fd(), timeout);
    if (which == 0) {
      return {"interrupted", true};
    }
    if (which == 1) {
      return {"server ended the test: " + ended_reason(), false};
    }
    auto now = SteadyClock::now();
    if (now >= next_tick) {
      on_tick(now);
      next_tick += std::chrono::seconds(1);
      if (next_tick < now) {
        next_tick = now + std::chrono::seconds(1);
      }
    }
    if (bounded && now >= end_at) {
      return {"duration reached", true};
    }
  }
}

ClientOutcome run_tcp(const ClientConfig& cfg, const core::Interrupt& stop,
                      const std::function<void(const TestRecord&, const IntervalSample&)>& on_interval, Session s) {
  if (cfg.connections > 1 && s.reply.token == 0) {
    return failure(ClientFailure::kUnsupported,
                   "server does not support multi-connection TCP tests (no session token); use --connections 1");
  }
  ClientOutcome out;
  TestRecord& rec = out.record;
  rec = new_record(cfg, s);

  // §10: secondaries send the token in bytes 0-1. The other 14 bytes are
  // uncertain in the spec; we send bytes 2-15 of our own command (the servers we
  // know read only the token).
  std::vector<core::Fd> secondaries;
  if (cfg.connections > 1) {
    Bytes16 sec = s.wire;
    sec[0] = static_cast<std::byte>(s.reply.token >> 8);
    sec[1] = static_cast<std::byte>(s.reply.token & 0xFF);
    for (unsigned i = 1; i < cfg.connections && !stop.requested(); ++i) {
      ClientFailure k = ClientFailure::kNone;
      auto fd = open_and_greet(cfg, k);
      if (!fd) {
        out.warnings.push_back("connection " + std::to_string(i + 1) + ": " + fd.error().message());
        continue;
      }
      Bytes4 ok{};
      if (!core::write_all(fd->get(), sec, cfg.handshake_timeout) ||
          !core::read_exact(fd->get(), ok, cfg.handshake_timeout)) {
        out.warnings.push_back("connection " + std::to_string(i + 1) + ": server closed it during the join");
        continue;
      }
      Reply r2 = decode_reply(ok);
      if (r2.kind != ReplyKind::kOk || r2.token != s.reply.token) {
        out.warnings.push_back("connection " + std::to_string(i + 1) + ": unexpected join reply " + hex(ok));
        continue;
      }
      secondaries.push_back(std::move(*fd));
    }
  }

  TransferConfig tc;
  tc.send = client_sends(cfg.direction);
  tc.random_payload = cfg.random_payload;  // our TCP stream never carries status records
  tc.peer_sends = server_sends(cfg.direction);
  if (cfg.direction == Direction::kClientTx) {
    tc.scan = StatusScanner::Mode::kAligned;  // §12.4: server→client carries only status records
  } else if (cfg.direction == Direction::kBoth) {
    tc.scan = StatusScanner::Mode::kInterleaved;  // §9: status inside the data stream
  }
  tc.tx_rate_bps = cfg.local_tx_speed;
  tc.expected_connections = static_cast<unsigned>(1 + secondaries.size());
  tc.idle_timeout = cfg.idle_timeout;
  TcpTransfer transfer(tc);
  // Data starts on all connections together: starting the primary while the
  // others join floods a loaded server before it can greet them (load test).
  transfer.add(std::move(s.fd));
  for (auto& fd : secondaries) {
    transfer.add(std::move(fd));
  }
  rec.connections = static_cast<unsigned>(transfer.connections());
  out.started = true;
  rec.start_unix_ms = unix_ms_now();

  const auto start = SteadyClock::now();
  IntervalMeter meter(start);
  auto [reason, ok] = tick_until_end(
      cfg, stop, transfer.primary_ended(), [&] { return transfer.end_reason(); },
      [&](SteadyClock::time_point now) {
        RemoteStatus remote = transfer.take_remote();
        IntervalSample smp = meter.take(now, transfer.rx_bytes(), transfer.tx_bytes(),
                                        static_cast<int>(core::system_cpu_percent()), remote);
        rec.peer_rx_bytes += remote.bytes;
        rec.intervals.push_back(smp);
        if (on_interval) {
          on_interval(rec, smp);
        }
      });

  // §15: the client ends the test by closing; finish() half-closes after the last
  // complete write and drains what the server still had in flight.
  transfer.finish(core::Millis(2000));
  auto end = SteadyClock::now();
  rec.tx_bytes = transfer.tx_bytes();
  rec.rx_bytes = transfer.rx_bytes();
  RemoteStatus remote = transfer.take_remote();
  rec.peer_rx_bytes += remote.bytes;
  if (meter.moved(rec.rx_bytes, rec.tx_bytes) || remote.records > 0) {
    // The final partial interval, so the intervals sum to the totals.
    rec.intervals.push_back(
        meter.take(end, rec.rx_bytes, rec.tx_bytes, static_cast<int>(core::system_cpu_percent()), remote));
  }
  rec.duration_s = std::chrono::duration<double>(end - start).count();
  rec.end_reason = reason;
  rec.ok = ok;
  return out;
}

// §11: read the server's port, bind port + 256 (and the next N-1 ports for N
// connections, §11.6), optionally probe through a NAT (§11.3), then datagrams
// plus a status record each way every second on the control connection.
ClientOutcome run_udp(const ClientConfig& cfg, const core::Interrupt& stop,
                      const std::function<void(const TestRecord&, const IntervalSample&)>& on_interval, Session s) {
  std::array<std::byte, 2> port_be{};
  if (auto r = core::read_exact(s.fd.get(), port_be, cfg.handshake_timeout); !r) {
    return failure(ClientFailure::kProtocol, "reading the server's UDP port: " + r.error().message());
  }
  const auto server_port =
      static_cast<uint16_t>((static_cast<unsigned>(port_be[0]) << 8) | static_cast<unsigned>(port_be[1]));
  auto server = core::peer_address(s.fd.get());
  auto local = core::local_address(s.fd.get());
  if (!server || !local) {
    return failure(ClientFailure::kProtocol, "control connection lost before the UDP test started");
  }
  if (server_port == 0 || server_port > 65535 - 256 - (cfg.connections - 1)) {
    return failure(ClientFailure::kProtocol, "server announced UDP port " + std::to_string(server_port) +
                                                 ", which leaves no room for port + 256");
  }
  ClientOutcome out;
  TestRecord& rec = out.record;
  rec = new_record(cfg, s);
  const unsigned overhead = server->family() == AF_INET6 ? cfg.udp_ipv6_overhead : kUdpOverheadIpv4;

  core::SockAddr dest = *server;
  dest.set_port(server_port);
  std::vector<core::Fd> socks;
  for (unsigned i = 0; i < cfg.connections; ++i) {
    core::SockAddr me = *local;
    me.set_port(static_cast<uint16_t>(server_port + 256 + i));
    auto fd = core::udp_bind(me, kUdpSocketBufferBytes);
    if (fd) {
      if (auto c = core::udp_connect(fd->get(), dest); !c) {
        fd = tl::unexpected(c.error());
      }
    }
    if (!fd) {
      if (i == 0) {
        return failure(ClientFailure::kConnect, fd.error().message() +
                                                    " (a UDP test needs the server's port + 256 free here, "
                                                    "spec §11.1)");
      }
      out.warnings.push_back("UDP connection " + std::to_string(i + 1) + ": " + fd.error().message());
      break;
    }
    // §11.3: an empty datagram opens a NAT pinhole, and tells our server that
    // this port is bound so it can start sending. Always sent: servers must
    // ignore empty datagrams, and RouterOS is reported to with btest-rs's -n.
    (void)::send(fd->get(), nullptr, 0, 0);
    socks.push_back(std::move(*fd));
  }

  UdpTransferConfig uc = udp_transfer_config(client_sends(cfg.direction), server_sends(cfg.direction), cfg.udp_offload,
                                             cfg.random_payload, overhead, cfg.udp_tx_size, cfg.local_tx_speed);
  uc.rx_expected_payload = udp_payload_bytes(cfg.udp_remote_tx_size, overhead);
  rec.connections = static_cast<unsigned>(socks.size());
  record_udp_setup(rec, uc, server_port);
  UdpSession session(std::move(s.fd), cfg.idle_timeout, uc, std::move(socks));
  out.started = true;
  rec.start_unix_ms = unix_ms_now();
  const auto start = SteadyClock::now();
  session.start(start);

  auto [reason, ok] = tick_until_end(
      cfg, stop, session.control().primary_ended(), [&] { return session.control().end_reason(); },
      [&](SteadyClock::time_point now) {
        rec.intervals.push_back(session.tick(now, rec));
        if (on_interval) {
          on_interval(rec, rec.intervals.back());
        }
      });

  // The test's length ends here: sending stops now, and the drain below only
  // collects datagrams already in flight (counting its 100 ms quiet period in
  // the duration made a 200 Mbit/s test read 194 on the summary line).
  const auto end = SteadyClock::now();
  // §15: stop sending, close the control connection (the server stops too), and
  // count the datagrams that were still in flight.
  session.finish(rec, core::Millis(2000), core::Millis(100), core::Millis(1000));
  if (std::string e = session.udp().error(); !e.empty()) {
    out.warnings.push_back(e);
  }
  rec.duration_s = std::chrono::duration<double>(end - start).count();
  rec.end_reason = reason;
  rec.ok = ok;
  return out;
}

}  // namespace

ClientOutcome run_client(const ClientConfig& cfg, const core::Interrupt& stop,
                         const std::function<void(const TestRecord&, const IntervalSample&)>& on_interval) {
  constexpr uint64_t kMaxSpeed = std::numeric_limits<uint32_t>::max();
  if (cfg.local_tx_speed > kMaxSpeed || cfg.remote_tx_speed > kMaxSpeed) {
    return failure(ClientFailure::kUnsupported,
                   "speed limit above 4294967295 bit/s cannot be expressed in the btest protocol; use 0 for unlimited");
  }
  if (cfg.connections < 1 || cfg.connections > 255) {
    return failure(ClientFailure::kUnsupported, "connections must be 1-255");
  }
  if (cfg.proto == Proto::kUdp && (cfg.udp_tx_size > kUdpMaxTxSize || cfg.udp_remote_tx_size > kUdpMaxTxSize)) {
    return failure(ClientFailure::kUnsupported, "UDP datagram size above " + std::to_string(kUdpMaxTxSize) +
                                                    " bytes (RouterOS udp-tx-size range 28-64000)");
  }
  Command cmd;
  cmd.proto = cfg.proto;
  cmd.direction = cfg.direction;
  cmd.random_payload = cfg.random_payload;
  cmd.conn_count = static_cast<uint8_t>(cfg.connections > 1 ? cfg.connections : 0);
  cmd.tx_size = cfg.proto == Proto::kTcp ? kTcpTxSize : static_cast<uint16_t>(cfg.udp_remote_tx_size);
  cmd.remote_tx_speed = static_cast<uint32_t>(cfg.remote_tx_speed);
  cmd.local_tx_speed = static_cast<uint32_t>(cfg.local_tx_speed);

  (void)core::system_cpu_percent();  // the baseline for the first second
  ClientOutcome failed;
  auto session = handshake(cfg, cmd, failed);
  if (!session) {
    return failed;
  }
  if (cfg.proto == Proto::kUdp) {
    return run_udp(cfg, stop, on_interval, std::move(*session));
  }
  return run_tcp(cfg, stop, on_interval, std::move(*session));
}

}  // namespace linerate::btest
