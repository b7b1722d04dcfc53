// scan/ports.cpp — nmap port-spec parser, PortSet, and the frequency table.
//
// The parser walks the spec once, item by item, collecting ranges per protocol,
// and normalises each protocol's ranges once at the end, so work is linear in the
// spec length (plus a sort). Service names are looked up through a sorted index.
#include "scan/ports.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>

#include "core/file.hpp"
#include "core/text.hpp"

namespace linerate::scan {

namespace {

constexpr uint32_t kMaxPort = 65535;
constexpr std::size_t kMaxQuoted = 64;  // longer tokens are cut in messages

/// A token quoted for a one-line message: control characters escaped, cut short.
std::string quote(std::string_view token) { return core::quoted(token, kMaxQuoted); }

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string lowered(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_name_char(char c) { return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '+'; }

/// Parses the longest run of digits at text[pos...]; saturates far above 65535 so
/// huge numbers are reported, not wrapped.
struct Number {
  bool present = false;
  uint32_t value = 0;
  std::string_view digits;
};

Number parse_digits(std::string_view text, std::size_t& pos) {
  Number n;
  std::size_t start = pos;
  while (pos < text.size() && is_digit(text[pos])) {
    n.present = true;
    n.value = std::min<uint32_t>(n.value * 10 + static_cast<uint32_t>(text[pos] - '0'), 10'000'000U);
    ++pos;
  }
  n.digits = text.substr(start, pos - start);
  return n;
}

}  // namespace

// ---------------------------------------------------------------------------
// PortSet

PortSet PortSet::from_ranges(std::vector<PortRange> ranges) {
  for (auto& r : ranges) {
    if (r.first > r.last) {
      std::swap(r.first, r.last);
    }
  }
  std::sort(ranges.begin(), ranges.end(), [](PortRange a, PortRange b) { return a.first < b.first; });
  PortSet set;
  for (const auto& r : ranges) {
    // Merge overlapping and adjacent ranges (compare in 32 bits: last + 1 may be 65536).
    if (!set.ranges_.empty() && uint32_t{r.first} <= uint32_t{set.ranges_.back().last} + 1) {
      set.ranges_.back().last = std::max(set.ranges_.back().last, r.last);
    } else {
      set.ranges_.push_back(r);
    }
  }
  set.rebuild_counts();
  return set;
}

PortSet PortSet::from_ports(std::span<const uint16_t> ports) {
  std::vector<PortRange> ranges;
  ranges.reserve(ports.size());
  for (uint16_t p : ports) {
    ranges.push_back({p, p});
  }
  return from_ranges(std::move(ranges));
}

void PortSet::rebuild_counts() {
  before_.clear();
  before_.reserve(ranges_.size());
  uint32_t total = 0;
  for (const auto& r : ranges_) {
    before_.push_back(total);
    total += uint32_t{r.last} - r.first + 1;
  }
  size_ = total;
}

void PortSet::add(PortRange r) {
  std::vector<PortRange> all = ranges_;
  all.push_back(r);
  *this = from_ranges(std::move(all));
}

PortSet PortSet::united(const PortSet& other) const {
  std::vector<PortRange> all = ranges_;
  all.insert(all.end(), other.ranges_.begin(), other.ranges_.end());
  return from_ranges(std::move(all));
}

PortSet PortSet::minus(const PortSet& other) const {
  PortSet out;
  std::size_t j = 0;  // first range of `other` that may overlap the current range
  for (const auto& a : ranges_) {
    while (j < other.ranges_.size() && other.ranges_[j].last < a.first) {
      ++j;
    }
    uint32_t cur = a.first;  // lowest port of `a` not yet emitted or removed
    for (std::size_t k = j; k < other.ranges_.size() && other.ranges_[k].first <= a.last; ++k) {
      const auto& b = other.ranges_[k];
      if (b.first > cur) {
        out.ranges_.push_back({static_cast<uint16_t>(cur), static_cast<uint16_t>(b.first - 1)});
      }
      cur = std::max(cur, uint32_t{b.last} + 1);
    }
    if (cur <= a.last) {
      out.ranges_.push_back({static_cast<uint16_t>(cur), a.last});
    }
  }
  out.rebuild_counts();
  return out;
}

bool PortSet::contains(uint16_t port) const noexcept {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), port,
                             [](uint16_t p, const PortRange& r) { return p < r.first; });
  return it != ranges_.begin() && std::prev(it)->last >= port;
}

