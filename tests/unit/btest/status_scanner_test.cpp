// Unit tests for btest/status_scanner (spec §9, §12.4): records must be found no
// matter where the reads split the stream.
#include "btest/status_scanner.hpp"

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "btest/protocol.hpp"

namespace linerate::btest {
namespace {

using Mode = StatusScanner::Mode;
using Stream = std::vector<std::byte>;

struct Rec {
  unsigned cpu;
  uint32_t seq;
  uint32_t bytes;
  bool operator==(const Rec&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  return os << "{cpu " << r.cpu << " seq " << r.seq << " bytes " << r.bytes << "}";
}

void append_zeros(Stream& s, std::size_t n) { s.insert(s.end(), n, std::byte{0}); }

void append_record(Stream& s, const Rec& r) {
  Bytes12 w = encode_status(r.seq, r.cpu, r.bytes);
  s.insert(s.end(), w.begin(), w.end());
}

// Feed `stream` in reads that end at `cuts` (sorted offsets), collect every record.
std::vector<Rec> scan(Mode mode, const Stream& stream, const std::vector<std::size_t>& cuts) {
  StatusScanner scanner(mode);
  std::vector<Rec> out;
  auto on_status = [&out](const Status& s) { out.push_back(Rec{s.cpu_percent.value_or(255), s.seq, s.bytes}); };
  std::size_t pos = 0;
  for (std::size_t cut : cuts) {
    scanner.feed(std::span<const std::byte>(stream.data() + pos, cut - pos), on_status);
    pos = cut;
  }
  scanner.feed(std::span<const std::byte>(stream.data() + pos, stream.size() - pos), on_status);
  return out;
}

std::vector<Rec> scan_whole(Mode mode, const Stream& stream) { return scan(mode, stream, {}); }

std::vector<Rec> scan_bytewise(Mode mode, const Stream& stream) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < stream.size(); ++i) {
    cuts.push_back(i);
  }
  return scan(mode, stream, cuts);
}

// Records whose own fields look like status headers or hold 07 bytes: a scanner that
// does not skip a found record would report phantoms from these.
const std::vector<Rec> kTrickyRecords = {
    {5, 1, 1'249'500},
    {17, 300, 125'000'000},
    {0, 0x00008507, 0x07000000},  // seq field reads "07 85 00 00"
    {100, 2, 0x0000e407},         // bytes field reads "07 e4 00 00"
    {89, 0x07070707, 0x07070707},
    {42, 3, 0},
    {7, 0xFFFFFFFF, 0xFFFFFFFF},
};

// Zero data with a record at each write boundary; write sizes vary from 0 (two
// records back to back) to a few dozen bytes, and the stream starts and ends with a record.
Stream interleaved_stream(std::vector<Rec>& records) {
  const std::size_t gaps[] = {0, 1, 11, 12, 13, 0, 30};
  Stream s;
  records = kTrickyRecords;
  for (std::size_t i = 0; i < records.size(); ++i) {
    append_record(s, records[i]);
    if (i + 1 < records.size()) {
      append_zeros(s, gaps[i % std::size(gaps)]);
    }
  }
  return s;
}

Stream aligned_stream(std::vector<Rec>& records) {
  Stream s;
  records = kTrickyRecords;
  for (const Rec& r : records) {
    append_record(s, r);
  }
  return s;
}

void expect_every_single_split_finds(Mode mode, const Stream& stream, const std::vector<Rec>& want) {
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    EXPECT_EQ(scan(mode, stream, {cut}), want) << "split at " << cut;
  }
}

void expect_every_double_split_finds(Mode mode, const Stream& stream, const std::vector<Rec>& want) {
  for (std::size_t a = 0; a <= stream.size(); ++a) {
    for (std::size_t b = a; b <= stream.size(); ++b) {
      ASSERT_EQ(scan(mode, stream, {a, b}), want) << "splits at " << a << " and " << b;
    }
  }
}

TEST(StatusScanner, InterleavedFindsAllRecordsInOneRead) {
  std::vector<Rec> want;
  Stream s = interleaved_stream(want);
  EXPECT_EQ(scan_whole(Mode::kInterleaved, s), want);
}

TEST(StatusScanner, InterleavedFindsAllRecordsAtEverySplitPoint) {
  std::vector<Rec> want;
  Stream s = interleaved_stream(want);
  expect_every_single_split_finds(Mode::kInterleaved, s, want);
}

