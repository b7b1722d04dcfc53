// bench/gate/gate_driver.cpp — fixed-iteration workloads for the callgrind gate.
//
// `gate_driver --list` prints the case names; `gate_driver CASE [ITERATIONS]` runs
// one case and prints its checksum. bench/gate/run_gate.py runs each case under
//   valgrind --tool=callgrind --toggle-collect='*lr_gate_measure*'
// so only the instructions executed inside lr_gate_measure() count: process
// start-up (dynamic loader, libstdc++ and OpenSSL init) and the one-iteration
// warm-up that main() runs first (lazy one-time costs: OpenSSL's provider fetch,
// malloc arena set-up) are excluded. Instruction counts are deterministic here,
// wall time is not (STYLE §6).
//
// Rules for a case:
//  * fixed inputs, no clock, no randomness, no threads, no I/O: the count must be
//    identical run to run and independent of the environment;
//  * the work must feed the returned checksum (or pass through do_not_optimize),
//    so the compiler cannot drop it;
//  * size `iterations` for roughly 5–50 million instructions (callgrind runs about
//    50x slower than native; the whole gate should stay under a minute).
// Setup inside a case is counted too, so keep it small next to the loop.
//
// Adding a case = one function + one row in kCases, then `make bench-baseline`.
// Cases still to come (later issues): the UDP send path into a null sink, and
// scanner packet generation / response matching.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "btest/ecsrp5.hpp"
#include "btest/protocol.hpp"
#include "btest/status_scanner.hpp"
#include "btest/udp_batch.hpp"
#include "btest/udp_rx.hpp"
#include "core/pacer.hpp"
#include "core/units.hpp"

namespace {

using linerate::btest::Bytes12;
using linerate::btest::Bytes16;
using linerate::btest::Command;
using linerate::btest::Status;
using linerate::btest::StatusScanner;

// The value escapes to memory the compiler cannot see (Google Benchmark's
// DoNotOptimize, without the dependency).
template <typename T>
inline void do_not_optimize(T const& value) {
  __asm__ volatile("" : : "r,m"(value) : "memory");
}

// Order-dependent mix so that a case that skips or reorders work changes the sum.
constexpr uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL + (h >> 29); }

template <std::size_t N>
uint64_t mix_bytes(uint64_t h, const std::array<std::byte, N>& bytes) {
  for (std::byte b : bytes) {
    h = mix(h, static_cast<uint64_t>(b));
  }
  return h;
}

uint64_t mix_status(uint64_t h, const Status& s) {
  h = mix(h, s.seq);
  h = mix(h, s.bytes);
  return mix(h, s.cpu_percent ? *s.cpu_percent : 0xFFU);
}

constexpr std::size_t kRead = 256 * 1024;     // one recv() in the data loop
constexpr std::size_t kWriteGap = 32 * 1024;  // RouterOS TCP write size (spec §3)
constexpr std::size_t kStatusLen = 12;

// ---- StatusScanner (spec §9, §12.4) ---------------------------------------------

// All-zero data stream: the common case, one memchr per read.
uint64_t gate_case_status_scan_zero_256k(uint64_t iterations) {
  std::vector<std::byte> buf(kRead, std::byte{0});
  StatusScanner scanner(StatusScanner::Mode::kInterleaved);
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    do_not_optimize(buf.data());  // the buffer is "new data" every read
    scanner.feed(std::span<const std::byte>(buf), [&h](const Status& s) { h = mix_status(h, s); });
  }
  return mix(h, iterations);
}

