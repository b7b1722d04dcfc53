// scan/targets.cpp — nmap target grammar into sorted, merged address ranges.
//
// Each token is expanded into ranges (never addresses), gathered unsorted, then
// normalize() sorts, merges and rebuilds the cumulative counts that nth() searches.
// An octet-range spec is a cross product: every combination of the values of the
// leading octets, times each run of the last octet that is not a full 0-255; full
// trailing octets fold into that run, so `*.*.*.*` is one range and `10.*.*.*` too.
#include "scan/targets.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <bitset>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/check.hpp"
#include "core/text.hpp"

namespace linerate::scan {

namespace {

constexpr U128 kAllOnes128 = ~U128{0};
constexpr size_t kMaxQuotedChars = 96;
constexpr size_t kMaxHostNameChars = 253;

uint64_t sat_add(uint64_t a, uint64_t b) {
  return a > std::numeric_limits<uint64_t>::max() - b ? std::numeric_limits<uint64_t>::max() : a + b;
}

// The token as it appears in messages: one line, bounded length.
std::string quoted(std::string_view spec) { return core::quoted(spec, kMaxQuotedChars); }

struct Ranges {
  std::vector<Range4> v4;
  std::vector<Range6> v6;
  [[nodiscard]] size_t size() const { return v4.size() + v6.size(); }
};

// Why a token failed: a resolver failure may be skipped (nmap reports and goes on),
// a syntax error never is.
struct SpecError {
  core::Error error;
  bool unresolved = false;
};
using SpecResult = tl::expected<void, SpecError>;

tl::unexpected<SpecError> bad(std::string_view spec, const std::string& what) {
  return tl::unexpected(SpecError{core::Error{{}, "target " + quoted(spec) + ": " + what}, false});
}

bool is_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal value of a digit string, saturating well above any valid value.
uint32_t small_number(std::string_view digits) {
  uint32_t v = 0;
  for (char c : digits) {
    v = std::min<uint32_t>(v * 10 + static_cast<uint32_t>(c - '0'), 1'000'000);
  }
  return v;
}

std::string describe_number(std::string_view digits, uint32_t v) {
  return digits.size() > 6 ? "'" + std::string(digits) + "'" : std::to_string(v);
}

uint32_t v4_mask(unsigned prefix) { return prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix); }

U128 v6_mask(unsigned prefix) { return prefix == 0 ? U128{0} : kAllOnes128 << (128 - prefix); }

Range4 cidr4(uint32_t addr, unsigned prefix) {
  uint32_t mask = v4_mask(prefix);
  return {addr & mask, (addr & mask) | ~mask};
}

Range6 cidr6(U128 addr, unsigned prefix) {
  U128 mask = v6_mask(prefix);
  return {addr & mask, (addr & mask) | ~mask};
}

U128 from_in6(const in6_addr& a) {
  U128 v = 0;
  for (uint8_t b : a.s6_addr) {
    v = (v << 8) | b;
  }
  return v;
}

// One octet field of an nmap range spec ("1-20", "*", "0,2,4", "-5", "250-") into
// the set of its values.
tl::expected<std::bitset<256>, std::string> parse_octet(std::string_view field) {
  std::bitset<256> values;
  if (field.empty()) {
    return tl::unexpected(std::string("empty octet"));
  }
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    std::string_view item =
        field.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    start = comma == std::string_view::npos ? field.size() + 1 : comma + 1;
    if (item.empty()) {
      return tl::unexpected("empty item in octet list '" + std::string(field) + "'");
    }
    uint32_t lo = 0;
    uint32_t hi = 255;
    if (item != "*") {
      size_t dash = item.find('-');
      std::string_view lo_text = item.substr(0, dash);
      std::string_view hi_text = dash == std::string_view::npos ? item : item.substr(dash + 1);
      if (dash != std::string_view::npos && hi_text.find('-') != std::string_view::npos) {
        return tl::unexpected("octet range '" + std::string(item) + "' has more than one '-'");
      }
      for (std::string_view part : {lo_text, hi_text}) {
        if (!part.empty() && !is_digits(part)) {
          return tl::unexpected("octet '" + std::string(part) + "' is not a number");
        }
        if (part.empty() && dash == std::string_view::npos) {
          return tl::unexpected(std::string("empty octet"));
        }
        if (!part.empty() && small_number(part) > 255) {
          return tl::unexpected("octet " + describe_number(part, small_number(part)) + " is above 255");
        }
      }
      lo = lo_text.empty() ? 0 : small_number(lo_text);
      hi = hi_text.empty() ? 255 : small_number(hi_text);
      if (lo > hi) {
        return tl::unexpected("octet range " + std::to_string(lo) + "-" + std::to_string(hi) + " is reversed");
      }
    }
    for (uint32_t v = lo; v <= hi; ++v) {
      values.set(v);
    }
  }
  return values;
}

