// scan/output.cpp — the four output formats and the result collector. See
// output.hpp for the formats' contract and the compatibility decisions; layouts
// were taken from nmap's documented output (man page "OUTPUT", nmap.dtd) and
// from running nmap 7.93 against loopback.
#include "scan/output.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include <fmt/core.h>

#include "core/version.hpp"

namespace linerate::scan {
namespace {

constexpr std::string_view kVersion = core::kVersion;
// nmap's version field in -oG / -oX: "lrscan-<version>".
const std::string kNmapVersionSlot = "lrscan-" + std::string(core::kVersion);
constexpr std::string_view kSystemServicesPath = "/etc/services";

// ---------------------------------------------------------------- service names

// port/proto -> service name: nmap-services through ServiceTable (the parser
// the port specs use), else the system's /etc/services ("name port/proto
// aliases": no frequency, the first name of a port wins).
class ServiceNames {
 public:
  static const ServiceNames& get() {
    static const ServiceNames names;  // loaded once, immutable afterwards
    return names;
  }

  [[nodiscard]] std::string_view name(uint16_t port, Protocol proto) const {
    return lookup(port, proto).value_or("unknown");
  }
  [[nodiscard]] bool has(uint16_t port, Protocol proto) const { return lookup(port, proto).has_value(); }

 private:
  ServiceNames() {
    nmap_ = ServiceTable::nmap_file();  // the table the port specs use: parsed once per process
    if (nmap_ == nullptr) {
      load_system(kSystemServicesPath);
    }
  }

  [[nodiscard]] std::optional<std::string_view> lookup(uint16_t port, Protocol proto) const {
    if (nmap_) {
      return nmap_->name_of(port, proto);
    }
    auto it = system_.find(key(port, proto));
    return it == system_.end() ? std::nullopt : std::optional<std::string_view>(it->second);
  }

  static uint32_t key(uint16_t port, Protocol proto) {
    return (uint32_t{port} << 1) | (proto == Protocol::kUdp ? 1U : 0U);
  }

  void load_system(std::string_view path) {
    std::ifstream in{std::string(path)};
    std::string line;
    while (in && std::getline(in, line)) {
      if (line.empty() || line[0] == '#') {
        continue;
      }
      char name[128];
      unsigned port = 0;
      char proto[8];
      if (std::sscanf(line.c_str(), "%127s %u/%7s", name, &port, proto) < 3 || port > 65535) {
        continue;
      }
      std::string_view p(proto);
      if (p == "tcp" || p == "udp") {
        system_.try_emplace(key(static_cast<uint16_t>(port), p == "udp" ? Protocol::kUdp : Protocol::kTcp), name);
      }
    }
  }

