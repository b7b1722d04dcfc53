// bench/micro/btest_bench.cpp — micro-benchmarks for the btest module.
//
// What is measured, and why:
//  * StatusScanner: it sees every received byte of a TCP test (spec §9, §12.4).
//    On the all-zero data stream it must cost about one memchr per read; the
//    btest-rs audit found a byte-by-byte loop here, so ByteLoopBaseline runs that
//    naive loop on the same buffer in the same process, and the ratio of the two
//    is the number to read (wall time is only ever gated as a ratio, STYLE §6).
//  * Codec: command (§3), status (§12) and the MD5 response (§5). Control plane,
//    but the status codec runs once per second per connection and must stay cheap.
// Every benchmark checks once, outside the timed loop, that it really found or
// decoded what it claims, so a broken fixture cannot report a fast zero.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include <benchmark/benchmark.h>

#include "btest/protocol.hpp"
#include "btest/status_scanner.hpp"

namespace {

using linerate::btest::Bytes12;
using linerate::btest::Bytes16;
using linerate::btest::Command;
using linerate::btest::Direction;
using linerate::btest::Proto;
using linerate::btest::Status;
using linerate::btest::StatusScanner;

constexpr std::size_t kRead = 256 * 1024;     // one recv() in the data loop
constexpr std::size_t kWriteGap = 32 * 1024;  // RouterOS TCP write size (§3: tx_size 0x8000)
constexpr std::size_t kRecordsPerRead = kRead / kWriteGap;
constexpr std::size_t kStatusLen = 12;

// A status record (CPU 42 %, bytes 0x11223344: no 0x07 byte outside the type).
Bytes12 sample_record(uint32_t seq) { return linerate::btest::encode_status(seq, 42, 0x11223344ULL); }

// 256 KiB of the interleaved stream: every 32 KiB slot is zeros ending in a
// status record, i.e. a record at each write boundary. The buffer is rotated by
// half a record, so the stream formed by feeding it again and again splits one
// record across every pair of consecutive reads: the carry path runs each time.
std::vector<std::byte> interleaved_read() {
  std::vector<std::byte> slots(kRead, std::byte{0});
  for (std::size_t k = 0; k < kRecordsPerRead; ++k) {
    // seq 0x10, 0x20, ...: no 0x07 byte, so the only 07s are the record starts.
    Bytes12 rec = sample_record(static_cast<uint32_t>((k + 1) * 0x10));
    std::size_t at = (k + 1) * kWriteGap - kStatusLen;
    for (std::size_t b = 0; b < kStatusLen; ++b) {
      slots[at + b] = rec[b];
    }
  }
  constexpr std::size_t kShift = kStatusLen / 2;
  std::vector<std::byte> rotated(kRead);
  for (std::size_t i = 0; i < kRead; ++i) {
    rotated[i] = slots[(i + kRead - kShift) % kRead];
  }
  return rotated;
}

// What btest-rs does on every read (audit §1): test every offset for 07 and a
// CPU byte with bit 7 set, decode on a hit. Kept naive on purpose.
uint64_t byte_loop_scan(std::span<const std::byte> buf) {
  uint64_t found = 0;
  if (buf.size() < kStatusLen) {
    return 0;
  }
  for (std::size_t i = 0; i + kStatusLen <= buf.size(); ++i) {
    if (buf[i] == linerate::btest::kStatusType && static_cast<unsigned>(buf[i + 1]) >= 0x80U) {
      auto s = linerate::btest::decode_status(std::span<const std::byte, kStatusLen>(buf.data() + i, kStatusLen));
      if (s) {
        ++found;
      }
    }
  }
  return found;
}

// ---- StatusScanner -------------------------------------------------------------

void BM_StatusScanner_AllZero256K(benchmark::State& state) {
  std::vector<std::byte> buf(kRead, std::byte{0});
  StatusScanner scanner(StatusScanner::Mode::kInterleaved);
  uint64_t found = 0;
  auto on_status = [&found](const Status&) { ++found; };
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();  // the buffer is "new data" every read
    scanner.feed(std::span<const std::byte>(buf), on_status);
  }
  benchmark::DoNotOptimize(found);
  if (found != 0) {
    state.SkipWithError("scanner reported a status record in an all-zero buffer");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRead));
}
BENCHMARK(BM_StatusScanner_AllZero256K);

void BM_StatusScanner_Interleaved256K(benchmark::State& state) {
  std::vector<std::byte> buf = interleaved_read();
  StatusScanner scanner(StatusScanner::Mode::kInterleaved);
  uint64_t found = 0;
  auto on_status = [&found](const Status& s) {
    benchmark::DoNotOptimize(s);
    ++found;
  };
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
    scanner.feed(std::span<const std::byte>(buf), on_status);
  }
  // The first read ends inside a record, so it completes on the second read.
  auto expected = static_cast<uint64_t>(state.iterations()) * kRecordsPerRead - 1;
  if (found != expected) {
    state.SkipWithError("scanner missed or invented status records in the interleaved stream");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRead));
  state.SetItemsProcessed(static_cast<int64_t>(found));
}
BENCHMARK(BM_StatusScanner_Interleaved256K);