// `a.b.c.d` where each field may be a range or list; `prefix` < 0 when absent.
SpecResult expand_octets(std::string_view spec, std::string_view host, int prefix, Ranges& out) {
  std::array<std::bitset<256>, 4> sets;
  size_t field_count = static_cast<size_t>(std::count(host.begin(), host.end(), '.')) + 1;
  if (field_count != 4) {
    return bad(spec, "expected 4 dot-separated octets, got " + std::to_string(field_count));
  }
  bool plain = true;
  size_t start = 0;
  for (size_t j = 0; j < 4; ++j) {
    size_t dot = host.find('.', start);
    std::string_view field = host.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    start = dot + 1;
    auto values = parse_octet(field);
    if (!values) {
      return bad(spec, values.error());
    }
    sets[j] = *values;
    plain = plain && is_digits(field);
  }

  if (prefix >= 0) {
    if (!plain) {
      return bad(spec, "a /prefix cannot be combined with octet ranges");
    }
    if (prefix > 32) {
      return bad(spec, "prefix length " + std::to_string(prefix) + " is above 32");
    }
    uint32_t addr = 0;
    for (size_t j = 0; j < 4; ++j) {
      uint32_t v = 0;
      while (!sets[j].test(v)) {
        ++v;
      }
      addr = (addr << 8) | v;
    }
    out.v4.push_back(cidr4(addr, static_cast<unsigned>(prefix)));
    return {};
  }

  // Fold full trailing octets: the last non-full octet `k` contributes runs, the
  // octets before it contribute every value (their combinations are not contiguous).
  int k = 3;
  while (k >= 0 && sets[static_cast<size_t>(k)].all()) {
    --k;
  }
  if (k < 0) {
    out.v4.push_back({0, ~uint32_t{0}});
    return {};
  }
  auto ku = static_cast<size_t>(k);
  std::array<std::vector<uint32_t>, 3> values;
  uint64_t count = 1;
  for (size_t j = 0; j < ku; ++j) {
    for (uint32_t v = 0; v < 256; ++v) {
      if (sets[j].test(v)) {
        values[j].push_back(v);
      }
    }
    count *= values[j].size();
  }
  std::vector<std::pair<uint32_t, uint32_t>> runs;
  for (uint32_t v = 0; v < 256; ++v) {
    if (sets[ku].test(v)) {
      if (!runs.empty() && runs.back().second + 1 == v) {
        runs.back().second = v;
      } else {
        runs.emplace_back(v, v);
      }
    }
  }
  count *= runs.size();
  if (count > kMaxRangesPerSpec) {
    return bad(spec, "expands to " + std::to_string(count) + " ranges, more than the limit of " +
                         std::to_string(kMaxRangesPerSpec));
  }
  out.v4.reserve(out.v4.size() + count);

  unsigned shift = 8 * (3 - static_cast<unsigned>(k));
  uint32_t low_fill = static_cast<uint32_t>((uint64_t{1} << shift) - 1);
  std::array<size_t, 3> idx{};
  while (true) {
    uint32_t base = 0;
    for (size_t j = 0; j < ku; ++j) {
      base |= values[j][idx[j]] << (8 * (3 - j));
    }
    for (auto [lo, hi] : runs) {
      out.v4.push_back({base | (lo << shift), base | (hi << shift) | low_fill});
    }
    // Odometer over the leading octets, last one fastest, so ranges come out sorted.
    int j = k - 1;
    while (j >= 0) {
      auto ju = static_cast<size_t>(j);
      if (++idx[ju] < values[ju].size()) {
        break;
      }
      idx[ju] = 0;
      --j;
    }
    if (j < 0) {
      break;
    }
  }
  return {};
}

