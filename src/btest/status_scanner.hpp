// btest/status_scanner.hpp — find 12-byte status messages in a TCP byte stream.
//
// Two framings exist (spec §9, §12.4):
//  * aligned: the stream is nothing but status records (server→client in TCP
//    dir 01). Every 12 bytes is one record starting with 07.
//  * interleaved: records sit between data writes inside an all-zero data stream
//    (TCP dir 03). We look for 07, a CPU byte with bit 7 set and at most 0x80|100,
//    then two zero bytes; the remaining 8 bytes complete the record.
// Records may be split across reads at any byte; a carry of at most 11 bytes
// spans the boundary. Cost on an all-zero read is one memchr (SIMD) — the btest-rs
// audit found a byte loop here. An aligned stream that ever fails the 07 check
// falls back to interleaved scanning (a tolerant reader, never an assert).
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <span>

#include "btest/protocol.hpp"

namespace linerate::btest {

class StatusScanner {
 public:
  enum class Mode { kAligned, kInterleaved };
  explicit StatusScanner(Mode mode) : mode_(mode) {}

  [[nodiscard]] Mode mode() const { return mode_; }

  /// Consume the next bytes of the stream; calls on_status(const Status&) per record.
  template <typename OnStatus>
  void feed(std::span<const std::byte> data, OnStatus&& on_status) {
    if (mode_ == Mode::kAligned) {
      feed_aligned(data, on_status);
    } else {
      feed_interleaved(data, on_status);
    }
  }

 private:
  static constexpr std::size_t kLen = 12;

  // Could bytes [0, n) of a record be a valid interleaved status header?
  static bool header_plausible(const std::byte* p, std::size_t n) {
    if (n >= 1 && p[0] != kStatusType) {
      return false;
    }
    if (n >= 2) {
      auto cpu = static_cast<unsigned>(p[1]);
      if (cpu < 0x80 || cpu > 0x80 + 100) {
        return false;
      }
    }
    if (n >= 3 && p[2] != std::byte{0}) {
      return false;
    }
    if (n >= 4 && p[3] != std::byte{0}) {
      return false;
    }
    return true;
  }

  template <typename OnStatus>
  static void emit(const std::byte* p, OnStatus& on_status) {
    auto s = decode_status(std::span<const std::byte, kLen>(p, kLen));
    if (s) {
      on_status(*s);
    }
  }

  template <typename OnStatus>
  void feed_aligned(std::span<const std::byte> data, OnStatus& on_status) {
    std::size_t i = 0;
    while (i < data.size()) {
      std::size_t take = std::min(kLen - carry_len_, data.size() - i);
      std::memcpy(carry_.data() + carry_len_, data.data() + i, take);
      carry_len_ += take;
      i += take;
      if (carry_len_ < kLen) {
        return;
      }
      carry_len_ = 0;
      if (carry_[0] != kStatusType) {
        // Not a record stream after all: rescan what we hold, then go on interleaved.
        mode_ = Mode::kInterleaved;
        std::array<std::byte, kLen> held = carry_;
        feed_interleaved(std::span<const std::byte>(held.data() + 1, kLen - 1), on_status);
        feed_interleaved(data.subspan(i), on_status);
        return;
      }
      emit(carry_.data(), on_status);
    }
  }

  template <typename OnStatus>
  void feed_interleaved(std::span<const std::byte> data, OnStatus& on_status) {
    std::size_t start = 0;  // where the main scan of `data` begins
    if (carry_len_ > 0) {
      // Resolve candidates that began in the previous read. combined = carry + up
      // to 11 new bytes, enough to complete any record starting in the carry.
      std::array<std::byte, 2 * kLen> combined{};
      std::size_t held = carry_len_;
      std::memcpy(combined.data(), carry_.data(), held);
      std::size_t extra = std::min(data.size(), kLen - 1);
      std::memcpy(combined.data() + held, data.data(), extra);
      std::size_t total = held + extra;
      carry_len_ = 0;
      for (std::size_t p = 0; p < held; ++p) {
        if (combined[p] != kStatusType) {
          continue;
        }
        std::size_t avail = total - p;
        if (avail >= kLen) {
          if (header_plausible(&combined[p], 4)) {
            emit(&combined[p], on_status);
            start = p + kLen - held;
            break;
          }
        } else if (header_plausible(&combined[p], avail)) {
          // Still incomplete (tiny read): keep carrying.
          std::memcpy(carry_.data(), &combined[p], avail);
          carry_len_ = avail;
          return;
        }
      }
    }
    const std::byte* base = data.data();
    std::size_t n = data.size();
    std::size_t i = start;
    while (i < n) {
      const void* hit = std::memchr(base + i, 0x07, n - i);
      if (hit == nullptr) {
        return;
      }
      i = static_cast<std::size_t>(static_cast<const std::byte*>(hit) - base);
      std::size_t avail = n - i;
      if (avail >= kLen) {
        if (header_plausible(base + i, 4)) {
          emit(base + i, on_status);
          i += kLen;
        } else {
          ++i;
        }
      } else {
        if (header_plausible(base + i, avail)) {
          std::memcpy(carry_.data(), base + i, avail);
          carry_len_ = avail;
          return;
        }
        ++i;
      }
    }
  }

  Mode mode_;
  std::array<std::byte, kLen> carry_{};
  std::size_t carry_len_ = 0;
};

}  // namespace linerate::btest
