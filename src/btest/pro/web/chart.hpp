// btest/pro/web/chart.hpp — a session's per-second throughput as an SVG chart,
// drawn by the server (no chart library in the page, nothing from a CDN).
//
// The chart is made for people and for scripts alike: every data point is a
// <circle class="pt SERIES" data-second="S" data-value="V"> (SERIES "in", "out"
// or "lost"; V in bits per second, or datagrams for "lost"), so a test can read
// back exactly what was drawn (docs/api.md).
#include <cstddef>
#include <cstdint>
#pragma once

#include <string>
#include <vector>

#include "btest/pro/store.hpp"

namespace linerate::btest::pro::web {

/// Bits per second of an interval of `duration_ms` (0 is taken as 1000).
[[nodiscard]] uint64_t bits_per_second(uint64_t bytes, uint32_t duration_ms);

/// The chart draws an interval when it is at least half a second long: a test's
/// last interval is usually a few milliseconds of tail after its last full
/// second (its bytes are in the session's totals, and the API lists it with
/// "partial": true), so a 5-second test draws 5 points.
inline constexpr uint32_t kMinDrawnMs = 500;

/// At most this many points per series: a longer test is drawn with one point
/// per ceil(seconds / kMaxPoints) seconds (their average; lost datagrams summed),
/// and the <svg> says so in data-seconds-per-point.
inline constexpr std::size_t kMaxPoints = 600;
[[nodiscard]] inline bool drawn(const IntervalRow& r) { return r.duration_ms >= kMinDrawnMs; }

/// The chart of `intervals` (ordered by second) of a session. Which series are
/// drawn follows what the session moved: "in" when the client sent (direction
/// transmit or both), "out" when the server sent (receive or both), and "lost"
/// for UDP. An empty list draws the axes and "waiting for the first second".
[[nodiscard]] std::string svg_chart(const SessionRow& session, const std::vector<IntervalRow>& intervals);

}  // namespace linerate::btest::pro::web