SpecResult expand_v6(std::string_view spec, std::string_view host, int prefix, Ranges& out) {
  if (host.find('%') != std::string_view::npos) {
    return bad(spec, "IPv6 zone ids are not supported in targets");
  }
  in6_addr a{};
  if (host.size() > INET6_ADDRSTRLEN || inet_pton(AF_INET6, std::string(host).c_str(), &a) != 1) {
    return bad(spec, "not a valid IPv6 address");
  }
  if (prefix > 128) {
    return bad(spec, "prefix length " + std::to_string(prefix) + " is above 128");
  }
  out.v6.push_back(cidr6(from_in6(a), prefix < 0 ? 128U : static_cast<unsigned>(prefix)));
  return {};
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

SpecResult expand_name(std::string_view spec, std::string_view host, int prefix, const Resolver& resolver,
                       Ranges& out) {
  auto bad_char = std::find_if_not(host.begin(), host.end(), is_name_char);
  if (bad_char != host.end()) {
    return bad(spec, "character '" + core::one_line(std::string_view(&*bad_char, 1)) +
                         "' is not valid in an address, range or host name");
  }
  if (host.size() > kMaxHostNameChars) {
    return bad(spec, "host name is longer than " + std::to_string(kMaxHostNameChars) + " characters");
  }
  if (prefix > 128) {
    return bad(spec, "prefix length " + std::to_string(prefix) + " is above 128");
  }
  if (!resolver) {
    return bad(spec, "host names need a resolver");
  }
  auto addrs = resolver(host);
  if (!addrs) {
    return tl::unexpected(SpecError{
        core::Error{addrs.error().code, "target " + quoted(spec) + ": " + core::one_line(addrs.error().context)},
        true});
  }
  if (addrs->empty()) {
    return tl::unexpected(
        SpecError{core::Error{{}, "target " + quoted(spec) + ": name resolved to no addresses"}, true});
  }
  // nmap scans the first address a name resolves to (and the network around it
  // for `name/n`); the other addresses are the same host.
  auto addr = Address::from_sockaddr(addrs->front());
  if (!addr) {
    return bad(spec, addr.error().context);
  }
  if (addr->family == Family::kV4) {
    if (prefix > 32) {
      return bad(spec,
                 "prefix length " + std::to_string(prefix) + " is above 32 for IPv4 address " + addr->to_string());
    }
    out.v4.push_back(cidr4(addr->v4_value(), prefix < 0 ? 32U : static_cast<unsigned>(prefix)));
  } else {
    out.v6.push_back(cidr6(addr->value, prefix < 0 ? 128U : static_cast<unsigned>(prefix)));
  }
  return {};
}

// One nmap target token into ranges appended to `out` (unsorted).
SpecResult expand_spec(std::string_view spec, const Resolver& resolver, Ranges& out) {
  if (spec.empty()) {
    return bad(spec, "empty target");
  }
  std::string_view host = spec;
  int prefix = -1;
  size_t slash = spec.find('/');
  if (slash != std::string_view::npos) {
    host = spec.substr(0, slash);
    std::string_view prefix_text = spec.substr(slash + 1);
    if (prefix_text.empty()) {
      return bad(spec, "missing prefix length after '/'");
    }
    if (!is_digits(prefix_text)) {
      return bad(spec,
                 "prefix length '" + core::one_line(prefix_text.substr(0, kMaxQuotedChars)) + "' is not a number");
    }
    uint32_t n = small_number(prefix_text);
    if (n > 128) {
      bool octets = std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '-' || c == '*';
      });
      return bad(spec, "prefix length " + describe_number(prefix_text, n) + " is above " + (octets ? "32" : "128"));
    }
    prefix = static_cast<int>(n);
  }
  if (host.empty()) {
    return bad(spec, "missing address before '/'");
  }
  if (host.find(':') != std::string_view::npos) {
    return expand_v6(spec, host, prefix, out);
  }
  bool octet_form = std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.' || c == ',' || c == '-' || c == '*';
  });
  if (octet_form) {
    return expand_octets(spec, host, prefix, out);
  }
  return expand_name(spec, host, prefix, resolver, out);
}

template <typename R>
std::vector<R> subtract(const std::vector<R>& a, const std::vector<R>& b) {
  std::vector<R> out;
  out.reserve(a.size());
  size_t j = 0;
  for (const R& r : a) {
    auto first = r.first;
    while (j < b.size() && b[j].last < first) {
      ++j;
    }
    bool alive = true;
    for (size_t m = j; m < b.size() && b[m].first <= r.last; ++m) {
      if (b[m].first > first) {
        out.push_back({first, static_cast<decltype(first)>(b[m].first - 1)});
      }
      if (b[m].last >= r.last) {
        alive = false;
        break;
      }
      first = static_cast<decltype(first)>(b[m].last + 1);
    }
    if (alive) {
      out.push_back({first, r.last});
    }
  }
  return out;
}

