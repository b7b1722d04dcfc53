// scan/udp_payloads.cpp — our UDP probe payloads and the nmap-payloads parser.
//
// The builtin payloads below were written by the linerate authors from the
// protocol specifications cited next to each one; none is taken from nmap's data.
// Each is the smallest ordinary request its service answers, and none changes
// state on the server. Multi-byte fields are big-endian (network order).
//
// The parser is a hand-written lexer (words, quoted strings, comments) under a
// small state machine. Each entry's port ranges become ranked claims, resolved
// first-wins by one sweep over the range end points, so a file of wide entries
// (`1-65535`) costs the number of ranges, never the number of ports.
#include "scan/udp_payloads.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/check.hpp"
#include "core/file.hpp"
#include "core/text.hpp"

namespace linerate::scan {

namespace {

constexpr std::size_t kMaxQuoted = 40;  // longer tokens are cut in messages

std::string quote(std::string_view token) { return core::quoted(token, kMaxQuoted); }

std::vector<std::byte> text_bytes(std::string_view s) {
  std::vector<std::byte> out(s.size());
  std::transform(s.begin(), s.end(), out.begin(), [](char c) { return static_cast<std::byte>(c); });
  return out;
}

void append(std::vector<std::byte>& out, std::initializer_list<uint8_t> bytes) {
  for (uint8_t b : bytes) {
    out.push_back(std::byte{b});
  }
}

void append16(std::vector<std::byte>& out, uint16_t v) {
  append(out, {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
}

// A DNS name in wire form (RFC 1035 §3.1): length-prefixed labels, then 0.
void append_name(std::vector<std::byte>& out, std::initializer_list<std::string_view> labels) {
  for (std::string_view label : labels) {
    out.push_back(static_cast<std::byte>(label.size()));
    for (char c : label) {
      out.push_back(static_cast<std::byte>(c));
    }
  }
  out.push_back(std::byte{0});
}

// ---- builtin payloads ----------------------------------------------------------

// DNS (RFC 1035 §4.1): a standard query for the root zone's NS records with
// recursion desired. A resolver answers it; an authoritative-only server
// answers with a referral or REFUSED; either reply proves the port open.
std::vector<std::byte> dns_root_ns_query() {
  std::vector<std::byte> m;
  append16(m, 0x4c52);  // ID
  append16(m, 0x0100);  // QR=0 query, OPCODE=0 QUERY, RD=1
  append16(m, 1);       // QDCOUNT
  append16(m, 0);       // ANCOUNT
  append16(m, 0);       // NSCOUNT
  append16(m, 0);       // ARCOUNT
  append_name(m, {});   // QNAME: the root, a single zero octet
  append16(m, 2);       // QTYPE NS
  append16(m, 1);       // QCLASS IN
  return m;
}

// mDNS (RFC 6762; DNS-SD service enumeration RFC 6763 §9): a PTR query for
// _services._dns-sd._udp.local. Sent from a port other than 5353 it is a
// "legacy unicast" query (RFC 6762 §6.7), answered by unicast to our port.
std::vector<std::byte> mdns_services_query() {
  std::vector<std::byte> m;
  append16(m, 0);  // ID (RFC 6762 §18.1: zero in multicast-style queries)
  append16(m, 0);  // flags: standard query
  append16(m, 1);  // QDCOUNT
  append16(m, 0);
  append16(m, 0);
  append16(m, 0);
  append_name(m, {"_services", "_dns-sd", "_udp", "local"});
  append16(m, 12);  // QTYPE PTR
  append16(m, 1);   // QCLASS IN (unicast-response bit clear)
  return m;
}

// NTP (RFC 5905 §7.3): a 48-byte client-mode packet. First byte LI=0, VN=4,
// Mode=3 (0x23); poll 2^6 s; precision 2^-20 s. The transmit timestamp (bytes
// 40-47) is a fixed non-zero value: a server copies it into its reply's origin
// timestamp, and some servers drop requests whose transmit timestamp is zero.
std::vector<std::byte> ntp_client_request() {
  std::vector<std::byte> m(48);
  m[0] = std::byte{0x23};  // LI 0, VN 4, Mode 3 (client)
  m[1] = std::byte{0};     // stratum: unspecified
  m[2] = std::byte{6};     // poll
  m[3] = std::byte{0xec};  // precision -20
  const std::array<uint8_t, 8> xmt = {0xe8, 0xc0, 0x00, 0x00, 0x4c, 0x52, 0x53, 0x43};
  std::transform(xmt.begin(), xmt.end(), m.begin() + 40, [](uint8_t b) { return std::byte{b}; });
  return m;
}

// NetBIOS name service (RFC 1002 §4.2.17): a NODE STATUS REQUEST for the
// wildcard name "*" (RFC 1002 §4.2.18: answered with the node's name table).
// The name is "*" padded with NULs to 16 bytes in first-level encoding (RFC 1001
// §14.1: each half-byte becomes 'A' + its value), a 32-byte label.
std::vector<std::byte> netbios_nbstat_query() {
  std::vector<std::byte> m;
  append16(m, 0x4c52);  // NAME_TRN_ID
  append16(m, 0x0000);  // OPCODE query, NM_FLAGS 0 (unicast), RCODE 0
  append16(m, 1);       // QDCOUNT
  append16(m, 0);
  append16(m, 0);
  append16(m, 0);
  std::array<uint8_t, 16> name{};
  name[0] = '*';
  m.push_back(std::byte{32});
  for (uint8_t c : name) {
    m.push_back(static_cast<std::byte>('A' + (c >> 4)));
    m.push_back(static_cast<std::byte>('A' + (c & 0x0f)));
  }
  m.push_back(std::byte{0});  // end of name (no scope)
  append16(m, 0x0021);        // QUESTION_TYPE NBSTAT
  append16(m, 0x0001);        // QUESTION_CLASS IN
  return m;
}

// SNMP (RFC 1901 v2c message, RFC 3416 §3 GetRequest-PDU, BER per X.690): get
// sysDescr.0 (1.3.6.1.2.1.1.1.0, RFC 3418) with community "public". Encoded by
// hand; every length is short-form (< 128). The unit test walks the TLVs.
std::vector<std::byte> snmp_v2c_get_sysdescr() {
  std::vector<std::byte> m;
  append(m, {0x30, 0x29});                                // Message ::= SEQUENCE, 41 bytes
  append(m, {0x02, 0x01, 0x01});                          //   version INTEGER 1 (v2c)
  append(m, {0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c'});  //   community OCTET STRING
  append(m, {0xa0, 0x1c});                                //   GetRequest-PDU [0], 28 bytes
  append(m, {0x02, 0x04, 0x4c, 0x52, 0x00, 0x01});        //     request-id INTEGER
  append(m, {0x02, 0x01, 0x00});                          //     error-status 0
  append(m, {0x02, 0x01, 0x00});                          //     error-index 0
  append(m, {0x30, 0x0e});                                //     VarBindList SEQUENCE, 14 bytes
  append(m, {0x30, 0x0c});                                //       VarBind SEQUENCE, 12 bytes
  // OID: first two arcs as 40 * 1 + 3 = 0x2b, then 6 1 2 1 1 1 0.
  append(m, {0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00});
  append(m, {0x05, 0x00});  //         value: NULL (unSpecified)
  return m;
}

// SSDP (UPnP Device Architecture 1.1 §1.3.2): a discovery M-SEARCH for all
// devices and services. MX 1 keeps the responder's random delay short.
std::vector<std::byte> ssdp_msearch() {
  return text_bytes(
      "M-SEARCH * HTTP/1.1\r\n"
      "HOST: 239.255.255.250:1900\r\n"
      "MAN: \"ssdp:discover\"\r\n"
      "MX: 1\r\n"
      "ST: ssdp:all\r\n"
      "\r\n");
}

// Echo (RFC 862): any bytes come back; a short line.
std::vector<std::byte> echo_line() { return text_bytes("linerate\r\n"); }

// ---- nmap-payloads lexer --------------------------------------------------------

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

struct Token {
  enum class Kind : uint8_t { kEnd, kWord, kString };
  Kind kind = Kind::kEnd;
  std::size_t line = 0;
  std::string_view word;  // kWord
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  /// The next word or string. A string's decoded bytes are appended to `out`;
  /// when that would pass kMaxUdpPayload, or on a malformed string, `error` is
  /// set and kEnd returned.
  Token next(std::vector<std::byte>& out, std::string& error) {
    skip_blank();
    Token t;
    t.line = line_;
    if (pos_ >= text_.size()) {
      return t;
    }
    if (text_[pos_] == '"') {
      ++pos_;
      if (!read_string(out, error)) {
        return Token{Token::Kind::kEnd, line_, {}};
      }
      t.kind = Token::Kind::kString;
      return t;
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != '"' && text_[pos_] != '#') {
      ++pos_;
    }
    t.kind = Token::Kind::kWord;
    t.word = text_.substr(start, pos_ - start);
    return t;
  }

  /// The next token without consuming it, when it is a word on `line`.
  std::optional<std::string_view> word_on_line(std::size_t line) {
    const std::size_t save_pos = pos_;
    const std::size_t save_line = line_;
    skip_blank();
    std::optional<std::string_view> word;
    if (line_ == line && pos_ < text_.size() && text_[pos_] != '"') {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != '"' && text_[pos_] != '#') {
        ++pos_;
      }
      word = text_.substr(start, pos_ - start);
      return word;
    }
    pos_ = save_pos;
    line_ = save_line;
    return word;
  }

  /// Skips the rest of the current line (a keyword's data we do not know).
  void skip_line() {
    while (pos_ < text_.size() && text_[pos_] != '\n') {
      ++pos_;
    }
  }

  [[nodiscard]] std::size_t line() const { return line_; }

 private:
  // Whitespace (counting lines) and `#` comments.
  void skip_blank() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '\n') {
        ++line_;
        ++pos_;
      } else if (is_space(c)) {
        ++pos_;
      } else if (c == '#') {
        skip_line();
      } else {
        break;
      }
    }
  }

  // After the opening quote: decodes up to the closing one. A string may not
  // span lines (nmap splits long payloads into several strings instead).
  bool read_string(std::vector<std::byte>& out, std::string& error) {
    auto put = [&](unsigned v) {
      if (out.size() >= kMaxUdpPayload) {
        error = "payload longer than " + std::to_string(kMaxUdpPayload) + " bytes";
        return false;
      }
      out.push_back(static_cast<std::byte>(v));
      return true;
    };
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        error = "unterminated string";
        return false;
      }
      const char c = text_[pos_++];
      if (c == '"') {
        return true;
      }
      if (c != '\\') {
        if (!put(static_cast<unsigned char>(c))) {
          return false;
        }
        continue;
      }
      if (pos_ >= text_.size() || text_[pos_] == '\n') {
        error = "unterminated string";
        return false;
      }
      const char e = text_[pos_++];
      unsigned v = 0;
      switch (e) {
        case '\\':
        case '"':
        case '\'':
        case '?':
          v = static_cast<unsigned char>(e);
          break;
        case 'a':
          v = 0x07;
          break;
        case 'b':
          v = 0x08;
          break;
        case 'f':
          v = 0x0c;
          break;
        case 'n':
          v = 0x0a;
          break;
        case 'r':
          v = 0x0d;
          break;
        case 't':
          v = 0x09;
          break;
        case 'v':
          v = 0x0b;
          break;
        case 'x': {
          const int hi = pos_ < text_.size() ? hex_value(text_[pos_]) : -1;
          const int lo = pos_ + 1 < text_.size() ? hex_value(text_[pos_ + 1]) : -1;
          if (hi < 0 || lo < 0) {
            error = "\\x needs two hex digits";
            return false;
          }
          v = static_cast<unsigned>(hi * 16 + lo);
          pos_ += 2;
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            // C octal escape: up to three digits in all.
            v = static_cast<unsigned>(e - '0');
            for (int i = 0; i < 2 && pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '7'; ++i) {
              v = v * 8 + static_cast<unsigned>(text_[pos_++] - '0');
            }
            if (v > 0xff) {
              error = "octal escape above \\377";
              return false;
            }
            break;
          }
          error = "unknown escape " + quote(std::string{'\\', e});
          return false;
      }
      if (!put(v)) {
        return false;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// A port number of 1-5 digits, 0..65535.
std::optional<uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) {
    return std::nullopt;
  }
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(v);
}

// `53,69,32768-65535` -> ranges, or a message saying what is wrong.
bool parse_port_list(std::string_view list, std::vector<PortRange>& out, std::string& error) {
  std::size_t pos = 0;
  while (true) {
    const std::size_t comma = list.find(',', pos);
    const std::string_view item = list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos);
    const std::size_t dash = item.find('-');
    const auto first = parse_port(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_port(item.substr(dash + 1));
    if (!first || !last) {
      error = "bad port list " + quote(list) + " (item " + quote(item) + ")";
      return false;
    }
    if (*last < *first) {
      error = "bad port list " + quote(list) + " (range end below start in " + quote(item) + ")";
      return false;
    }
    out.push_back(PortRange{*first, *last});
    if (comma == std::string_view::npos) {
      return true;
    }
    pos = comma + 1;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

// ---- UdpPayloads -----------------------------------------------------------------

UdpPayloads::UdpPayloads() : payloads_(1) {}

UdpPayloads UdpPayloads::from_claims(std::vector<UdpPayload> payloads, std::vector<Claim> claims) {
  // Sweep the elementary intervals between consecutive claim boundaries; in
  // each, the live claim of lowest rank wins. Claims enter the heap at their
  // first port and leave it lazily once the sweep has passed their last.
  std::sort(claims.begin(), claims.end(), [](const Claim& x, const Claim& y) { return x.first < y.first; });
  std::vector<uint32_t> bounds;
  bounds.reserve(claims.size() * 2);
  for (const Claim& c : claims) {
    bounds.push_back(c.first);
    bounds.push_back(c.last + 1);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  const auto worse = [](const Claim& x, const Claim& y) { return x.rank > y.rank; };  // min-heap on rank
  std::priority_queue<Claim, std::vector<Claim>, decltype(worse)> live(worse);
  UdpPayloads out;
  std::vector<uint32_t> remap(payloads.size(), 0);  // payloads index -> out.payloads_ index
  std::size_t next = 0;
  for (std::size_t k = 0; k + 1 < bounds.size(); ++k) {
    const uint32_t lo = bounds[k];
    const uint32_t hi = bounds[k + 1] - 1;  // [lo, hi] has one winner throughout
    while (next < claims.size() && claims[next].first <= lo) {
      live.push(claims[next++]);
    }
    while (!live.empty() && live.top().last < lo) {
      live.pop();
    }
    if (live.empty()) {
      continue;
    }
    const uint32_t src = live.top().payload;
    if (remap[src] == 0) {
      remap[src] = static_cast<uint32_t>(out.payloads_.size());
      out.payloads_.push_back(std::move(payloads[src]));
    }
    const uint32_t idx = remap[src];
    if (!out.spans_.empty() && out.spans_.back().payload == idx && out.spans_.back().last + 1U == lo) {
      out.spans_.back().last = static_cast<uint16_t>(hi);
    } else {
      out.spans_.push_back(Span{static_cast<uint16_t>(lo), static_cast<uint16_t>(hi), idx});
    }
  }
  return out;
}

const UdpPayloads::Span* UdpPayloads::find(uint16_t port) const noexcept {
  // The last span starting at or below `port`, if it reaches it.
  auto it = std::upper_bound(spans_.begin(), spans_.end(), port, [](uint16_t p, const Span& s) { return p < s.first; });
  if (it == spans_.begin()) {
    return nullptr;
  }
  --it;
  return port <= it->last ? &*it : nullptr;
}

const UdpPayload& UdpPayloads::for_port(uint16_t port) const noexcept {
  const Span* s = find(port);
  return payloads_[s != nullptr ? s->payload : 0];
}

bool UdpPayloads::has_specific(uint16_t port) const noexcept { return find(port) != nullptr; }

PortSet UdpPayloads::specific_ports() const {
  std::vector<PortRange> ranges;
  ranges.reserve(spans_.size());
  for (const Span& s : spans_) {
    ranges.push_back(PortRange{s.first, s.last});
  }
  return PortSet::from_ranges(std::move(ranges));
}

const UdpPayloads& UdpPayloads::builtin() {
  static const UdpPayloads table = [] {
    std::vector<UdpPayload> payloads(1);
    std::vector<Claim> claims;
    auto add = [&](uint16_t port, const std::vector<std::byte>& bytes) {
      auto payload = UdpPayload::make(bytes);
      LR_CHECK(payload.has_value());
      claims.push_back(Claim{port, port, 0, static_cast<uint32_t>(payloads.size())});
      payloads.push_back(std::move(*payload));
    };
    add(7, echo_line());
    add(53, dns_root_ns_query());
    add(123, ntp_client_request());
    add(137, netbios_nbstat_query());
    add(161, snmp_v2c_get_sysdescr());
    add(1900, ssdp_msearch());
    add(5353, mdns_services_query());
    return from_claims(std::move(payloads), std::move(claims));
  }();
  return table;
}

UdpPayloads UdpPayloads::merged_with(const UdpPayloads& fallback) const {
  // Our spans rank 0, the fallback's rank 1: ours win wherever both have one.
  std::vector<UdpPayload> payloads(1);
  std::vector<Claim> claims;
  claims.reserve(spans_.size() + fallback.spans_.size());
  for (const UdpPayloads* t : {this, &fallback}) {
    const auto base = static_cast<uint32_t>(payloads.size() - 1);  // t's index 1 lands at base + 1
    payloads.insert(payloads.end(), t->payloads_.begin() + 1, t->payloads_.end());
    for (const Span& s : t->spans_) {
      claims.push_back(Claim{s.first, s.last, t == this ? 0U : 1U, base + s.payload});
    }
  }
  return from_claims(std::move(payloads), std::move(claims));
}

core::Result<UdpPayloads> UdpPayloads::load(const std::string& path) {
  auto text = core::read_file_capped(path, kMaxFileBytes);
  if (!text) {
    return tl::unexpected(text.error());
  }
  auto table = parse_nmap_payloads(*text);
  if (!table) {
    return core::fail(path + ": " + table.error().message());
  }
  return table;
}

const UdpPayloads& UdpPayloads::load_default() {
  static const UdpPayloads table = [] {
    auto nmap = load(std::string(kNmapPayloadsPath));
    return nmap ? builtin().merged_with(*nmap) : builtin();
  }();
  return table;
}

// ---- parse_nmap_payloads ---------------------------------------------------------

core::Result<UdpPayloads> parse_nmap_payloads(std::string_view text) {
  if (text.size() > UdpPayloads::kMaxFileBytes) {
    return core::fail("nmap-payloads: text larger than 1 MiB");
  }
  std::vector<UdpPayload> payloads(1);  // [0]: the empty generic payload
  std::vector<UdpPayloads::Claim> claims;
  Lexer lex(text);

  // An entry: `udp PORTS "..." ... [keywords]`. The state says what may come next.
  enum class State : uint8_t {
    kTop,       // before the first entry: only `udp`
    kPorts,     // after `udp`: the port list
    kStrings,   // after the port list: strings, then `udp` or keywords
    kKeywords,  // after a keyword: `udp` or more keywords, no strings
  };
  State state = State::kTop;
  std::vector<PortRange> ranges;
  std::vector<std::byte> bytes;
  std::size_t strings = 0;
  std::size_t entries = 0;
  std::size_t total_ranges = 0;
  std::size_t entry_line = 0;
  std::string error;

  auto fail_at = [](std::size_t line, const std::string& what) -> core::Result<UdpPayloads> {
    return core::fail("nmap-payloads line " + std::to_string(line) + ": " + what);
  };
  // Closes the entry being read: one stored payload, one claim per range,
  // ranked by entry so the first entry naming a port wins it.
  auto finish_entry = [&]() {
    // Within kMaxUdpPayload by construction (the lexer stops at the limit).
    auto payload = UdpPayload::make(bytes);
    if (payload) {
      const auto idx = static_cast<uint32_t>(payloads.size());
      payloads.push_back(std::move(*payload));
      for (const PortRange& r : ranges) {
        claims.push_back(UdpPayloads::Claim{r.first, r.last, static_cast<uint32_t>(entries), idx});
      }
    }
    ranges.clear();
    bytes.clear();
    strings = 0;
  };

  while (true) {
    const Token t = lex.next(bytes, error);
    if (!error.empty()) {
      return fail_at(lex.line(), error);
    }
    if (t.kind == Token::Kind::kEnd) {
      break;
    }
    if (t.kind == Token::Kind::kString) {
      if (state == State::kStrings) {
        ++strings;
        continue;
      }
      return fail_at(t.line, state == State::kPorts      ? "expected a port list, got a string"
                             : state == State::kKeywords ? "payload string after a keyword"
                                                         : "payload string outside an entry (expected 'udp')");
    }
    // A word.
    if (state == State::kPorts) {
      if (!parse_port_list(t.word, ranges, error)) {
        return fail_at(t.line, error);
      }
      total_ranges += ranges.size();
      if (total_ranges > UdpPayloads::kMaxRanges) {
        return fail_at(t.line, "more than " + std::to_string(UdpPayloads::kMaxRanges) + " port ranges in all");
      }
      state = State::kStrings;
      continue;
    }
    if (state == State::kStrings && strings == 0) {
      return fail_at(t.line, "expected a quoted payload string after the ports of the entry on line " +
                                 std::to_string(entry_line) + ", got " + quote(t.word));
    }
    if (iequals(t.word, "udp")) {
      if (state != State::kTop) {
        finish_entry();
      }
      if (++entries > UdpPayloads::kMaxEntries) {
        return fail_at(t.line, "more than " + std::to_string(UdpPayloads::kMaxEntries) + " entries");
      }
      entry_line = t.line;
      state = State::kPorts;
      continue;
    }
    if (state == State::kTop) {
      return fail_at(t.line, "expected 'udp', got " + quote(t.word));
    }
    // A keyword after an entry's strings.
    state = State::kKeywords;
    if (iequals(t.word, "source")) {
      const auto port = lex.word_on_line(t.line);
      if (!port || !parse_port(*port)) {
        return fail_at(t.line, "'source' needs a port number on the same line");
      }
      continue;
    }
    lex.skip_line();  // an unknown keyword: its data is on its line (nmap's rule)
  }

  if (state == State::kPorts) {
    return fail_at(lex.line(), "entry on line " + std::to_string(entry_line) + " has no port list");
  }
  if (state == State::kStrings && strings == 0) {
    return fail_at(lex.line(), "entry on line " + std::to_string(entry_line) + " has no payload string");
  }
  if (state != State::kTop) {
    finish_entry();
  }
  return UdpPayloads::from_claims(std::move(payloads), std::move(claims));
}

}  // namespace linerate::scan