  const ServiceTable* nmap_ = nullptr;
  std::unordered_map<uint32_t, std::string> system_;
};

// ---------------------------------------------------------------- small helpers

std::string_view proto_name(Protocol p) { return p == Protocol::kUdp ? "udp" : "tcp"; }

bool responsive(const PortResult& r) { return r.state == PortState::kOpen || r.state == PortState::kClosed; }

bool host_up(std::span<const PortResult> ports) { return std::any_of(ports.begin(), ports.end(), responsive); }

// ctime()-style local time, as nmap prints: "Sun Nov 22 13:41:54 2026".
std::string time_str(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y", &tm);
  return std::string(buf, n);
}

std::string done_counts(const ScanInfo& info) {
  return fmt::format("{} IP address{} ({} host{} up) scanned in {:.2f} seconds", info.hosts_total,
                     info.hosts_total == 1 ? "" : "es", info.hosts_up, info.hosts_up == 1 ? "" : "s", info.elapsed_s);
}

// "1-21,23-79" from ascending ports.
std::string compress_ports(const std::vector<uint16_t>& ports) {
  std::string out;
  std::size_t i = 0;
  while (i < ports.size()) {
    std::size_t j = i;
    while (j + 1 < ports.size() && ports[j + 1] == ports[j] + 1) {
      ++j;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(ports[i]);
    if (j > i) {
      out += '-';
      out += std::to_string(ports[j]);
    }
    i = j + 1;
  }
  return out;
}

constexpr std::array<PortState, 4> kStates = {PortState::kOpen, PortState::kClosed, PortState::kFiltered,
                                              PortState::kOpenFiltered};

// Which states of one host are collapsed ("Not shown" / extraports).
struct Collapse {
  std::array<uint32_t, 4> count{};
  std::array<bool, 4> hidden{};

  Collapse(std::span<const PortResult> ports, const OutputOptions& opts) {
    for (const PortResult& r : ports) {
      ++count[static_cast<std::size_t>(r.state)];
    }
    for (std::size_t s = 1; s < 4; ++s) {  // index 0 = open, never collapsed
      hidden[s] = count[s] > 0 && (opts.open_only || count[s] > kMaxShownPerState);
    }
  }
  [[nodiscard]] bool is_hidden(PortState s) const { return hidden[static_cast<std::size_t>(s)]; }
  [[nodiscard]] uint32_t hidden_total() const {
    uint32_t n = 0;
    for (std::size_t s = 0; s < 4; ++s) {
      n += hidden[s] ? count[s] : 0;
    }
    return n;
  }
};

// One (state, proto, reason) group of collapsed ports, in first-seen order.
struct HiddenGroup {
  PortState state;
  Protocol proto;
  Reason reason;
  std::vector<uint16_t> ports;
};

std::vector<HiddenGroup> hidden_groups(std::span<const PortResult> ports, const Collapse& c) {
  std::vector<HiddenGroup> groups;
  for (PortState s : kStates) {
    if (!c.is_hidden(s)) {
      continue;
    }
    for (const PortResult& r : ports) {
      if (r.state != s) {
        continue;
      }
      auto it = std::find_if(groups.begin(), groups.end(), [&](const HiddenGroup& g) {
        return g.state == s && g.proto == r.proto && g.reason == r.reason;
      });
      if (it == groups.end()) {
        groups.push_back({s, r.proto, r.reason, {}});
        it = groups.end() - 1;
      }
      it->ports.push_back(r.port);
    }
  }
  return groups;
}

// Length of the valid UTF-8 sequence starting at s[i] (1 for ASCII), 0 when the
// bytes there are not valid UTF-8 (overlong, surrogate, truncated, > U+10FFFF).
std::size_t utf8_len(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) {
    return 1;
  }
  std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) {
    return 0;
  }
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) {
      return 0;
    }
  }
  unsigned char c1 = b(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 >= 0x90)) {
    return 0;
  }
  return n;
}

// XML attribute/text escaping; control characters other than tab/newline/CR are
// not allowed in XML 1.0 at all, so they become '?'.
std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      std::size_t n = utf8_len(s, i);
      if (n == 0) {
        out += '?';  // not UTF-8: the document is declared UTF-8
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
  }
  return out;
}

