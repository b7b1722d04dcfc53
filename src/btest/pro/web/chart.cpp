// btest/pro/web/chart.cpp — server-side SVG throughput chart (see chart.hpp).
//
// Layout: a plot area of kPlotW x kPlotH inside fixed margins; x = second
// (0 .. n-1 spread over the width), left y = bits per second from 0 to a
// "nice" ceiling (1, 2 or 5 x 10^k) above the largest value, right y = lost
// datagrams per second for UDP (bars). Only numbers and fixed words are
// written into the SVG; the few texts are XML-escaped all the same.
#include "btest/pro/web/chart.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/text.hpp"
#include "core/units.hpp"

namespace linerate::btest::pro::web {
namespace {

constexpr double kWidth = 760;
constexpr double kHeight = 280;
constexpr double kLeft = 78;
constexpr double kRight = 56;
constexpr double kTop = 28;
constexpr double kBottom = 34;
constexpr double kPlotW = kWidth - kLeft - kRight;
constexpr double kPlotH = kHeight - kTop - kBottom;

/// The smallest m x 10^k >= v (and >= 1) for m in a list of round steps whose
/// quarters are round too, so the four grid lines read well.
double nice_ceiling(double v) {
  if (v <= 1) {
    return 1;
  }
  const double p = std::pow(10.0, std::floor(std::log10(v)));
  for (double m : {1.0, 1.2, 1.6, 2.0, 2.4, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0}) {
    if (m * p >= v) {
      return m * p;
    }
  }
  return 10 * p;
}

struct Series {
  const char* name;   // class and data name
  const char* label;  // legend
  const char* color;
  std::vector<uint64_t> values;
};

}  // namespace

uint64_t bits_per_second(uint64_t bytes, uint32_t duration_ms) {
  const uint64_t ms = duration_ms == 0 ? 1000 : duration_ms;
  return static_cast<uint64_t>(static_cast<double>(bytes) * 8000.0 / static_cast<double>(ms) + 0.5);
}

std::string svg_chart(const SessionRow& session, const std::vector<IntervalRow>& intervals) {
  const bool udp = session.proto == "udp";
  const bool client_sends = session.direction == "transmit" || session.direction == "both";
  const bool server_sends = session.direction == "receive" || session.direction == "both";
  std::vector<Series> lines;
  if (client_sends) {
    lines.push_back({"in", "received (client to server)", "#1f77b4", {}});
  }
  if (server_sends) {
    lines.push_back({"out", "sent (server to client)", "#d95f02", {}});
  }
  Series lost{"lost", "lost datagrams", "#c0392b", {}};
  std::vector<uint32_t> seconds;  // the first second of each point
  std::size_t drawn_count = 0;
  for (const IntervalRow& iv : intervals) {
    drawn_count += drawn(iv) ? 1 : 0;
  }
  // One point per second up to kMaxPoints; a longer test gets one point per
  // `group` seconds (their average rate, their sum of lost datagrams), so the
  // chart of an hour-long test stays small enough to refresh every second.
  const std::size_t group = std::max<std::size_t>(1, (drawn_count + kMaxPoints - 1) / kMaxPoints);
  uint64_t sum_in = 0;
  uint64_t sum_out = 0;
  uint64_t sum_lost = 0;
  uint64_t sum_ms = 0;
  std::size_t in_group = 0;
  auto close_group = [&] {
    const auto ms = static_cast<uint32_t>(std::min<uint64_t>(sum_ms, UINT32_MAX));
    for (Series& s : lines) {
      s.values.push_back(bits_per_second(s.name[0] == 'i' ? sum_in : sum_out, ms));
    }
    lost.values.push_back(sum_lost);
    sum_in = sum_out = sum_lost = sum_ms = 0;
    in_group = 0;
  };
  for (const IntervalRow& iv : intervals) {
    if (!drawn(iv)) {
      continue;
    }
    if (in_group == 0) {
      seconds.push_back(iv.second);
    }
    sum_in += iv.bytes_in;
    sum_out += iv.bytes_out;
    sum_lost += iv.lost;
    sum_ms += iv.duration_ms;
    if (++in_group == group) {
      close_group();
    }
  }
  if (in_group > 0) {
    close_group();
  }
  const std::size_t n = seconds.size();
  uint64_t max_bps = 0;
  for (const Series& s : lines) {
    for (uint64_t v : s.values) {
      max_bps = std::max(max_bps, v);
    }
  }
  const uint64_t max_lost = lost.values.empty() ? 0 : *std::max_element(lost.values.begin(), lost.values.end());
  // Headroom above the largest value, so the line never touches the legend;
  // the loss axis stays in whole datagrams (a multiple of its 4 grid steps).
  const double y_top = nice_ceiling(static_cast<double>(max_bps) * 1.1);
  const double lost_top = 4 * std::ceil(std::max(1.0, static_cast<double>(max_lost) * 1.1) / 4);
  auto x_of = [&](std::size_t i) {
    return kLeft + (n <= 1 ? kPlotW / 2 : kPlotW * static_cast<double>(i) / static_cast<double>(n - 1));
  };
  auto y_of = [&](double v, double top) { return kTop + kPlotH - kPlotH * v / top; };

  std::string out;
  auto put = std::back_inserter(out);
  fmt::format_to(put,
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {} {}\" width=\"{}\" "
                 "height=\"{}\" role=\"img\" data-session=\"{}\" data-points=\"{}\" data-seconds-per-point=\"{}\">\n",
                 kWidth, kHeight, kWidth, kHeight, session.id, n, group);
  fmt::format_to(put, "<title>{}</title>\n",
                 core::markup_escape(fmt::format("Session {}: {} {} throughput per second", session.id, session.proto,
                                                 session.direction)));
  fmt::format_to(put, "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", kWidth, kHeight);
  // Grid and left axis: 0, 1/4 ... 4/4 of the ceiling.
  for (int g = 0; g <= 4; ++g) {
    const double v = y_top * g / 4;
    const double y = y_of(v, y_top);
    fmt::format_to(put,
                   "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#e3e6ea\"/>"
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"end\" fill=\"#555\">{}</text>\n",
                   kLeft, y, kLeft + kPlotW, y, kLeft - 6, y + 4, core::markup_escape(core::format_rate(v)));
    if (udp) {
      fmt::format_to(put, "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" fill=\"{}\">{:g}</text>\n",
                     kLeft + kPlotW + 6, y + 4, lost.color, lost_top * g / 4);
    }
  }
  // x axis: about ten labels, always the first and the last second.
  const std::size_t step = std::max<std::size_t>(1, (n + 9) / 10);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % step == 0 || i + 1 == n) {
      fmt::format_to(
          put, "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">{}</text>\n",
          x_of(i), kTop + kPlotH + 16, seconds[i] + 1);
    }
  }
  fmt::format_to(
      put, "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"11\" text-anchor=\"middle\" fill=\"#555\">second</text>\n",
      kLeft + kPlotW / 2, kHeight - 4);
  if (n == 0) {
    fmt::format_to(put,
                   "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"14\" text-anchor=\"middle\" fill=\"#888\">waiting for "
                   "the first second</text>\n",
                   kLeft + kPlotW / 2, kTop + kPlotH / 2);
  }
  // Loss bars (UDP), under the lines.
  if (udp) {
    const double bar_w = std::max(2.0, std::min(16.0, n > 1 ? kPlotW / static_cast<double>(n) * 0.5 : 16.0));
    for (std::size_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(lost.values[i]);
      const double y = y_of(v, lost_top);
      fmt::format_to(put,
                     "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                     "fill-opacity=\"0.35\"/><circle class=\"pt lost\" data-second=\"{}\" data-value=\"{}\" "
                     "cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2\" fill=\"{}\"/>\n",
                     x_of(i) - bar_w / 2, y, bar_w, kTop + kPlotH - y, lost.color, seconds[i], lost.values[i], x_of(i),
                     y, lost.color);
    }
  }
  for (const Series& s : lines) {
    std::string points;
    for (std::size_t i = 0; i < n; ++i) {
      fmt::format_to(std::back_inserter(points), "{}{:.1f},{:.1f}", i == 0 ? "" : " ", x_of(i),
                     y_of(static_cast<double>(s.values[i]), y_top));
    }
    fmt::format_to(put, "<polyline class=\"line {}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n",
                   s.name, s.color, points);
    for (std::size_t i = 0; i < n; ++i) {
      fmt::format_to(put,
                     "<circle class=\"pt {}\" data-second=\"{}\" data-value=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" "
                     "r=\"3\" fill=\"{}\"><title>{}</title></circle>\n",
                     s.name, seconds[i], s.values[i], x_of(i), y_of(static_cast<double>(s.values[i]), y_top), s.color,
                     core::markup_escape(fmt::format("second {}: {}", seconds[i] + 1,
                                                     core::format_rate(static_cast<double>(s.values[i])))));
    }
  }
  // Legend.
  double lx = kLeft;
  std::vector<const Series*> legend;
  for (const Series& s : lines) {
    legend.push_back(&s);
  }
  if (udp) {
    legend.push_back(&lost);
  }
  for (const Series* s : legend) {
    fmt::format_to(put,
                   "<rect x=\"{:.1f}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"18\" "
                   "font-size=\"12\" fill=\"#333\">{}</text>\n",
                   lx, s->color, lx + 16, core::markup_escape(s->label));
    lx += 16 + 7.0 * static_cast<double>(std::string_view(s->label).size()) + 18;
  }
  out += "</svg>\n";
  return out;
}

}  // namespace linerate::btest::pro::web