TEST(StatusScanner, InterleavedFindsAllRecordsAtEveryPairOfSplitPoints) {
  std::vector<Rec> want;
  Stream s = interleaved_stream(want);
  expect_every_double_split_finds(Mode::kInterleaved, s, want);
}

TEST(StatusScanner, InterleavedFindsAllRecordsFedByteByByte) {
  std::vector<Rec> want;
  Stream s = interleaved_stream(want);
  EXPECT_EQ(scan_bytewise(Mode::kInterleaved, s), want);
}

TEST(StatusScanner, AlignedFindsAllRecordsInOneRead) {
  std::vector<Rec> want;
  Stream s = aligned_stream(want);
  EXPECT_EQ(scan_whole(Mode::kAligned, s), want);
}

TEST(StatusScanner, AlignedFindsAllRecordsAtEverySplitPoint) {
  std::vector<Rec> want;
  Stream s = aligned_stream(want);
  expect_every_single_split_finds(Mode::kAligned, s, want);
}

TEST(StatusScanner, AlignedFindsAllRecordsAtEveryPairOfSplitPoints) {
  std::vector<Rec> want;
  Stream s = aligned_stream(want);
  expect_every_double_split_finds(Mode::kAligned, s, want);
}

TEST(StatusScanner, AlignedFindsAllRecordsFedByteByByte) {
  std::vector<Rec> want;
  Stream s = aligned_stream(want);
  EXPECT_EQ(scan_bytewise(Mode::kAligned, s), want);
}

TEST(StatusScanner, AlignedAcceptsUnknownCpu) {
  // §12.2: a CPU byte without bit 7 is "unknown", still a record on an aligned stream.
  Stream s;
  s.insert(s.end(), {std::byte{0x07}, std::byte{0x00}, std::byte{0}, std::byte{0}, std::byte{9}, std::byte{0},
                     std::byte{0}, std::byte{0}, std::byte{1}, std::byte{0}, std::byte{0}, std::byte{0}});
  std::vector<Rec> want{{255, 9, 1}};
  EXPECT_EQ(scan_whole(Mode::kAligned, s), want);
}

TEST(StatusScanner, RecordStraddlingReadBoundaryIsFound) {
  Stream s;
  append_zeros(s, 100);
  append_record(s, {33, 4, 5000});
  append_zeros(s, 100);
  // Cut inside the header, inside seq and inside bytes.
  for (std::size_t cut : {101U, 102U, 103U, 104U, 106U, 110U, 111U}) {
    StatusScanner scanner(Mode::kInterleaved);
    std::vector<Rec> got;
    auto on = [&got](const Status& st) { got.push_back(Rec{st.cpu_percent.value_or(255), st.seq, st.bytes}); };
    scanner.feed(std::span<const std::byte>(s.data(), cut), on);
    EXPECT_TRUE(got.empty()) << "cut " << cut;
    scanner.feed(std::span<const std::byte>(s.data() + cut, s.size() - cut), on);
    ASSERT_EQ(got.size(), 1U) << "cut " << cut;
    EXPECT_EQ(got[0], (Rec{33, 4, 5000}));
  }
}

TEST(StatusScanner, InterleavedIgnoresImplausibleHeaders) {
  Stream s;
  append_zeros(s, 20);
  // 07 then a byte without bit 7, a CPU above 100 %, and non-zero padding: none is a record.
  for (std::byte cpu : {std::byte{0x00}, std::byte{0x7f}, std::byte{0xe5}, std::byte{0xff}}) {
    s.push_back(std::byte{0x07});
    s.push_back(cpu);
    append_zeros(s, 14);
  }
  s.insert(s.end(), {std::byte{0x07}, std::byte{0x85}, std::byte{0x01}, std::byte{0x00}});
  append_zeros(s, 14);
  s.insert(s.end(), {std::byte{0x07}, std::byte{0x85}, std::byte{0x00}, std::byte{0x01}});
  append_zeros(s, 14);
  append_record(s, {1, 2, 3});
  append_zeros(s, 5);
  std::vector<Rec> want{{1, 2, 3}};
  EXPECT_EQ(scan_whole(Mode::kInterleaved, s), want);
  EXPECT_EQ(scan_bytewise(Mode::kInterleaved, s), want);
  expect_every_single_split_finds(Mode::kInterleaved, s, want);
}