template <typename R>
void sort_merge(std::vector<R>& v) {
  std::sort(v.begin(), v.end(), [](const R& x, const R& y) { return x.first < y.first; });
  size_t w = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (w > 0) {
      R& cur = v[w - 1];
      // Merge overlaps and adjacency; cur.last at the maximum swallows the rest.
      if (cur.last == std::numeric_limits<decltype(cur.last)>::max() || v[i].first <= cur.last + 1) {
        cur.last = std::max(cur.last, v[i].last);
        continue;
      }
    }
    v[w++] = v[i];
  }
  v.resize(w);
}

// Split text into tokens at any of `separators`; `#` comments to end of line when
// `comments` is set.
std::vector<std::string_view> tokenize(std::string_view text, std::string_view separators, bool comments) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (comments && c == '#') {
      size_t nl = text.find('\n', i);
      i = nl == std::string_view::npos ? text.size() : nl + 1;
      continue;
    }
    if (separators.find(c) != std::string_view::npos) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && separators.find(text[end]) == std::string_view::npos &&
           !(comments && text[end] == '#')) {
      ++end;
    }
    tokens.push_back(text.substr(i, end - i));
    i = end;
  }
  return tokens;
}

constexpr std::string_view kWhitespace(" \t\r\n\v\f", 6);
constexpr std::string_view kCommaOrWhitespace(", \t\r\n\v\f", 7);

}  // namespace

socklen_t Address::to_sockaddr(uint16_t port, sockaddr_storage& ss) const {
  std::memset(&ss, 0, sizeof ss);
  if (family == Family::kV4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    sin->sin_addr.s_addr = htonl(v4_value());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  const auto b = wire6();
  std::memcpy(sin6->sin6_addr.s6_addr, b.data(), b.size());
  return sizeof(sockaddr_in6);
}

core::Result<Address> Address::from_sockaddr(const core::SockAddr& sa) {
  if (sa.family() == AF_INET && sa.len() >= sizeof(sockaddr_in)) {
    sockaddr_in in{};
    std::memcpy(&in, sa.get(), sizeof in);
    return Address::v4(ntohl(in.sin_addr.s_addr));
  }
  if (sa.family() == AF_INET6 && sa.len() >= sizeof(sockaddr_in6)) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa.get(), sizeof in6);
    U128 v = from_in6(in6.sin6_addr);
    if ((v >> 32) == U128{0xFFFF}) {  // ::ffff:a.b.c.d
      return Address::v4(static_cast<uint32_t>(v));
    }
    return Address::v6(v);
  }
  return core::fail("resolved address has unsupported family " + std::to_string(sa.family()));
}

core::Result<Address> Address::parse(std::string_view text) {
  std::string s(text.substr(0, INET6_ADDRSTRLEN + 1));
  in_addr a4{};
  if (s.size() == text.size() && inet_pton(AF_INET, s.c_str(), &a4) == 1) {
    return Address::v4(ntohl(a4.s_addr));
  }
  in6_addr a6{};
  if (s.size() == text.size() && inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
    return Address::v6(from_in6(a6));
  }
  return core::fail("'" + core::one_line(text.substr(0, kMaxQuotedChars)) + "' is not an IP address");
}

std::string Address::to_string() const {
  if (family == Family::kV4) {
    uint32_t v = v4_value();
    return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 0xFF) + "." + std::to_string((v >> 8) & 0xFF) +
           "." + std::to_string(v & 0xFF);
  }
  in6_addr a{};
  const auto b = wire6();
  std::memcpy(a.s6_addr, b.data(), b.size());
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return buf;
}

core::Result<TargetSet> TargetSet::parse(std::span<const std::string> specs, const Resolver& resolver,
                                         const OnUnresolved& on_unresolved) {
  std::vector<std::string_view> tokens(specs.begin(), specs.end());
  return parse_tokens(tokens, resolver, on_unresolved);
}

core::Result<TargetSet> TargetSet::parse_list_text(std::string_view text, const Resolver& resolver,
                                                   const OnUnresolved& on_unresolved) {
  auto tokens = tokenize(text, kWhitespace, true);
  return parse_tokens(tokens, resolver, on_unresolved);
}

core::Result<TargetSet> TargetSet::parse_exclude_list(std::string_view list, const Resolver& resolver,
                                                      const OnUnresolved& on_unresolved) {
  auto tokens = tokenize(list, kCommaOrWhitespace, false);
  return parse_tokens(tokens, resolver, on_unresolved);
}