// A status record ends every 32 KiB write; the buffer is rotated by half a record
// so one record straddles every pair of consecutive reads (the carry path runs).
uint64_t gate_case_status_scan_interleaved_256k(uint64_t iterations) {
  std::vector<std::byte> buf(kRead, std::byte{0});
  constexpr std::size_t kShift = kStatusLen / 2;
  for (std::size_t k = 0; k < kRead / kWriteGap; ++k) {
    // seq 0x10, 0x20, ...: no 0x07 byte, so the only 07s are the record starts.
    Bytes12 rec = linerate::btest::encode_status(static_cast<uint32_t>((k + 1) * 0x10), 42, 0x11223344ULL);
    std::size_t at = (k + 1) * kWriteGap - kStatusLen + kShift;
    for (std::size_t b = 0; b < kStatusLen; ++b) {
      buf[(at + b) % kRead] = rec[b];
    }
  }
  StatusScanner scanner(StatusScanner::Mode::kInterleaved);
  uint64_t h = 0;
  uint64_t found = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    do_not_optimize(buf.data());
    scanner.feed(std::span<const std::byte>(buf), [&h, &found](const Status& s) {
      h = mix_status(h, s);
      ++found;
    });
  }
  return mix(h, found);
}

// Server→client in TCP direction 01: the stream is nothing but records.
uint64_t gate_case_status_scan_aligned(uint64_t iterations) {
  constexpr std::size_t kRecords = 1024;
  std::vector<std::byte> buf;
  buf.reserve(kRecords * kStatusLen);
  for (std::size_t k = 0; k < kRecords; ++k) {
    Bytes12 rec = linerate::btest::encode_status(static_cast<uint32_t>(k + 1), 42, 0x11223344ULL);
    buf.insert(buf.end(), rec.begin(), rec.end());
  }
  StatusScanner scanner(StatusScanner::Mode::kAligned);
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    do_not_optimize(buf.data());
    scanner.feed(std::span<const std::byte>(buf), [&h](const Status& s) { h = mix_status(h, s); });
  }
  return mix(h, scanner.mode() == StatusScanner::Mode::kAligned ? 1 : 2);
}

// ---- Codec (spec §3, §12) -------------------------------------------------------

uint64_t gate_case_codec_command(uint64_t iterations) {
  Command c;
  c.proto = linerate::btest::Proto::kTcp;
  c.direction = linerate::btest::Direction::kBoth;
  c.tx_size = linerate::btest::kTcpTxSize;
  c.remote_tx_speed = 100'000'000;
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    c.local_tx_speed = static_cast<uint32_t>(it);
    c.direction = static_cast<linerate::btest::Direction>(1 + it % 3);
    Bytes16 wire = linerate::btest::encode_command(c);
    h = mix_bytes(h, wire);
    auto back = linerate::btest::decode_command(wire);
    h = mix(h, back ? back->local_tx_speed : 0xDEADU);
  }
  return h;
}

uint64_t gate_case_codec_status(uint64_t iterations) {
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    Bytes12 wire = linerate::btest::encode_status(static_cast<uint32_t>(it), static_cast<unsigned>(it % 101),
                                                  1'234'567'890ULL + it * 4096);
    h = mix_bytes(h, wire);
    auto back = linerate::btest::decode_status(wire);
    h = back ? mix_status(h, *back) : mix(h, 0xDEADU);
  }
  return h;
}

// ---- MD5 authentication (spec §5) ------------------------------------------------

uint64_t gate_case_md5_auth(uint64_t iterations) {
  std::array<std::byte, 16> challenge{};
  for (std::size_t i = 0; i < challenge.size(); ++i) {
    challenge[i] = static_cast<std::byte>(0xA5U ^ (i * 17U));
  }
  constexpr std::string_view kUser = "admin";
  constexpr std::string_view kPassword = "correct horse battery staple";
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    challenge[0] = static_cast<std::byte>(it);  // a new challenge per login
    h = mix_bytes(h, linerate::btest::md5_auth_hash(kPassword, challenge));
    h = mix_bytes(h, linerate::btest::encode_md5_response(kUser, kPassword, challenge));
  }
  return h;
}

// ---- EC-SRP5 login (spec §6) ----------------------------------------------------