void BM_StatusScanner_Aligned(benchmark::State& state) {
  // Server→client in TCP direction 01: the stream is nothing but records (§9).
  constexpr std::size_t kRecords = 1024;
  std::vector<std::byte> buf;
  buf.reserve(kRecords * kStatusLen);
  for (std::size_t k = 0; k < kRecords; ++k) {
    Bytes12 rec = sample_record(static_cast<uint32_t>(k + 1));
    buf.insert(buf.end(), rec.begin(), rec.end());
  }
  StatusScanner scanner(StatusScanner::Mode::kAligned);
  uint64_t found = 0;
  auto on_status = [&found](const Status& s) {
    benchmark::DoNotOptimize(s);
    ++found;
  };
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
    scanner.feed(std::span<const std::byte>(buf), on_status);
  }
  if (found != static_cast<uint64_t>(state.iterations()) * kRecords ||
      scanner.mode() != StatusScanner::Mode::kAligned) {
    state.SkipWithError("aligned scanner lost records or fell back to interleaved");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(buf.size()));
  state.SetItemsProcessed(static_cast<int64_t>(found));
}
BENCHMARK(BM_StatusScanner_Aligned);

void BM_StatusScanner_ByteLoopBaseline(benchmark::State& state) {
  // Same input as AllZero256K: compare the two bytes/s figures.
  std::vector<std::byte> buf(kRead, std::byte{0});
  uint64_t found = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(buf.data());
    benchmark::ClobberMemory();
    found += byte_loop_scan(std::span<const std::byte>(buf));
  }
  benchmark::DoNotOptimize(found);
  if (found != 0) {
    state.SkipWithError("byte loop reported a status record in an all-zero buffer");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(kRead));
}
BENCHMARK(BM_StatusScanner_ByteLoopBaseline);

// ---- Codec ---------------------------------------------------------------------

Command sample_command() {
  Command c;
  c.proto = Proto::kTcp;
  c.direction = Direction::kBoth;
  c.random_payload = false;
  c.conn_count = 0;
  c.tx_size = linerate::btest::kTcpTxSize;
  c.remote_tx_speed = 100'000'000;
  c.local_tx_speed = 0;
  return c;
}

void BM_Codec_EncodeCommand(benchmark::State& state) {
  Command c = sample_command();
  for (auto _ : state) {
    benchmark::DoNotOptimize(c);
    Bytes16 wire = linerate::btest::encode_command(c);
    benchmark::DoNotOptimize(wire);
    ++c.local_tx_speed;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 16);
}
BENCHMARK(BM_Codec_EncodeCommand);

void BM_Codec_DecodeCommand(benchmark::State& state) {
  Bytes16 wire = linerate::btest::encode_command(sample_command());
  if (!linerate::btest::decode_command(wire)) {
    state.SkipWithError("fixture command does not decode");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(wire);
    auto c = linerate::btest::decode_command(wire);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 16);
}
BENCHMARK(BM_Codec_DecodeCommand);

void BM_Codec_EncodeStatus(benchmark::State& state) {
  uint32_t seq = 1;
  uint64_t bytes = 1'234'567'890;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bytes);
    Bytes12 wire = linerate::btest::encode_status(seq, 37, bytes);
    benchmark::DoNotOptimize(wire);
    ++seq;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 12);
}
BENCHMARK(BM_Codec_EncodeStatus);

void BM_Codec_DecodeStatus(benchmark::State& state) {
  Bytes12 wire = sample_record(77);
  if (!linerate::btest::decode_status(wire)) {
    state.SkipWithError("fixture status does not decode");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(wire);
    auto s = linerate::btest::decode_status(wire);
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 12);
}
BENCHMARK(BM_Codec_DecodeStatus);

// ---- MD5 authentication (§5) ---------------------------------------------------

std::array<std::byte, 16> sample_challenge() {
  std::array<std::byte, 16> ch{};
  for (std::size_t i = 0; i < ch.size(); ++i) {
    ch[i] = static_cast<std::byte>(0xA5U ^ (i * 17U));
  }
  return ch;
}

void BM_Md5_AuthResponse(benchmark::State& state) {
  // Client side: hash = MD5(pw || MD5(pw || challenge)) plus the 48-byte framing.
  const auto challenge = sample_challenge();
  std::string_view user = "admin";
  std::string_view password = "correct horse battery staple";
  for (auto _ : state) {
    benchmark::DoNotOptimize(password);
    auto wire = linerate::btest::encode_md5_response(user, password, challenge);
    benchmark::DoNotOptimize(wire);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Md5_AuthResponse);

void BM_Md5_VerifyResponse(benchmark::State& state) {
  // Server side: parse the 48 bytes, recompute, constant-time compare.
  const auto challenge = sample_challenge();
  std::string_view user = "admin";
  std::string_view password = "correct horse battery staple";
  auto wire = linerate::btest::encode_md5_response(user, password, challenge);
  if (!linerate::btest::md5_response_valid(linerate::btest::decode_md5_response(wire), user, password, challenge)) {
    state.SkipWithError("fixture MD5 response does not verify");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(wire);
    bool ok =
        linerate::btest::md5_response_valid(linerate::btest::decode_md5_response(wire), user, password, challenge);
    benchmark::DoNotOptimize(ok);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Md5_VerifyResponse);

}  // namespace
