// bench/load/stats.hpp — latency summaries shared by the load generators.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace linerate::bench {

/// Nearest-rank percentile of an already sorted vector (0 when empty).
inline double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) {
    return 0;
  }
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

/// count, mean, p50, p90, p99 and max of the samples.
inline nlohmann::ordered_json spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  double sum = 0;
  for (double x : v) {
    sum += x;
  }
  return {{"count", v.size()},          {"mean", v.empty() ? 0.0 : sum / static_cast<double>(v.size())},
          {"p50", percentile(v, 0.50)}, {"p90", percentile(v, 0.90)},
          {"p99", percentile(v, 0.99)}, {"max", v.empty() ? 0.0 : v.back()}};
}

}  // namespace linerate::bench