// `s` with bytes that are not UTF-8 replaced by '?'.
std::string utf8_clean(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_len(s, i);
    if (n == 0) {
      out += '?';
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// Text inside <!-- -->: "--" is forbidden, and so is a trailing '-'.
std::string xml_comment_text(std::string_view s) {
  std::string out;
  for (char c : utf8_clean(s)) {
    auto u = static_cast<unsigned char>(c);
    if (c == '-' && !out.empty() && out.back() == '-') {
      out += ' ';
    }
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  if (!out.empty() && out.back() == '-') {
    out += ' ';
  }
  return out;
}

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) {
      std::size_t n = utf8_len(s, i);
      if (n == 0) {
        out += "\\ufffd";  // invalid UTF-8 byte: JSON text must be UTF-8
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out += fmt::format("\\u{:04x}", u);
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// Grepable fields are separated by '\t', '/', ',' — strip them from free text.
std::string grep_safe(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') {
      c = ' ';
    }
  }
  return out;
}

// Per-protocol scaninfo derived from ScanInfo. Combined scans are described by
// scan_type "syn,udp" and services "T:1-100,U:53" (the -p grammar).
struct ProtoInfo {
  std::string type;
  Protocol proto;
  std::string services;
  uint32_t count;
};

std::vector<ProtoInfo> proto_infos(const ScanInfo& info) {
  std::vector<std::string> types;
  std::string_view t = info.scan_type;
  while (!t.empty()) {
    auto comma = t.find_first_of(",+");
    types.emplace_back(t.substr(0, comma));
    t = comma == std::string_view::npos ? std::string_view{} : t.substr(comma + 1);
  }
  if (types.empty()) {
    types.emplace_back("connect");
  }
  ScanProtocols sp;
  for (const auto& ty : types) {
    (ty == "udp" ? sp.udp : sp.tcp) = true;
  }
  auto sets = parse_port_spec(info.services, sp);
  std::vector<ProtoInfo> out;
  for (const auto& ty : types) {
    Protocol p = ty == "udp" ? Protocol::kUdp : Protocol::kTcp;
    if (sets) {
      const PortSet& set = p == Protocol::kUdp ? sets->udp : sets->tcp;
      out.push_back({ty, p, set.to_string(), set.size()});
    } else {
      out.push_back({ty, p, info.services, info.num_services});
    }
  }
  return out;
}

// What every format holds: where it writes and the display options.
class WriterBase : public OutputFormat {
 public:
  WriterBase(std::FILE* out, const OutputOptions& opts) : out_(out), opts_(opts) {}

 protected:
  std::FILE* out_;
  OutputOptions opts_;
};

// ---------------------------------------------------------------- normal (-oN)

class NormalOutput final : public WriterBase {
 public:
  using WriterBase::WriterBase;

  void begin(const ScanInfo& info) override {
    fmt::print(out_, "# lrscan {} scan initiated {} as: {}\n", kVersion, time_str(info.start_unix_s),
               grep_safe(info.args));
  }

  void host(const Address& addr, std::span<const PortResult> ports, std::optional<Reason> discovered) override {
    std::string ip = addr.to_string();
    if (!discovered && !host_up(ports)) {
      if (opts_.verbosity > 0) {
        fmt::print(out_, "Nmap scan report for {} [host down]\n", ip);
      }
      return;
    }
    fmt::print(out_, "Nmap scan report for {}\nHost is up.\n", ip);
    if (ports.empty()) {
      return;  // -sn: discovery only
    }
    Collapse c(ports, opts_);
    if (c.hidden_total() == ports.size()) {
      fmt::print(out_, "All {} scanned ports on {} are in ignored states.\n", ports.size(), ip);
    }
    auto groups = hidden_groups(ports, c);
    if (!groups.empty()) {
      std::string line = "Not shown: ";
      for (std::size_t i = 0; i < groups.size(); ++i) {
        const auto& g = groups[i];
        line += fmt::format("{}{} {} {} port{} ({})", i ? ", " : "", g.ports.size(), state_name(g.state),
                            proto_name(g.proto), g.ports.size() == 1 ? "" : "s", reason_name(g.reason));
      }
      fmt::print(out_, "{}\n", line);
    }
    // The table: columns as wide as their widest cell plus one space; the last
    // column is not padded.
    std::vector<const PortResult*> shown;
    std::size_t w_port = 4;
    std::size_t w_state = 5;
    std::size_t w_service = 7;
    const ServiceNames& names = ServiceNames::get();
    for (const PortResult& r : ports) {
      if (c.is_hidden(r.state)) {
        continue;
      }
      shown.push_back(&r);
      w_port = std::max(w_port, std::to_string(r.port).size() + 4);
      w_state = std::max(w_state, state_name(r.state).size());
      w_service = std::max(w_service, names.name(r.port, r.proto).size());
    }
    if (!shown.empty()) {
      if (opts_.reason) {
        fmt::print(out_, "{:<{}} {:<{}} {:<{}} REASON\n", "PORT", w_port, "STATE", w_state, "SERVICE", w_service);
      } else {
        fmt::print(out_, "{:<{}} {:<{}} SERVICE\n", "PORT", w_port, "STATE", w_state);
      }
      for (const PortResult* r : shown) {
        std::string port = fmt::format("{}/{}", r->port, proto_name(r->proto));
        std::string_view svc = names.name(r->port, r->proto);
        if (opts_.reason) {
          fmt::print(out_, "{:<{}} {:<{}} {:<{}} {}\n", port, w_port, state_name(r->state), w_state, svc, w_service,
                     reason_name(r->reason));
        } else {
          fmt::print(out_, "{:<{}} {:<{}} {}\n", port, w_port, state_name(r->state), w_state, svc);
        }
      }
    }
    fmt::print(out_, "\n");
  }

  void end(const ScanInfo& info) override {
    fmt::print(out_, "# lrscan done at {} -- {}\n", time_str(info.end_unix_s), done_counts(info));
  }
};

// ---------------------------------------------------------------- grepable (-oG)

class GrepableOutput final : public WriterBase {
 public:
  using WriterBase::WriterBase;

  void begin(const ScanInfo& info) override {
    fmt::print(out_, "# Nmap {} scan initiated {} as: {}\n", kNmapVersionSlot, time_str(info.start_unix_s),
               grep_safe(info.args));
    if (opts_.verbosity > 0) {
      std::string tcp = "TCP(0;)";
      std::string udp = "UDP(0;)";
      for (const auto& p : proto_infos(info)) {
        (p.proto == Protocol::kUdp ? udp : tcp) =
            fmt::format("{}({};{})", p.proto == Protocol::kUdp ? "UDP" : "TCP", p.count, p.services);
      }
      fmt::print(out_, "# Ports scanned: {} {} SCTP(0;) PROTOCOLS(0;)\n", tcp, udp);
    }
  }

  void host(const Address& addr, std::span<const PortResult> ports, std::optional<Reason> discovered) override {
    std::string ip = addr.to_string();
    if (!discovered && !host_up(ports)) {
      if (opts_.verbosity > 0) {
        fmt::print(out_, "Host: {} ()\tStatus: Down\n", ip);
      }
      return;
    }
    fmt::print(out_, "Host: {} ()\tStatus: Up\n", ip);
    if (ports.empty()) {
      return;  // -sn: discovery only
    }
    Collapse c(ports, opts_);
    // -oG has room for one ignored state: the largest collapsed one. Others are
    // listed port by port (except with --open, which lists open ports only).
    int ignored = -1;
    for (std::size_t s = 1; s < 4; ++s) {
      if (c.hidden[s] && (ignored < 0 || c.count[s] > c.count[static_cast<std::size_t>(ignored)])) {
        ignored = static_cast<int>(s);
      }
    }
    const ServiceNames& names = ServiceNames::get();
    std::string line = fmt::format("Host: {} ()\tPorts: ", ip);
    bool first = true;
    for (const PortResult& r : ports) {
      if (static_cast<int>(r.state) == ignored || (opts_.open_only && r.state != PortState::kOpen)) {
        continue;
      }
      line += fmt::format("{}{}/{}/{}//{}///", first ? "" : ", ", r.port, state_name(r.state), proto_name(r.proto),
                          names.name(r.port, r.proto));
      first = false;
    }
    if (ignored >= 0) {
      line += fmt::format("\tIgnored State: {} ({})", state_name(static_cast<PortState>(ignored)),
                          c.count[static_cast<std::size_t>(ignored)]);
    }
    fmt::print(out_, "{}\n", line);
  }

  void end(const ScanInfo& info) override {
    fmt::print(out_, "# Nmap done at {} -- {}\n", time_str(info.end_unix_s), done_counts(info));
  }
};

// ---------------------------------------------------------------- XML (-oX)

class XmlOutput final : public WriterBase {
 public:
  using WriterBase::WriterBase;

  void begin(const ScanInfo& info) override {
    std::string start = time_str(info.start_unix_s);
    fmt::print(out_, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE nmaprun>\n");
    fmt::print(out_, "<!-- lrscan {} scan initiated {} as: {} -->\n", kVersion, start, xml_comment_text(info.args));
    // scanner="nmap": nmap.dtd allows no other value (see output.hpp).
    fmt::print(out_,
               "<nmaprun scanner=\"nmap\" args=\"{}\" start=\"{}\" startstr=\"{}\" version=\"{}\" "
               "xmloutputversion=\"1.05\">\n",
               xml_escape(info.args), info.start_unix_s, start, kNmapVersionSlot);
    for (const auto& p : proto_infos(info)) {
      fmt::print(out_, "<scaninfo type=\"{}\" protocol=\"{}\" numservices=\"{}\" services=\"{}\"/>\n",
                 xml_escape(p.type), proto_name(p.proto), p.count, xml_escape(p.services));
    }
    fmt::print(out_, "<verbose level=\"{}\"/>\n<debugging level=\"0\"/>\n", std::max(opts_.verbosity, 0));
  }

  void host(const Address& addr, std::span<const PortResult> ports, std::optional<Reason> discovered) override {
    bool up = discovered.has_value() || host_up(ports);
    if (!up && opts_.verbosity <= 0) {
      return;
    }
    std::string_view status_reason = discovered ? reason_name(*discovered) : "no-response";
    for (const PortResult& r : ports) {
      if (!discovered && responsive(r)) {
        status_reason = reason_name(r.reason);
        break;
      }
    }
    fmt::print(out_, "<host><status state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>\n", up ? "up" : "down",
               status_reason);
    fmt::print(out_, "<address addr=\"{}\" addrtype=\"{}\"/>\n<hostnames>\n</hostnames>\n", addr.to_string(),
               addr.family == Family::kV6 ? "ipv6" : "ipv4");
    if (!up) {
      fmt::print(out_, "</host>\n");
      return;
    }
    Collapse c(ports, opts_);
    auto groups = hidden_groups(ports, c);
    fmt::print(out_, "<ports>");
    // One <extraports> per state (ndiff keys them by state), one
    // <extrareasons> per (reason, protocol) inside it.
    for (PortState s : kStates) {
      if (!c.is_hidden(s)) {
        continue;
      }
      fmt::print(out_, "<extraports state=\"{}\" count=\"{}\">\n", state_name(s), c.count[static_cast<std::size_t>(s)]);
      for (const auto& g : groups) {
        if (g.state == s) {
          fmt::print(out_, "<extrareasons reason=\"{}\" count=\"{}\" proto=\"{}\" ports=\"{}\"/>\n",
                     reason_name(g.reason), g.ports.size(), proto_name(g.proto), compress_ports(g.ports));
        }
      }
      fmt::print(out_, "</extraports>\n");
    }
    const ServiceNames& names = ServiceNames::get();
    for (const PortResult& r : ports) {
      if (c.is_hidden(r.state)) {
        continue;
      }
      // nmap writes no <service> for a port its table does not name (and ndiff
      // then reports a difference against "unknown"): do the same.
      const std::string_view svc = names.name(r.port, r.proto);
      fmt::print(out_,
                 "<port protocol=\"{}\" portid=\"{}\"><state state=\"{}\" reason=\"{}\" reason_ttl=\"0\"/>{}</port>\n",
                 proto_name(r.proto), r.port, state_name(r.state), reason_name(r.reason),
                 svc == "unknown" && !names.has(r.port, r.proto)
                     ? std::string()
                     : fmt::format("<service name=\"{}\" method=\"table\" conf=\"3\"/>", xml_escape(svc)));
    }
    fmt::print(out_, "</ports>\n</host>\n");
  }

  void end(const ScanInfo& info) override {
    std::string endstr = time_str(info.end_unix_s);
    uint64_t down = info.hosts_total > info.hosts_up ? info.hosts_total - info.hosts_up : 0;
    fmt::print(out_,
               "<runstats><finished time=\"{}\" timestr=\"{}\" summary=\"lrscan done at {}; {}\" elapsed=\"{:.2f}\" "
               "exit=\"success\"/><hosts up=\"{}\" down=\"{}\" total=\"{}\"/>\n</runstats>\n</nmaprun>\n",
               info.end_unix_s, endstr, endstr, done_counts(info), info.elapsed_s, info.hosts_up, down,
               info.hosts_total);
  }
};

// ---------------------------------------------------------------- JSON lines (-oJ)

class JsonOutput final : public WriterBase {
 public:
  using WriterBase::WriterBase;

  void begin(const ScanInfo& info) override {
    fmt::print(out_,
               "{{\"type\":\"scan\",\"scanner\":\"lrscan\",\"version\":\"{}\",\"args\":{},\"scan_type\":{},"
               "\"services\":{},\"num_services\":{},\"start\":{},\"startstr\":{}}}\n",
               kVersion, json_escape(info.args), json_escape(info.scan_type), json_escape(info.services),
               info.num_services, info.start_unix_s, json_escape(time_str(info.start_unix_s)));
  }

  void host(const Address& addr, std::span<const PortResult> ports, std::optional<Reason> discovered) override {
    std::string ip = addr.to_string();
    int family = addr.family == Family::kV6 ? 6 : 4;
    const ServiceNames& names = ServiceNames::get();
    if (discovered) {
      fmt::print(out_, "{{\"type\":\"host\",\"ip\":\"{}\",\"family\":{},\"state\":\"up\",\"reason\":\"{}\"}}\n", ip,
                 family, reason_name(*discovered));
    }
    for (const PortResult& r : ports) {
      if (opts_.open_only && r.state != PortState::kOpen) {
        continue;
      }
      fmt::print(out_,
                 "{{\"type\":\"port\",\"ip\":\"{}\",\"family\":{},\"port\":{},\"proto\":\"{}\",\"state\":\"{}\","
                 "\"reason\":\"{}\",\"rtt_us\":{},\"service\":{}}}\n",
                 ip, family, r.port, proto_name(r.proto), state_name(r.state), reason_name(r.reason), r.rtt_us,
                 json_escape(names.name(r.port, r.proto)));
    }
  }

  void end(const ScanInfo& info) override {
    fmt::print(out_,
               "{{\"type\":\"summary\",\"end\":{},\"endstr\":{},\"elapsed_s\":{:.3f},\"hosts_up\":{},"
               "\"hosts_total\":{},\"probes_sent\":{},\"retries_sent\":{}}}\n",
               info.end_unix_s, json_escape(time_str(info.end_unix_s)), info.elapsed_s, info.hosts_up, info.hosts_total,
               info.probes_sent, info.retries_sent);
  }
};

}  // namespace

core::Result<std::unique_ptr<OutputFormat>> make_output(std::string_view format, std::FILE* out,
                                                        const OutputOptions& opts) {
  if (out == nullptr) {
    return core::fail("output format '" + std::string(format) + "': no output stream");
  }
  std::unique_ptr<OutputFormat> f;
  if (format == "normal") {
    f = std::make_unique<NormalOutput>(out, opts);
  } else if (format == "grepable") {
    f = std::make_unique<GrepableOutput>(out, opts);
  } else if (format == "xml") {
    f = std::make_unique<XmlOutput>(out, opts);
  } else if (format == "json") {
    f = std::make_unique<JsonOutput>(out, opts);
  } else {
    return core::fail("unknown output format '" + grep_safe(format) + "' (normal, grepable, xml, json)");
  }
  (void)ServiceNames::get();  // load the table now, not on the first host
  return f;
}

// ---------------------------------------------------------------- ResultCollector

void ResultCollector::add(const PortResult& r) { hosts_[r.addr].ports.push_back(r); }

void ResultCollector::add_up(const Address& addr, Reason why) {
  auto& h = hosts_[addr];
  if (!h.discovered) {
    h.discovered = why;
  }
}

void ResultCollector::replay(const ScanInfo& /*info_for_end*/, std::span<OutputFormat* const> outs) const {
  std::vector<PortResult> sorted;
  for (const auto& [addr, h] : hosts_) {
    sorted = h.ports;
    std::sort(sorted.begin(), sorted.end(), [](const PortResult& a, const PortResult& b) {
      return std::pair(a.proto, a.port) < std::pair(b.proto, b.port);
    });
    for (OutputFormat* o : outs) {
      o->host(addr, sorted, h.discovered ? h.discovered : assume_up_ ? std::optional(Reason::kUserSet) : std::nullopt);
    }
  }
}

uint64_t ResultCollector::hosts_up() const {
  return static_cast<uint64_t>(std::count_if(hosts_.begin(), hosts_.end(), [this](const auto& kv) {
    return assume_up_ || kv.second.discovered.has_value() || host_up(kv.second.ports);
  }));
}

}  // namespace linerate::scan