// Every host name among `tokens`, resolved once each and concurrently (up to
// kResolveThreads lookups at a time: names in a long -iL list cost one DNS round
// trip per batch, not one per name). The map is then the resolver of the parse.
namespace {
constexpr unsigned kResolveThreads = 16;

using ResolvedNames = std::map<std::string, core::Result<std::vector<core::SockAddr>>, std::less<>>;

ResolvedNames resolve_names(std::span<const std::string_view> tokens, const Resolver& resolver) {
  // Find the names with the parser itself: a recording resolver sees exactly the
  // host part of every token that is a name (and nothing else).
  std::vector<std::string> names;
  std::set<std::string, std::less<>> seen;
  Resolver record = [&](std::string_view host) -> core::Result<std::vector<core::SockAddr>> {
    if (seen.emplace(host).second) {
      names.emplace_back(host);
    }
    return std::vector<core::SockAddr>{};
  };
  Ranges scratch;
  for (std::string_view token : tokens) {
    (void)expand_spec(token, record, scratch);
    scratch = {};
  }
  std::vector<std::optional<core::Result<std::vector<core::SockAddr>>>> results(names.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next.fetch_add(1); i < names.size(); i = next.fetch_add(1)) {
      results[i] = resolver(names[i]);
    }
  };
  std::vector<std::thread> threads;
  size_t n_threads = std::min<size_t>(kResolveThreads, names.size());
  for (size_t t = 1; t < n_threads; ++t) {
    threads.emplace_back(work);
  }
  work();
  for (auto& t : threads) {
    t.join();
  }
  ResolvedNames out;
  for (size_t i = 0; i < names.size(); ++i) {
    out.emplace(std::move(names[i]), std::move(*results[i]));
  }
  return out;
}
}  // namespace

core::Result<TargetSet> TargetSet::parse_tokens(std::span<const std::string_view> tokens, const Resolver& resolver,
                                                const OnUnresolved& on_unresolved) {
  TargetSet set;
  Ranges pending;
  Resolver cached;
  ResolvedNames resolved;
  if (resolver) {
    resolved = resolve_names(tokens, resolver);
    cached = [&](std::string_view host) -> core::Result<std::vector<core::SockAddr>> {
      if (auto it = resolved.find(host); it != resolved.end()) {
        return it->second;
      }
      return resolver(host);
    };
  }
  for (std::string_view token : tokens) {
    auto r = expand_spec(token, cached, pending);
    if (!r) {
      if (r.error().unresolved && on_unresolved) {
        on_unresolved(r.error().error);
        continue;
      }
      return tl::unexpected(std::move(r.error().error));
    }
    // Merge now and then so pending ranges stay bounded by what the set really holds.
    if (pending.size() >= kMaxRangesPerSpec) {
      set.v4_.insert(set.v4_.end(), pending.v4.begin(), pending.v4.end());
      set.v6_.insert(set.v6_.end(), pending.v6.begin(), pending.v6.end());
      pending = {};
      set.normalize();
      if (set.v4_.size() + set.v6_.size() > kMaxRangesTotal) {
        return core::fail("targets hold more than " + std::to_string(kMaxRangesTotal) + " disjoint ranges");
      }
    }
  }
  set.v4_.insert(set.v4_.end(), pending.v4.begin(), pending.v4.end());
  set.v6_.insert(set.v6_.end(), pending.v6.begin(), pending.v6.end());
  set.normalize();
  if (set.v4_.size() + set.v6_.size() > kMaxRangesTotal) {
    return core::fail("targets hold more than " + std::to_string(kMaxRangesTotal) + " disjoint ranges");
  }
  return set;
}

core::Result<void> TargetSet::add(std::string_view spec, const Resolver& resolver) {
  Ranges pending;
  auto r = expand_spec(spec, resolver, pending);
  if (!r) {
    return tl::unexpected(std::move(r.error().error));
  }
  if (v4_.size() + v6_.size() + pending.size() > kMaxRangesTotal) {
    return core::fail("target " + quoted(spec) + ": targets would hold more than " + std::to_string(kMaxRangesTotal) +
                      " disjoint ranges");
  }
  v4_.insert(v4_.end(), pending.v4.begin(), pending.v4.end());
  v6_.insert(v6_.end(), pending.v6.begin(), pending.v6.end());
  normalize();
  return {};
}

TargetSet TargetSet::from_addresses(std::span<const Address> addrs) {
  TargetSet t;
  for (const Address& a : addrs) {
    if (a.family == Family::kV4) {
      t.v4_.push_back(Range4{a.v4_value(), a.v4_value()});
    } else {
      t.v6_.push_back(Range6{a.value, a.value});
    }
  }
  t.normalize();
  return t;
}