uint16_t PortSet::nth(uint32_t i) const noexcept {
  if (i >= size_) {
    return 0;
  }
  auto it = std::upper_bound(before_.begin(), before_.end(), i);  // never begin(): before_[0] == 0
  auto k = static_cast<std::size_t>(std::distance(before_.begin(), it)) - 1;
  return static_cast<uint16_t>(ranges_[k].first + (i - before_[k]));
}

int64_t PortSet::index_of(uint16_t port) const noexcept {
  auto it = std::upper_bound(ranges_.begin(), ranges_.end(), port,
                             [](uint16_t p, const PortRange& r) { return p < r.first; });
  if (it == ranges_.begin() || std::prev(it)->last < port) {
    return -1;
  }
  auto k = static_cast<std::size_t>(std::distance(ranges_.begin(), it)) - 1;
  return int64_t{before_[k]} + (port - ranges_[k].first);
}

std::string PortSet::to_string() const {
  std::string out;
  for (const auto& r : ranges_) {
    if (!out.empty()) {
      out += ',';
    }
    out += std::to_string(r.first);
    if (r.last != r.first) {
      out += '-';
      out += std::to_string(r.last);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// ServiceTable

namespace {

struct BuiltinPort {
  uint16_t port;
  const char* name;
};

// Our own list (see ports.hpp): most common first, by the authors' judgement.
constexpr BuiltinPort kBuiltinTcp[] = {
    {80, "http"},
    {443, "https"},
    {22, "ssh"},
    {21, "ftp"},
    {25, "smtp"},
    {23, "telnet"},
    {3389, "rdp"},
    {445, "microsoft-ds"},
    {139, "netbios-ssn"},
    {53, "domain"},
    {110, "pop3"},
    {143, "imap"},
    {135, "msrpc"},
    {8080, "http-proxy"},
    {3306, "mysql"},
    {993, "imaps"},
    {995, "pop3s"},
    {587, "submission"},
    {8443, "https-alt"},
    {5900, "vnc"},
    {111, "rpcbind"},
    {1723, "pptp"},
    {5432, "postgresql"},
    {1433, "ms-sql-s"},
    {465, "smtps"},
    {8000, "http-alt"},
    {8888, "http-alt2"},
    {6379, "redis"},
    {27017, "mongodb"},
    {389, "ldap"},
    {636, "ldaps"},
    {88, "kerberos"},
    {5060, "sip"},
    {179, "bgp"},
    {9100, "jetdirect"},
    {631, "ipp"},
    {2049, "nfs"},
    {5985, "wsman"},
    {5986, "wsmans"},
    {1521, "oracle"},
    {3128, "squid-http"},
    {8081, "http-8081"},
    {9090, "http-9090"},
    {9200, "elasticsearch"},
    {11211, "memcache"},
    {2375, "docker"},
    {2376, "docker-tls"},
    {6443, "kubernetes-api"},
    {10250, "kubelet"},
    {5000, "upnp"},
    {5001, "http-5001"},
    {8008, "http-8008"},
    {8009, "ajp13"},
    {9000, "http-9000"},
    {9443, "https-9443"},
    {10000, "webmin"},
    {1080, "socks"},
    {113, "ident"},
    {119, "nntp"},
    {873, "rsync"},
    {990, "ftps"},
    {992, "telnets"},
    {2222, "ssh-alt"},
    {3000, "http-3000"},
    {4443, "https-4443"},
    {5222, "xmpp-client"},
    {5269, "xmpp-server"},
    {5631, "pcanywhere"},
    {5666, "nrpe"},
    {5672, "amqp"},
    {5800, "vnc-http"},
    {6000, "x11"},
    {6667, "irc"},
    {7001, "weblogic"},
    {8082, "http-8082"},
    {8089, "splunkd"},
    {8181, "http-8181"},
    {9001, "tor-orport"},
    {9418, "git"},
    {1194, "openvpn"},
    {1883, "mqtt"},
    {8883, "mqtts"},
    {2181, "zookeeper"},
    {9092, "kafka"},
    {3268, "globalcat-ldap"},
    {3269, "globalcat-ldaps"},
    {49152, "dynamic-49152"},
    {49153, "dynamic-49153"},
    {1025, "dynamic-1025"},
    {2000, "cisco-sccp"},
    {4444, "krb524"},
    {4899, "radmin"},
    {513, "login"},
    {514, "shell"},
    {512, "exec"},
    {515, "printer"},
    {548, "afp"},
    {554, "rtsp"},
    {3260, "iscsi"},
    {3690, "svn"},
    {5357, "wsdapi"},
    {7547, "cwmp"},
    {8086, "influxdb"},
    {79, "finger"},
    {81, "http-81"},
    {7, "echo"},
    {9, "discard"},
    {13, "daytime"},
    {37, "time"},
    {199, "smux"},
    {427, "svrloc"},
    {543, "klogin"},
    {544, "kshell"},
};

constexpr BuiltinPort kBuiltinUdp[] = {
    {53, "domain"},       {123, "ntp"},        {161, "snmp"},         {137, "netbios-ns"}, {138, "netbios-dgm"},
    {67, "dhcps"},        {68, "dhcpc"},       {69, "tftp"},          {500, "isakmp"},     {514, "syslog"},
    {1900, "upnp"},       {5353, "mdns"},      {4500, "ipsec-nat-t"}, {1194, "openvpn"},   {162, "snmptrap"},
    {111, "rpcbind"},     {2049, "nfs"},       {1812, "radius"},      {1813, "radacct"},   {5060, "sip"},
    {3478, "stun"},       {443, "https"},      {1434, "ms-sql-m"},    {520, "route"},      {631, "ipp"},
    {5355, "llmnr"},      {11211, "memcache"}, {88, "kerberos"},      {389, "ldap"},       {1701, "l2tp"},
    {51820, "wireguard"}, {7, "echo"},         {19, "chargen"},       {177, "xdmcp"},      {49152, "dynamic-49152"},
};

/// Distinct ports of one protocol, most frequent first, ties by lower port.
std::vector<uint16_t> rank(const std::vector<ServiceEntry>& entries, Protocol proto) {
  std::vector<const ServiceEntry*> sorted;
  for (const auto& e : entries) {
    if (e.proto == proto) {
      sorted.push_back(&e);
    }
  }
  std::sort(sorted.begin(), sorted.end(), [](const ServiceEntry* a, const ServiceEntry* b) {
    if (a->frequency != b->frequency) {
      return a->frequency > b->frequency;
    }
    return a->port < b->port;
  });
  std::vector<bool> seen(kMaxPort + 1, false);
  std::vector<uint16_t> out;
  for (const auto* e : sorted) {
    if (!seen[e->port]) {
      seen[e->port] = true;
      out.push_back(e->port);
    }
  }
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) {
      ++i;
    }
    std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) {
      ++i;
    }
    if (i > start) {
      fields.push_back(line.substr(start, i - start));
    }
  }
  return fields;
}

}  // namespace

