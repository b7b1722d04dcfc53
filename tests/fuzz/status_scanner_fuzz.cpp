// tests/fuzz/status_scanner_fuzz.cpp — StatusScanner on arbitrary streams and reads.
//
// Input layout: byte 0 picks the mode (bit 0: 1 = aligned), byte 1 gives the number
// of read sizes that follow (mod 16), then those sizes (0..255, used in turn), then
// the stream. The stream is fed in reads of those sizes and the records found must
// equal those found when the whole stream arrives in one read: where TCP splits the
// stream must never matter (spec §9, §12.4).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "btest/status_scanner.hpp"
#include "fuzz_check.hpp"

namespace {

using linerate::btest::Status;
using linerate::btest::StatusScanner;

struct Found {
  int cpu;  // -1 when unknown
  uint32_t seq;
  uint32_t bytes;
  bool operator==(const Found&) const = default;
};

void collect(std::vector<Found>& out, const Status& s) {
  out.push_back(Found{s.cpu_percent ? int{*s.cpu_percent} : -1, s.seq, s.bytes});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  auto mode = (data[0] & 1) != 0 ? StatusScanner::Mode::kAligned : StatusScanner::Mode::kInterleaved;
  std::size_t n_sizes = std::min<std::size_t>(data[1] % 16, size - 2);
  const uint8_t* sizes = data + 2;
  std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(data + 2 + n_sizes), size - 2 - n_sizes);

  std::vector<Found> whole;
  StatusScanner one(mode);
  one.feed(stream, [&whole](const Status& s) { collect(whole, s); });

  std::vector<Found> split;
  StatusScanner many(mode);
  auto on_split = [&split](const Status& s) { collect(split, s); };
  std::size_t pos = 0;
  if (n_sizes > 0) {
    // Bounded: zero sizes are empty reads, so cap the count of reads too.
    for (std::size_t i = 0; pos < stream.size() && i < 4 * stream.size() + 16; ++i) {
      std::size_t len = std::min<std::size_t>(sizes[i % n_sizes], stream.size() - pos);
      many.feed(stream.subspan(pos, len), on_split);
      pos += len;
    }
  }
  many.feed(stream.subspan(pos), on_split);

  LR_FUZZ_CHECK(split == whole);
  LR_FUZZ_CHECK(whole.size() <= stream.size() / 12);
  if (mode == StatusScanner::Mode::kInterleaved) {
    for (const Found& f : whole) {
      LR_FUZZ_CHECK(f.cpu >= 0 && f.cpu <= 100);  // the heuristic requires a valid CPU byte
    }
  }
  return 0;
}