void TargetSet::add_range(Range4 r) {
  if (r.first <= r.last) {
    v4_.push_back(r);
    normalize();
  }
}

void TargetSet::add_range(Range6 r) {
  if (r.first <= r.last) {
    v6_.push_back(r);
    normalize();
  }
}

void TargetSet::exclude(const TargetSet& excluded) {
  v4_ = subtract(v4_, excluded.v4_);
  v6_ = subtract(v6_, excluded.v6_);
  normalize();
}

void TargetSet::normalize() {
  sort_merge(v4_);
  sort_merge(v6_);
  cum4_.resize(v4_.size());
  uint64_t total = 0;
  for (size_t k = 0; k < v4_.size(); ++k) {
    total += uint64_t{v4_[k].last} - v4_[k].first + 1;
    cum4_[k] = total;
  }
  cum6_.resize(v6_.size());
  total = 0;
  for (size_t k = 0; k < v6_.size(); ++k) {
    U128 span = v6_[k].last - v6_[k].first;  // count - 1; ::/0 would overflow count
    uint64_t count = span >= std::numeric_limits<uint64_t>::max() ? std::numeric_limits<uint64_t>::max()
                                                                  : static_cast<uint64_t>(span) + 1;
    total = sat_add(total, count);
    cum6_[k] = total;
  }
}

uint64_t TargetSet::size() const { return sat_add(size_v4(), size_v6()); }

Address TargetSet::nth(uint64_t i) const {
  LR_ASSERT(i < size());
  uint64_t n4 = size_v4();
  if (i < n4) {
    auto it = std::upper_bound(cum4_.begin(), cum4_.end(), i);
    auto k = static_cast<size_t>(it - cum4_.begin());
    uint64_t before = k == 0 ? 0 : cum4_[k - 1];
    return Address::v4(v4_[k].first + static_cast<uint32_t>(i - before));
  }
  uint64_t j = i - n4;
  auto it = std::upper_bound(cum6_.begin(), cum6_.end(), j);
  if (it == cum6_.end()) {
    // Precondition broken (release build): answer the last address rather than read
    // out of bounds.
    if (!v6_.empty()) {
      return Address::v6(v6_.back().last);
    }
    return v4_.empty() ? Address{} : Address::v4(v4_.back().last);
  }
  auto k = static_cast<size_t>(it - cum6_.begin());
  uint64_t before = k == 0 ? 0 : cum6_[k - 1];
  return Address::v6(v6_[k].first + (j - before));
}

bool TargetSet::contains(const Address& a) const {
  if (a.family == Family::kV4) {
    uint32_t v = a.v4_value();
    auto it = std::upper_bound(v4_.begin(), v4_.end(), v, [](uint32_t x, const Range4& r) { return x < r.first; });
    return it != v4_.begin() && v <= std::prev(it)->last;
  }
  auto it = std::upper_bound(v6_.begin(), v6_.end(), a.value, [](U128 x, const Range6& r) { return x < r.first; });
  return it != v6_.begin() && a.value <= std::prev(it)->last;
}

std::optional<uint64_t> TargetSet::index_of(const Address& a) const {
  if (a.family == Family::kV4) {
    uint32_t v = a.v4_value();
    auto it = std::upper_bound(v4_.begin(), v4_.end(), v, [](uint32_t x, const Range4& r) { return x < r.first; });
    if (it == v4_.begin() || v > std::prev(it)->last) {
      return std::nullopt;
    }
    auto k = static_cast<size_t>(std::prev(it) - v4_.begin());
    return (k == 0 ? 0 : cum4_[k - 1]) + (v - v4_[k].first);
  }
  auto it = std::upper_bound(v6_.begin(), v6_.end(), a.value, [](U128 x, const Range6& r) { return x < r.first; });
  if (it == v6_.begin() || a.value > std::prev(it)->last) {
    return std::nullopt;
  }
  auto k = static_cast<size_t>(std::prev(it) - v6_.begin());
  U128 off = a.value - v6_[k].first;
  uint64_t before = size_v4() + (k == 0 ? 0 : cum6_[k - 1]);
  if (off >= std::numeric_limits<uint64_t>::max() - before) {
    return std::nullopt;  // beyond the 2^64 addresses a scan can index
  }
  return before + static_cast<uint64_t>(off);
}

}  // namespace linerate::scan