namespace {
uint32_t port_key(uint16_t port, Protocol proto) { return (uint32_t{port} << 1) | (proto == Protocol::kUdp ? 1U : 0U); }
}  // namespace

ServiceTable::ServiceTable(std::vector<ServiceEntry> entries) : entries_(std::move(entries)) {
  // In file order, before the names are lowered and sorted: on a tie the first
  // name listed for a port wins, in its own spelling (nmap prints "tnETOS").
  for (const auto& e : entries_) {
    auto [it, fresh] = by_port_.try_emplace(port_key(e.port, e.proto), PortName{e.name, e.frequency});
    if (!fresh && e.frequency > it->second.frequency) {
      it->second = PortName{e.name, e.frequency};
    }
  }
  for (auto& e : entries_) {
    e.name = lowered(e.name);
  }
  // Sorted by name so ports_named() is a binary search.
  // (std::sort, not stable_sort: clang-19 flags libstdc++ 12's stable_sort as deprecated.)
  std::sort(entries_.begin(), entries_.end(), [](const ServiceEntry& a, const ServiceEntry& b) {
    if (a.name != b.name) {
      return a.name < b.name;
    }
    return a.proto != b.proto ? a.proto < b.proto : a.port < b.port;
  });
  ranked_tcp_ = rank(entries_, Protocol::kTcp);
  ranked_udp_ = rank(entries_, Protocol::kUdp);
}

core::Result<ServiceTable> ServiceTable::parse(std::string_view text) {
  std::vector<ServiceEntry> entries;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    auto fields = split_fields(line);
    if (fields.empty()) {
      continue;
    }
    auto bad = [&](std::string what) {
      return core::fail("nmap-services line " + std::to_string(line_no) + ": " + what);
    };
    if (fields.size() < 2) {
      return bad("expected 'name port/protocol frequency', got " + quote(fields[0]));
    }
    std::string_view port_proto = fields[1];
    auto slash = port_proto.find('/');
    if (slash == std::string_view::npos) {
      return bad("expected port/protocol, got " + quote(port_proto));
    }
    std::string proto_name = lowered(port_proto.substr(slash + 1));
    Protocol proto = Protocol::kTcp;
    if (proto_name == "tcp") {
      proto = Protocol::kTcp;
    } else if (proto_name == "udp") {
      proto = Protocol::kUdp;
    } else {
      continue;  // sctp and anything newer: not scanned by lrscan
    }
    std::size_t p = 0;
    Number port = parse_digits(port_proto.substr(0, slash), p);
    if (!port.present || p != slash || port.value > kMaxPort) {
      return bad("bad port " + quote(port_proto));
    }
    double freq = 0.0;
    if (fields.size() >= 3) {
      std::string_view f = fields[2];
      auto [end, ec] = std::from_chars(f.data(), f.data() + f.size(), freq);
      if (ec != std::errc() || end != f.data() + f.size() || !std::isfinite(freq) || freq < 0.0 || freq > 1.0) {
        return bad("bad frequency " + quote(f));
      }
    }
    entries.push_back({std::string(fields[0]), static_cast<uint16_t>(port.value), proto, freq});
  }
  return ServiceTable(std::move(entries));
}