TEST(StatusScanner, AlignedFallsBackToInterleavedAfterNonStatusRecord) {
  // Two aligned records, then 12 bytes of data where a record should be: the reader
  // goes on scanning heuristically and still finds the later records.
  Stream s;
  std::vector<Rec> want{{10, 1, 100}, {20, 2, 200}, {30, 3, 300}, {40, 4, 400}};
  append_record(s, want[0]);
  append_record(s, want[1]);
  append_zeros(s, 12);
  append_record(s, want[2]);
  append_zeros(s, 7);
  append_record(s, want[3]);
  EXPECT_EQ(scan_whole(Mode::kAligned, s), want);
  EXPECT_EQ(scan_bytewise(Mode::kAligned, s), want);
  expect_every_single_split_finds(Mode::kAligned, s, want);
  expect_every_double_split_finds(Mode::kAligned, s, want);
}

TEST(StatusScanner, AlignedFallbackFindsMisalignedRecord) {
  // Five bytes of junk shift every later record off the 12-byte grid.
  Stream s;
  std::vector<Rec> want{{10, 1, 100}, {20, 2, 200}, {30, 3, 300}};
  append_record(s, want[0]);
  append_zeros(s, 5);
  append_record(s, want[1]);
  append_record(s, want[2]);
  expect_every_single_split_finds(Mode::kAligned, s, want);
  EXPECT_EQ(scan_bytewise(Mode::kAligned, s), want);
}

TEST(StatusScanner, AlignedSwitchesModeOnlyOnBadRecord) {
  StatusScanner scanner(Mode::kAligned);
  Bytes12 rec = encode_status(1, 1, 1);
  int n = 0;
  scanner.feed(rec, [&n](const Status&) { ++n; });
  EXPECT_EQ(scanner.mode(), Mode::kAligned);
  EXPECT_EQ(n, 1);
  Bytes12 junk{};
  scanner.feed(junk, [&n](const Status&) { ++n; });
  EXPECT_EQ(scanner.mode(), Mode::kInterleaved);
  EXPECT_EQ(n, 1);
}

TEST(StatusScanner, AllZeroStreamYieldsNothing) {
  Stream s(70'000, std::byte{0});
  for (Mode mode : {Mode::kInterleaved, Mode::kAligned}) {
    EXPECT_TRUE(scan_whole(mode, s).empty());
    EXPECT_TRUE(scan(mode, s, {1, 5, 32768, 65536}).empty());
  }
}

TEST(StatusScanner, EmptyReadsAreHarmless) {
  std::vector<Rec> want;
  Stream s = interleaved_stream(want);
  std::vector<std::size_t> cuts;
  for (std::size_t i = 0; i <= s.size(); i += 3) {
    cuts.push_back(i);
    cuts.push_back(i);  // an empty read at every third offset
  }
  EXPECT_EQ(scan(Mode::kInterleaved, s, cuts), want);
}

TEST(StatusScanner, RandomJunkIsHandledTheSameWhateverTheSplits) {
  // Non-zero junk: no crash (ASan/UBSan build), every reported record is plausible,
  // and the reads' boundaries never change what is found.
  std::mt19937 rng(12345);  // fixed seed: deterministic
  for (int round = 0; round < 200; ++round) {
    Stream s(1 + rng() % 600);
    for (std::byte& b : s) {
      // Bias towards the bytes that matter so headers occur often.
      switch (rng() % 6) {
        case 0:
          b = std::byte{0x07};
          break;
        case 1:
          b = static_cast<std::byte>(0x80 + rng() % 101);
          break;
        case 2:
          b = std::byte{0};
          break;
        default:
          b = static_cast<std::byte>(rng() & 0xFF);
      }
    }
    std::vector<std::size_t> cuts;
    for (std::size_t pos = 0; pos < s.size();) {
      pos += rng() % 20;
      cuts.push_back(std::min(pos, s.size()));
    }
    for (Mode mode : {Mode::kInterleaved, Mode::kAligned}) {
      std::vector<Rec> whole = scan_whole(mode, s);
      EXPECT_EQ(scan(mode, s, cuts), whole) << "round " << round;
      EXPECT_EQ(scan_bytewise(mode, s), whole) << "round " << round;
      if (mode == Mode::kInterleaved) {
        for (const Rec& r : whole) {
          EXPECT_LE(r.cpu, 100U);
        }
      }
    }
  }
}

}  // namespace
}  // namespace linerate::btest