// One complete EC-SRP5 login, both roles, fixed scalars: the client's MSG1-MSG3
// and the server's production (X25519) path. Each iteration is a fresh login.
// OpenSSL's blinded scalar multiplication draws random numbers, so this case's
// count moves by ~0.1% run to run, well inside the gate's 5%.
uint64_t gate_case_ecsrp5_login(uint64_t iterations) {
  namespace ec = linerate::btest::ecsrp5;
  std::array<std::byte, 32> secret{};
  std::array<std::byte, 16> salt{};
  std::array<std::byte, 32> s_a{};
  std::array<std::byte, 32> s_b{};
  for (std::size_t i = 0; i < 32; ++i) {
    secret[i] = static_cast<std::byte>(i);
    s_a[i] = static_cast<std::byte>(0x11U + i);
    s_b[i] = static_cast<std::byte>(0x22U + 3U * i);
  }
  for (std::size_t i = 0; i < 16; ++i) {
    salt[i] = static_cast<std::byte>(0x30U + i);
  }
  const ec::Verifier v = ec::derive_verifier("gate", "gate-password", salt);
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    auto client = ec::ClientHandshake::start("gate", "gate-password", s_a);
    auto server = ec::ServerHandshake::create_x25519_for_test(secret, s_b);
    const auto& m1 = client->msg1();
    auto user = server.on_msg1(std::span(m1).subspan(1));
    auto m2 = server.msg2(v);
    auto m3 = client->on_msg2(std::span(*m2).subspan(1));
    auto m4 = server.on_msg3(std::span(*m3).subspan(1));
    bool ok = user && client->on_msg4(std::span(*m4).subspan(1)).has_value();
    if (!ok) {
      std::fprintf(stderr, "ecsrp5_login: the login failed\n");
      std::abort();
    }
    h = h * 31 + static_cast<uint64_t>((*m4)[5]);
  }
  return h;
}

// ---- Pacer (spec §13.1) ------------------------------------------------------------

uint64_t gate_case_pacer_next_deadline(uint64_t iterations) {
  // 100 Mbit/s with 256 KiB grants, asked on time: the steady-state path. Every
  // 1024th request is late by three intervals, so the re-anchor path runs too.
  linerate::core::Pacer pacer(100'000'000, kRead);
  const uint64_t step_ns = pacer.interval_ns();
  uint64_t now_ns = 1'000'000'000;
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    do_not_optimize(now_ns);
    h = mix(h, pacer.next_deadline(now_ns));
    now_ns += (it % 1024 == 1023) ? 3 * step_ns : step_ns;
  }
  return h;
}

// ---- Units -------------------------------------------------------------------------

uint64_t gate_case_units_parse_bandwidth(uint64_t iterations) {
  constexpr std::array<std::string_view, 8> kInputs{"500K", "100M", "1.5G", "2T", "100Mbps", "1000", "0", "12x"};
  uint64_t h = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    std::string_view text = kInputs[it % kInputs.size()];
    do_not_optimize(text);
    auto bps = linerate::core::parse_bandwidth(text);
    h = mix(h, bps ? *bps : 0xBADU);  // "12x" is the error path
  }
  return h;
}

// ---- The table ---------------------------------------------------------------------

// ---- UDP data plane (spec §11) -----------------------------------------------------

// The receive accounting of 1472-byte datagrams, one in 50 lost and one in 97
// arriving a step late: the per-datagram work of the UDP receiver.
uint64_t gate_case_udp_rx_account(uint64_t iterations) {
  auto acct = std::make_unique<linerate::btest::UdpRxAccount>(28, 1472);
  std::vector<std::byte> dgram(1472);
  uint32_t held = 0;
  for (uint64_t it = 0; it < iterations; ++it) {
    const auto seq = static_cast<uint32_t>(it + 1);
    if (seq % 50 == 0) {
      continue;  // lost
    }
    if (seq % 97 == 0) {
      held = seq;  // delivered after the next one
      continue;
    }
    for (uint32_t s : {seq, held}) {
      if (s == 0) {
        continue;
      }
      dgram[0] = static_cast<std::byte>(s >> 24);
      dgram[1] = static_cast<std::byte>(s >> 16);
      dgram[2] = static_cast<std::byte>(s >> 8);
      dgram[3] = static_cast<std::byte>(s);
      do_not_optimize(dgram.data());
      acct->on_datagram(static_cast<uint16_t>(2257 + (s & 3)), dgram);
    }
    held = 0;
  }
  const auto& t = acct->totals();
  return mix(mix(mix(mix(0, t.datagrams), t.bytes), t.lost), t.reordered);
}