core::Result<ServiceTable> ServiceTable::load(const std::string& path) {
  constexpr std::size_t kMaxBytes = 16 << 20;  // nmap-services is ~1 MB
  auto text = core::read_file_capped(path, kMaxBytes);
  if (!text) {
    return tl::unexpected(text.error());
  }
  auto table = parse(*text);
  if (!table) {
    return core::fail(path + ": " + table.error().message());
  }
  return table;
}

ServiceTable ServiceTable::builtin() {
  std::vector<ServiceEntry> entries;
  auto add_all = [&](std::span<const BuiltinPort> list, Protocol proto) {
    // Synthetic, strictly decreasing frequencies: only the order is meaningful.
    const double n = static_cast<double>(list.size());
    for (std::size_t i = 0; i < list.size(); ++i) {
      entries.push_back({list[i].name, list[i].port, proto, (n - static_cast<double>(i)) / (n + 1.0) * 0.5});
    }
  };
  add_all(kBuiltinTcp, Protocol::kTcp);
  add_all(kBuiltinUdp, Protocol::kUdp);
  return ServiceTable(std::move(entries));
}

const ServiceTable* ServiceTable::nmap_file() {
  static const std::optional<ServiceTable> table = []() -> std::optional<ServiceTable> {
    auto t = load(std::string(kNmapServicesPath));
    if (t && !t->ranked_tcp_.empty()) {
      return std::move(*t);
    }
    return std::nullopt;
  }();
  return table ? &*table : nullptr;
}

const ServiceTable& ServiceTable::load_default() {
  if (const ServiceTable* t = nmap_file()) {
    return *t;
  }
  static const ServiceTable fallback = builtin();
  return fallback;
}

std::vector<uint16_t> ServiceTable::top_ports(Protocol proto, uint32_t n) const {
  const auto& ranked = proto == Protocol::kTcp ? ranked_tcp_ : ranked_udp_;
  auto count = std::min<std::size_t>(n, ranked.size());
  return {ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(count)};
}

PortSet ServiceTable::top_port_set(Protocol proto, uint32_t n) const {
  auto ports = top_ports(proto, n);
  return PortSet::from_ports(ports);
}

PortSets ServiceTable::top(ScanProtocols scanned, uint32_t n) const {
  PortSets out;
  if (scanned.tcp || !scanned.udp) {
    out.tcp = top_port_set(Protocol::kTcp, n);
  }
  if (scanned.udp) {
    out.udp = top_port_set(Protocol::kUdp, n);
  }
  return out;
}

PortSet ServiceTable::ports_named(std::string_view name, Protocol proto) const {
  std::string key = lowered(name);
  auto lo = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const ServiceEntry& e, const std::string& k) { return e.name < k; });
  std::vector<uint16_t> ports;
  for (auto it = lo; it != entries_.end() && it->name == key; ++it) {
    if (it->proto == proto) {
      ports.push_back(it->port);
    }
  }
  return PortSet::from_ports(ports);
}

std::optional<std::string_view> ServiceTable::name_of(uint16_t port, Protocol proto) const {
  auto it = by_port_.find(port_key(port, proto));
  if (it == by_port_.end()) {
    return std::nullopt;
  }
  return std::string_view(it->second.name);
}

bool ServiceTable::has_name(std::string_view name) const {
  std::string key = lowered(name);
  auto it = std::lower_bound(entries_.begin(), entries_.end(), key,
                             [](const ServiceEntry& e, const std::string& k) { return e.name < k; });
  return it != entries_.end() && it->name == key;
}

// ---------------------------------------------------------------------------
// Spec parser

