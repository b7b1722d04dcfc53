// btest/report.cpp — see report.hpp.
#include "btest/report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/units.hpp"

namespace linerate::btest {

namespace {
std::string_view proto_name(Proto p) { return p == Proto::kTcp ? "tcp" : "udp"; }

std::string cpu_text(int v) { return v < 0 ? std::string("--") : fmt::format("{}%", v); }

std::string iso_time(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

double rate(uint64_t bytes, double secs) { return secs > 0 ? static_cast<double>(bytes) * 8.0 / secs : 0.0; }
}  // namespace

bool TestRecord::sends() const { return mode == "client" ? client_sends(direction) : server_sends(direction); }
bool TestRecord::receives() const { return mode == "client" ? server_sends(direction) : client_sends(direction); }
double TestRecord::tx_avg_bps() const { return rate(tx_bytes, duration_s); }
double TestRecord::rx_avg_bps() const { return rate(rx_bytes, duration_s); }

namespace {
// Rounded mean of the known (>= 0) values picked by `field`; -1 when none.
template <typename Field>
int cpu_avg(const std::vector<IntervalSample>& intervals, Field field) {
  long sum = 0;
  long n = 0;
  for (const auto& s : intervals) {
    if (field(s) >= 0) {
      sum += field(s);
      ++n;
    }
  }
  return n == 0 ? -1 : static_cast<int>((sum + n / 2) / n);
}
}  // namespace

int TestRecord::local_cpu_avg() const {
  return cpu_avg(intervals, [](const IntervalSample& s) { return s.local_cpu; });
}

int TestRecord::remote_cpu_avg() const {
  return cpu_avg(intervals, [](const IntervalSample& s) { return s.remote_cpu; });
}

std::string interval_line(const TestRecord& r, const IntervalSample& s) {
  std::string line = fmt::format("[{:>3}]", s.index);
  if (r.sends()) {
    // Spec §14: the sender shows what the receiver reported; before the first
    // report arrives we show our own send rate.
    double bps = s.peer_reported ? static_cast<double>(s.peer_last_bytes) * 8.0 : rate(s.tx_bytes, s.seconds);
    line += fmt::format("  TX {:>13}", core::format_rate(bps));
  }
  if (r.receives()) {
    line += fmt::format("  RX {:>13}", core::format_rate(rate(s.rx_bytes, s.seconds)));
  }
  if (r.proto == Proto::kUdp && r.receives()) {
    line += fmt::format("  lost: {}", std::max<int64_t>(0, s.lost));
  }
  line += fmt::format("  cpu: {}/{}", cpu_text(s.local_cpu), cpu_text(s.remote_cpu));
  return line;
}

std::string summary_text(const TestRecord& r) {
  std::string out = "- - - - - - - - - - - - - - - - - - - - - - - - - - - -\n";
  if (r.sends()) {
    out += fmt::format("[SUM]  TX  avg {:>13}  total {:>10}  in {:.2f} s\n", core::format_rate(r.tx_avg_bps()),
                       core::format_bytes(r.tx_bytes), r.duration_s);
  }
  if (r.receives()) {
    out += fmt::format("[SUM]  RX  avg {:>13}  total {:>10}  in {:.2f} s\n", core::format_rate(r.rx_avg_bps()),
                       core::format_bytes(r.rx_bytes), r.duration_s);
  }
  if (r.proto == Proto::kUdp) {
    const UdpCounts& u = r.udp;
    if (r.sends()) {
      out += fmt::format("[SUM]  UDP sent {} datagrams of {} B\n", u.tx_datagrams, u.tx_size);
    }
    if (r.receives()) {
      out += fmt::format("[SUM]  UDP received {} datagrams, lost {} ({:.2f}%), duplicated {}, reordered {}{}\n",
                         u.rx_datagrams, u.lost, u.loss_percent(), u.duplicates, u.reordered,
                         u.malformed + u.foreign == 0
                             ? std::string()
                             : fmt::format(", ignored {} malformed and {} foreign", u.malformed, u.foreign));
    }
  }
  out += fmt::format("[SUM]  {} {} {}, {} connection{}, cpu: {}/{}; {}\n", proto_name(r.proto),
                     direction_name(r.direction), r.peer, r.connections, r.connections == 1 ? "" : "s",
                     cpu_text(r.local_cpu_avg()), cpu_text(r.remote_cpu_avg()), r.end_reason);
  return out;
}

std::string summary_json(const TestRecord& r) {
  nlohmann::json j;
  j["mode"] = r.mode;
  j["peer"] = r.peer;
  j["protocol"] = proto_name(r.proto);
  j["direction"] = direction_name(r.direction);
  j["connections"] = r.connections;
  j["auth"] = r.auth;
  if (!r.user.empty()) {
    j["user"] = r.user;
  }
  j["start"] = iso_time(r.start_unix_ms);
  j["duration_s"] = r.duration_s;
  j["tx"] = {{"bytes", r.tx_bytes}, {"avg_bps", r.tx_avg_bps()}, {"active", r.sends()}};
  j["rx"] = {{"bytes", r.rx_bytes}, {"avg_bps", r.rx_avg_bps()}, {"active", r.receives()}};
  j["peer_reported_rx_bytes"] = r.peer_rx_bytes;
  j["cpu"] = {{"local_avg", r.local_cpu_avg()}, {"remote_avg", r.remote_cpu_avg()}};
  if (r.proto == Proto::kUdp) {
    const UdpCounts& u = r.udp;
    j["udp"] = {{"port", u.port},
                {"tx_size", u.tx_size},
                {"header_overhead", u.overhead},
                {"tx_datagrams", u.tx_datagrams},
                {"rx_datagrams", u.rx_datagrams},
                {"lost", u.lost},
                {"loss_percent", u.loss_percent()},
                {"duplicates", u.duplicates},
                {"reordered", u.reordered},
                {"malformed", u.malformed},
                {"foreign", u.foreign},
                {"gso", u.gso},
                {"gro", u.gro}};
  }
  nlohmann::json iv = nlohmann::json::array();
  for (const auto& s : r.intervals) {
    iv.push_back({{"index", s.index},
                  {"seconds", s.seconds},
                  {"tx_bytes", s.tx_bytes},
                  {"rx_bytes", s.rx_bytes},
                  {"peer_rx_bytes", s.peer_rx_bytes},
                  {"peer_last_bytes", s.peer_last_bytes},
                  {"peer_reported", s.peer_reported},
                  {"local_cpu", s.local_cpu},
                  {"remote_cpu", s.remote_cpu},
                  {"lost", s.lost}});
  }
  j["intervals"] = iv;
  j["end_reason"] = r.end_reason;
  j["ok"] = r.ok;
  return j.dump();
}

std::vector<std::string> csv_header() {
  return {"start",
          "mode",
          "peer",
          "user",
          "protocol",
          "direction",
          "connections",
          "duration_s",
          "tx_bytes",
          "rx_bytes",
          "tx_avg_bps",
          "rx_avg_bps",
          "local_cpu_avg",
          "remote_cpu_avg",
          "result",
          "end_reason",
          "udp_tx_datagrams",
          "udp_rx_datagrams",
          "udp_lost",
          "udp_loss_percent"};
}

std::vector<std::string> csv_row(const TestRecord& r) {
  return {iso_time(r.start_unix_ms),
          r.mode,
          r.peer,
          r.user,
          std::string(proto_name(r.proto)),
          std::string(direction_name(r.direction)),
          std::to_string(r.connections),
          fmt::format("{:.3f}", r.duration_s),
          std::to_string(r.tx_bytes),
          std::to_string(r.rx_bytes),
          fmt::format("{:.0f}", r.tx_avg_bps()),
          fmt::format("{:.0f}", r.rx_avg_bps()),
          std::to_string(r.local_cpu_avg()),
          std::to_string(r.remote_cpu_avg()),
          r.ok ? "ok" : "error",
          r.end_reason,
          std::to_string(r.udp.tx_datagrams),
          std::to_string(r.udp.rx_datagrams),
          std::to_string(r.udp.lost),
          fmt::format("{:.3f}", r.udp.loss_percent())};
}

std::string start_fields(const TestRecord& r) {
  return fmt::format("peer={} user={} auth={} proto={} direction={} connections={} tx_cap_bps={}", r.peer,
                     r.user.empty() ? "-" : r.user, r.auth, proto_name(r.proto), direction_name(r.direction),
                     r.connections, r.tx_speed_cap_bps);
}

std::string end_fields(const TestRecord& r) {
  return fmt::format(
      "peer={} user={} proto={} direction={} connections={} duration_s={:.3f} tx_bytes={} rx_bytes={} "
      "tx_avg_bps={:.0f} rx_avg_bps={:.0f} result={} reason=\"{}\"{}",
      r.peer, r.user.empty() ? "-" : r.user, proto_name(r.proto), direction_name(r.direction), r.connections,
      r.duration_s, r.tx_bytes, r.rx_bytes, r.tx_avg_bps(), r.rx_avg_bps(), r.ok ? "ok" : "error", r.end_reason,
      r.proto != Proto::kUdp ? std::string()
                             : fmt::format(" udp_tx_datagrams={} udp_rx_datagrams={} udp_lost={}", r.udp.tx_datagrams,
                                           r.udp.rx_datagrams, r.udp.lost));
}

}  // namespace linerate::btest