// Building one sendmmsg batch of 1472-byte datagrams with GSO: patching the
// sequence numbers and describing the messages (the generator, null sink).
uint64_t gate_case_udp_batch_build(uint64_t iterations) {
  linerate::btest::UdpBatch batch(1472, linerate::btest::UdpBatch::gso_segments(1472), nullptr, 0, nullptr, 0);
  uint64_t h = 0;
  uint32_t seq = 1;
  for (uint64_t it = 0; it < iterations; ++it) {
    const std::size_t n = batch.capacity();
    const std::size_t m = batch.build(n, seq);
    do_not_optimize(batch.msgs());
    seq += static_cast<uint32_t>(n);
    h = mix(h, m);
  }
  return mix(h, seq);
}

struct Case {
  std::string_view name;
  uint64_t (*run)(uint64_t iterations);
  uint64_t iterations;  // sized for ~5–50 M instructions (see the baseline)
};

constexpr std::array kCases{
    Case{"status_scan_zero_256k", gate_case_status_scan_zero_256k, 1'500},
    Case{"status_scan_interleaved_256k", gate_case_status_scan_interleaved_256k, 1'500},
    Case{"status_scan_aligned", gate_case_status_scan_aligned, 400},
    Case{"codec_command", gate_case_codec_command, 100'000},
    Case{"codec_status", gate_case_codec_status, 100'000},
    Case{"md5_auth", gate_case_md5_auth, 2'500},
    Case{"ecsrp5_login", gate_case_ecsrp5_login, 3},
    Case{"pacer_next_deadline", gate_case_pacer_next_deadline, 500'000},
    Case{"units_parse_bandwidth", gate_case_units_parse_bandwidth, 40'000},
    Case{"udp_rx_account", gate_case_udp_rx_account, 400'000},
    Case{"udp_batch_build", gate_case_udp_batch_build, 12'000},
};

}  // namespace

// The counted region (callgrind --toggle-collect='*lr_gate_measure*'). C linkage
// and noinline keep the symbol name stable and present in the binary.
extern "C" [[gnu::noinline]] uint64_t lr_gate_measure(uint64_t (*run)(uint64_t), uint64_t iterations) {
  return run(iterations);
}

int main(int argc, char** argv) {
  std::span<char*> args(argv, static_cast<std::size_t>(argc));
  if (args.size() == 2 && std::string_view(args[1]) == "--list") {
    for (const Case& c : kCases) {
      std::printf("%.*s\n", static_cast<int>(c.name.size()), c.name.data());
    }
    return 0;
  }
  if (args.size() < 2 || args.size() > 3) {
    std::fprintf(stderr, "usage: gate_driver --list | gate_driver CASE [ITERATIONS]\n");
    return 2;
  }
  std::string_view name(args[1]);
  for (const Case& c : kCases) {
    if (c.name != name) {
      continue;
    }
    uint64_t iterations = c.iterations;
    if (args.size() == 3) {
      char* end = nullptr;
      iterations = std::strtoull(args[2], &end, 10);
      if (end == args[2] || *end != '\0' || iterations == 0) {
        std::fprintf(stderr, "gate_driver: bad iteration count '%s'\n", args[2]);
        return 2;
      }
    }
    // Warm-up, not counted: pays one-time costs (OpenSSL provider fetch, malloc
    // arena, lazy binding) outside lr_gate_measure.
    uint64_t warm = c.run(1);
    do_not_optimize(warm);
    uint64_t sum = lr_gate_measure(c.run, iterations);
    std::printf("%.*s iterations=%llu checksum=%016llx\n", static_cast<int>(c.name.size()), c.name.data(),
                static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(sum));
    return 0;
  }
  std::fprintf(stderr, "gate_driver: unknown case '%.*s' (see --list)\n", static_cast<int>(name.size()), name.data());
  return 2;
}