namespace {

core::Result<PortSets> parse_spec(std::string_view spec, ScanProtocols scanned, const ServiceTable* services,
                                  std::string_view what) {
  auto error = [&](std::string_view token, const std::string& why) {
    return core::fail(std::string(what) + " " + quote(token) + ": " + why);
  };
  if (spec.empty()) {
    return error(spec, "empty");
  }
  if (!scanned.tcp && !scanned.udp) {
    scanned.tcp = true;
  }
  std::vector<PortRange> tcp;
  std::vector<PortRange> udp;

  enum class Target { kScanned, kTcp, kUdp };
  Target target = Target::kScanned;
  std::size_t item_no = 0;
  std::size_t pos = 0;
  while (pos <= spec.size()) {
    std::size_t comma = spec.find(',', pos);
    std::string_view item = spec.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? spec.size() + 1 : comma + 1;
    ++item_no;
    if (item.empty()) {
      return error(spec, "empty item " + std::to_string(item_no));
    }

    // Protocol prefix: T: or U: switches the target for this and following items.
    std::string_view body = item;
    if (auto colon = item.find(':'); colon != std::string_view::npos) {
      std::string_view prefix = item.substr(0, colon + 1);
      char letter = colon == 1 ? lower(item[0]) : '\0';
      if (letter == 't') {
        target = Target::kTcp;
      } else if (letter == 'u') {
        target = Target::kUdp;
      } else if (letter == 's' || letter == 'p') {
        return error(item, "protocol prefix " + quote(prefix) + " is not supported (only T: and U:)");
      } else {
        return error(item, "unknown protocol prefix " + quote(prefix));
      }
      body = item.substr(colon + 1);
      if (body.empty()) {
        return error(item, "no ports after protocol prefix");
      }
    }

    auto add = [&](PortRange r) {
      if (target == Target::kTcp || (target == Target::kScanned && scanned.tcp)) {
        tcp.push_back(r);
      }
      if (target == Target::kUdp || (target == Target::kScanned && scanned.udp)) {
        udp.push_back(r);
      }
    };

    if (is_alpha(body[0])) {  // service name
      for (char c : body) {
        if (!is_name_char(c)) {
          return error(item, "invalid character " + quote(std::string_view(&c, 1)) + " in service name");
        }
      }
      if (services == nullptr) {
        return error(item, "service names are not available here");
      }
      if (!services->has_name(body)) {
        return error(item, "unknown service name " + quote(body));
      }
      bool any = false;
      for (Protocol proto : {Protocol::kTcp, Protocol::kUdp}) {
        bool wanted = proto == Protocol::kTcp ? (target == Target::kTcp || (target == Target::kScanned && scanned.tcp))
                                              : (target == Target::kUdp || (target == Target::kScanned && scanned.udp));
        if (!wanted) {
          continue;
        }
        PortSet named = services->ports_named(body, proto);
        auto& out = proto == Protocol::kTcp ? tcp : udp;
        out.insert(out.end(), named.ranges().begin(), named.ranges().end());
        any = any || !named.empty();
      }
      if (!any) {
        return error(item, "service " + quote(body) + " has no port for the selected protocol");
      }
      continue;
    }

    // Numbers: N, N-M, -M, N-, or - .
    std::size_t p = 0;
    Number lo = parse_digits(body, p);
    bool is_range = p < body.size() && body[p] == '-';
    Number hi;
    if (is_range) {
      ++p;
      hi = parse_digits(body, p);
    }
    if (p != body.size()) {
      return error(item, "unexpected character " + quote(body.substr(p, 1)));
    }
    for (const Number* n : {&lo, &hi}) {
      if (n->present && n->value > kMaxPort) {
        return error(item, "port " + core::one_line(n->digits.substr(0, kMaxQuoted)) + " is above 65535");
      }
    }
    if (!is_range) {
      add({static_cast<uint16_t>(lo.value), static_cast<uint16_t>(lo.value)});
      continue;
    }
    uint32_t first = lo.present ? lo.value : 1;  // port 0 only when written
    uint32_t last = hi.present ? hi.value : kMaxPort;
    if (last < first) {
      return error(item, "range end below start");
    }
    add({static_cast<uint16_t>(first), static_cast<uint16_t>(last)});
  }
  return PortSets{PortSet::from_ranges(std::move(tcp)), PortSet::from_ranges(std::move(udp))};
}

}  // namespace

core::Result<PortSets> parse_port_spec(std::string_view spec, ScanProtocols scanned, const ServiceTable* services) {
  return parse_spec(spec, scanned, services, "port spec");
}

core::Result<PortSets> parse_exclude_ports(std::string_view spec, const ServiceTable* services) {
  return parse_spec(spec, ScanProtocols{true, true}, services, "exclude-ports spec");
}

}  // namespace linerate::scan
