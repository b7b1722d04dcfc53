// tests/unit/scan/udp_payloads_test.cpp — our builtin UDP payloads, the
// nmap-payloads parser and the merge rule.
//
// The builtin payloads are checked for well-formedness with small decoders
// written here from the RFCs (DNS header and question, NTP first byte, BER
// TLV nesting for SNMP, NetBIOS first-level name encoding), not by comparing
// against the bytes in udp_payloads.cpp.
#include "scan/udp_payloads.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "scan/udp_probe.hpp"

namespace {

using linerate::scan::kMaxUdpPayload;
using linerate::scan::parse_nmap_payloads;
using linerate::scan::PortSet;
using linerate::scan::UdpPayload;
using linerate::scan::UdpPayloads;

using Bytes = std::span<const std::byte>;

unsigned u8(Bytes b, std::size_t off) { return static_cast<unsigned>(b[off]); }
unsigned be16(Bytes b, std::size_t off) { return (u8(b, off) << 8) | u8(b, off + 1); }

std::string as_text(Bytes b) {
  std::string s;
  for (std::byte x : b) {
    s += static_cast<char>(x);
  }
  return s;
}

std::vector<std::byte> bytes(std::string_view s) {
  std::vector<std::byte> out;
  for (char c : s) {
    out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

// Reads a DNS name (RFC 1035 §3.1, no compression in a query) at `off`; returns
// its dotted form and moves `off` past it, or nullopt if malformed.
std::optional<std::string> dns_name(Bytes b, std::size_t& off) {
  std::string name;
  while (off < b.size()) {
    const std::size_t len = u8(b, off++);
    if (len == 0) {
      return name;
    }
    if (len > 63 || off + len > b.size()) {
      return std::nullopt;
    }
    if (!name.empty()) {
      name += '.';
    }
    name += as_text(b.subspan(off, len));
    off += len;
  }
  return std::nullopt;
}

struct DnsQuestion {
  std::string name;
  unsigned qtype = 0;
  unsigned qclass = 0;
};

// A query with exactly one question and nothing after it.
std::optional<DnsQuestion> dns_single_question(Bytes b) {
  if (b.size() < 12 || be16(b, 4) != 1 || be16(b, 6) != 0 || be16(b, 8) != 0 || be16(b, 10) != 0) {
    return std::nullopt;
  }
  if ((be16(b, 2) & 0x8000) != 0) {  // QR must say "query"
    return std::nullopt;
  }
  std::size_t off = 12;
  auto name = dns_name(b, off);
  if (!name || off + 4 != b.size()) {
    return std::nullopt;
  }
  return DnsQuestion{*name, be16(b, off), be16(b, off + 2)};
}

// BER (X.690): walks definite short/long-form TLVs in b[off, end), recursing
// into constructed ones; every child must end exactly at its parent's end.
bool ber_well_formed(Bytes b, std::size_t off, std::size_t end, int depth = 0) {
  if (depth > 10) {
    return false;
  }
  while (off < end) {
    if (end - off < 2) {
      return false;
    }
    const unsigned tag = u8(b, off);
    std::size_t len = u8(b, off + 1);
    off += 2;
    if (len >= 0x80) {
      const std::size_t n = len & 0x7f;
      if (n == 0 || n > 2 || end - off < n) {
        return false;
      }
      len = 0;
      for (std::size_t i = 0; i < n; ++i) {
        len = (len << 8) | u8(b, off++);
      }
    }
    if (len > end - off) {
      return false;
    }
    if ((tag & 0x20) != 0 && !ber_well_formed(b, off, off + len, depth + 1)) {
      return false;
    }
    off += len;
  }
  return off == end;
}

// ---- builtin ------------------------------------------------------------------------

TEST(UdpPayloadsBuiltin, CoversTheDocumentedPortsOnly) {
  const UdpPayloads& t = UdpPayloads::builtin();
  const std::vector<uint16_t> want = {7, 53, 123, 137, 161, 1900, 5353};
  EXPECT_EQ(t.specific_ports(), PortSet::from_ports(want));
  EXPECT_EQ(t.range_count(), want.size());
  EXPECT_EQ(t.payload_count(), want.size());
  for (uint16_t p : want) {
    EXPECT_TRUE(t.has_specific(p)) << p;
    EXPECT_FALSE(t.for_port(p).empty()) << p;
    EXPECT_LE(t.for_port(p).size(), kMaxUdpPayload) << p;
  }
  EXPECT_FALSE(t.has_specific(0));
  EXPECT_FALSE(t.has_specific(54));
  EXPECT_FALSE(t.has_specific(65535));
  EXPECT_TRUE(t.for_port(9999).empty());
}

TEST(UdpPayloadsBuiltin, SumsMatchBytes) {
  const UdpPayloads& t = UdpPayloads::builtin();
  for (uint16_t p : std::vector<uint16_t>{7, 53, 123, 137, 161, 1900, 5353}) {
    const UdpPayload& pl = t.for_port(p);
    auto again = UdpPayload::make(pl.bytes());
    ASSERT_TRUE(again.has_value());
    // Independent sum: 64-bit, folded at the end.
    uint64_t s = 0;
    for (std::size_t i = 0; i < pl.size(); i += 2) {
      s += (u8(pl.bytes(), i) << 8) | (i + 1 < pl.size() ? u8(pl.bytes(), i + 1) : 0U);
    }
    while ((s >> 16) != 0) {
      s = (s & 0xffff) + (s >> 16);
    }
    EXPECT_EQ(pl.sum(), s) << p;
  }
}

TEST(UdpPayloadsBuiltin, DnsIsARootNsQuery) {
  const Bytes b = UdpPayloads::builtin().for_port(53).bytes();
  const auto q = dns_single_question(b);
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->name, "");
  EXPECT_EQ(q->qtype, 2U);                  // NS
  EXPECT_EQ(q->qclass, 1U);                 // IN
  EXPECT_EQ((be16(b, 2) >> 11) & 0xf, 0U);  // OPCODE QUERY
}

TEST(UdpPayloadsBuiltin, MdnsIsAServiceEnumerationQuery) {
  const auto q = dns_single_question(UdpPayloads::builtin().for_port(5353).bytes());
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->name, "_services._dns-sd._udp.local");
  EXPECT_EQ(q->qtype, 12U);  // PTR
  EXPECT_EQ(q->qclass & 0x7fff, 1U);
}

TEST(UdpPayloadsBuiltin, NtpIsAVersion4ClientPacket) {
  const Bytes b = UdpPayloads::builtin().for_port(123).bytes();
  ASSERT_EQ(b.size(), 48U);
  EXPECT_EQ(u8(b, 0), 0x23U);          // LI 0, VN 4, mode 3
  EXPECT_EQ(u8(b, 0) & 0x7, 3U);       // client
  EXPECT_EQ((u8(b, 0) >> 3) & 7, 4U);  // version 4
  bool xmt_nonzero = false;
  for (std::size_t i = 40; i < 48; ++i) {
    xmt_nonzero = xmt_nonzero || u8(b, i) != 0;
  }
  EXPECT_TRUE(xmt_nonzero);
}

TEST(UdpPayloadsBuiltin, SnmpIsAWellFormedV2cGetOfSysDescr) {
  const Bytes b = UdpPayloads::builtin().for_port(161).bytes();
  ASSERT_TRUE(ber_well_formed(b, 0, b.size()));
  // Message SEQUENCE spanning everything.
  ASSERT_EQ(u8(b, 0), 0x30U);
  EXPECT_EQ(u8(b, 1) + 2U, b.size());
  // version 1 (v2c), community "public".
  EXPECT_EQ(be16(b, 2), 0x0201U);
  EXPECT_EQ(u8(b, 4), 1U);
  EXPECT_EQ(be16(b, 5), 0x0406U);
  EXPECT_EQ(as_text(b.subspan(7, 6)), "public");
  // GetRequest-PDU [0] constructed.
  EXPECT_EQ(u8(b, 13), 0xa0U);
  // The OID 1.3.6.1.2.1.1.1.0 followed by NULL ends the message.
  const std::vector<unsigned> tail = {0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0, 0x05, 0x00};
  ASSERT_GE(b.size(), tail.size());
  for (std::size_t i = 0; i < tail.size(); ++i) {
    EXPECT_EQ(u8(b, b.size() - tail.size() + i), tail[i]) << i;
  }
}

TEST(UdpPayloadsBuiltin, NetbiosIsAWildcardNodeStatusRequest) {
  const Bytes b = UdpPayloads::builtin().for_port(137).bytes();
  ASSERT_EQ(b.size(), 12U + 34U + 4U);
  EXPECT_EQ(be16(b, 4), 1U);  // QDCOUNT
  ASSERT_EQ(u8(b, 12), 32U);
  // First-level decoding (RFC 1001 §14.1): pairs of 'A'+nibble.
  std::string name;
  for (std::size_t i = 0; i < 16; ++i) {
    const unsigned hi = u8(b, 13 + 2 * i) - 'A';
    const unsigned lo = u8(b, 14 + 2 * i) - 'A';
    ASSERT_LT(hi, 16U);
    ASSERT_LT(lo, 16U);
    name += static_cast<char>((hi << 4) | lo);
  }
  EXPECT_EQ(name, std::string("*") + std::string(15, '\0'));
  EXPECT_EQ(u8(b, 45), 0U);
  EXPECT_EQ(be16(b, 46), 0x21U);  // NBSTAT
  EXPECT_EQ(be16(b, 48), 1U);     // IN
}

TEST(UdpPayloadsBuiltin, SsdpIsAnMSearch) {
  const std::string s = as_text(UdpPayloads::builtin().for_port(1900).bytes());
  EXPECT_EQ(s.rfind("M-SEARCH * HTTP/1.1\r\n", 0), 0U);
  EXPECT_NE(s.find("MAN: \"ssdp:discover\"\r\n"), std::string::npos);
  EXPECT_NE(s.find("ST: "), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 4), "\r\n\r\n");
}

// ---- parse_nmap_payloads ------------------------------------------------------------

TEST(ParseNmapPayloads, EntriesRangesEscapesAndComments) {
  const auto t = parse_nmap_payloads(
      "# a comment\n"
      "udp 7 \"\\x0D\\x0A\"\n"
      "udp 100,200-202\n"
      "  # comment between strings\n"
      "  \"ab\\\"c\" \"\\0\\n\\t\\\\\"\n"
      "  \"#not a comment\"\n"
      "source 500\n"
      "UDP 300 \"\\101\\x41\" futurekeyword whatever \"ignored\"\n");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->specific_ports().to_string(), "7,100,200-202,300");
  EXPECT_EQ(as_text(t->for_port(7).bytes()), "\r\n");
  EXPECT_EQ(as_text(t->for_port(201).bytes()), std::string("ab\"c\0\n\t\\#not a comment", 22));
  EXPECT_EQ(t->for_port(100), t->for_port(202));
  EXPECT_EQ(as_text(t->for_port(300).bytes()), "AA");
  EXPECT_EQ(t->payload_count(), 3U);  // one copy per entry, not per range
}

TEST(ParseNmapPayloads, FirstEntryForAPortWins) {
  const auto t = parse_nmap_payloads("udp 10-20 \"first\"\nudp 15,21 \"second\"\nudp 1-65535 \"\"\n");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(as_text(t->for_port(15).bytes()), "first");
  EXPECT_EQ(as_text(t->for_port(21).bytes()), "second");
  // The last entry fills every other port with an explicitly empty payload.
  EXPECT_TRUE(t->has_specific(9));
  EXPECT_FALSE(t->has_specific(0));  // not named by any entry
  EXPECT_TRUE(t->has_specific(65535));
  EXPECT_TRUE(t->for_port(65535).empty());
  // 10-20 first, 21 second, the rest third: 1-9, 10-20, 21, 22-65535.
  EXPECT_EQ(t->range_count(), 4U);
  EXPECT_EQ(t->payload_count(), 3U);
}

TEST(ParseNmapPayloads, ResolvesOverlapsOverTheWholePortRange) {
  // Later entries only fill the gaps the earlier ones left; an entry that wins
  // no port stores no payload.
  const auto t = parse_nmap_payloads(
      "udp 100-200,65535 \"a\"\nudp 0-65535 \"b\"\nudp 150 \"c\"\nudp 50-60,55 \"d\"\nudp 0 \"e\"\n");
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(as_text(t->for_port(0).bytes()), "b");
  EXPECT_EQ(as_text(t->for_port(99).bytes()), "b");
  EXPECT_EQ(as_text(t->for_port(100).bytes()), "a");
  EXPECT_EQ(as_text(t->for_port(150).bytes()), "a");
  EXPECT_EQ(as_text(t->for_port(200).bytes()), "a");
  EXPECT_EQ(as_text(t->for_port(201).bytes()), "b");
  EXPECT_EQ(as_text(t->for_port(55).bytes()), "b");
  EXPECT_EQ(as_text(t->for_port(65534).bytes()), "b");
  EXPECT_EQ(as_text(t->for_port(65535).bytes()), "a");
  EXPECT_EQ(t->payload_count(), 2U);
  EXPECT_EQ(t->range_count(), 4U);  // 0-99 b, 100-200 a, 201-65534 b, 65535 a
  EXPECT_EQ(t->specific_ports().size(), 65536U);
}

TEST(ParseNmapPayloads, EmptyTextIsAnEmptyTable) {
  const auto t = parse_nmap_payloads("# nothing\n\n");
  ASSERT_TRUE(t.has_value());
  EXPECT_TRUE(t->specific_ports().empty());
  EXPECT_FALSE(t->has_specific(0));
  EXPECT_TRUE(t->for_port(65535).empty());
}

TEST(ParseNmapPayloads, ErrorsNameTheLineAndStayOnOneLine) {
  struct Case {
    std::string_view text;
    std::string_view want;  // a substring of the message
  };
  const std::vector<Case> cases = {
      {"tcp 80 \"x\"\n", "line 1: expected 'udp', got 'tcp'"},
      {"\"x\"\n", "line 1: payload string outside an entry"},
      {"udp\n", "has no port list"},
      {"udp 53\n", "has no payload string"},
      {"udp 53\nudp 54 \"x\"", "line 2: expected a quoted payload string"},
      {"udp \"x\"\n", "line 1: expected a port list, got a string"},
      {"udp 70000 \"x\"\n", "line 1: bad port list '70000'"},
      {"udp 5-3 \"x\"\n", "range end below start"},
      {"udp 1,,2 \"x\"\n", "bad port list"},
      {"udp 1, \"x\"\n", "bad port list"},
      {"udp 1-2-3 \"x\"\n", "bad port list"},
      {"udp 1\n\"abc\n\"\n", "line 2: unterminated string"},
      {"udp 1 \"abc", "line 1: unterminated string"},
      {"udp 1 \"abc\\", "unterminated string"},
      {"udp 1\n\n \"\\q\"\n", "line 3: unknown escape '\\q'"},
      {"udp 1 \"\\x4\"\n", "\\x needs two hex digits"},
      {"udp 1 \"\\400\"\n", "octal escape above \\377"},
      {"udp 1 \"x\"\nsource\n", "line 2: 'source' needs a port number"},
      {"udp 1 \"x\"\nsource 99999\n", "'source' needs a port number"},
      {"udp 1 \"x\"\nsource 5\n\"more\"\n", "line 3: payload string after a keyword"},
  };
  for (const auto& c : cases) {
    const auto t = parse_nmap_payloads(c.text);
    ASSERT_FALSE(t.has_value()) << c.text;
    const std::string msg = t.error().message();
    EXPECT_NE(msg.find(c.want), std::string::npos) << "message: " << msg << "\nwant: " << c.want;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    EXPECT_EQ(msg.rfind("nmap-payloads", 0), 0U) << msg;
  }
}

TEST(ParseNmapPayloads, BoundsPayloadSizeEntriesAndText) {
  // Exactly the maximum, over several strings, is fine; one byte more is not.
  std::string ok = "udp 1 \"" + std::string(kMaxUdpPayload - 1, 'a') + "\" \"b\"\n";
  auto t = parse_nmap_payloads(ok);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  EXPECT_EQ(t->for_port(1).size(), kMaxUdpPayload);
  std::string too_long = "udp 1 \"" + std::string(kMaxUdpPayload, 'a') + "\"\n\"\\x00\"\n";
  t = parse_nmap_payloads(too_long);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("line 2: payload longer than 1400 bytes"), std::string::npos)
      << t.error().message();

  std::string many;
  for (std::size_t i = 0; i <= UdpPayloads::kMaxEntries; ++i) {
    many += "udp 1-65535 \"\"\n";
  }
  t = parse_nmap_payloads(many);
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("more than 4096 entries"), std::string::npos) << t.error().message();

  std::string wide = "udp 1";
  for (std::size_t i = 0; i < UdpPayloads::kMaxRanges; ++i) {
    wide += ",1";
  }
  t = parse_nmap_payloads(wide + " \"x\"\n");
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("more than 65536 port ranges"), std::string::npos) << t.error().message();

  t = parse_nmap_payloads(std::string(UdpPayloads::kMaxFileBytes + 1, '#'));
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("larger than 1 MiB"), std::string::npos);
}

TEST(ParseNmapPayloads, NulAndControlBytesInTextDoNotBreakMessages) {
  const std::string text("udp 1\x00 \"x\"\n", 12);
  const auto t = parse_nmap_payloads(text);
  ASSERT_FALSE(t.has_value());
  EXPECT_EQ(t.error().message().find('\0'), std::string::npos);
}

// ---- merge and the real file ----------------------------------------------------------

TEST(UdpPayloads, MergeKeepsOursAndFillsTheRest) {
  const auto nmap = parse_nmap_payloads("udp 53,54 \"theirs-dns\"\nudp 7000-7001 \"theirs\"\n");
  ASSERT_TRUE(nmap.has_value());
  const UdpPayloads merged = UdpPayloads::builtin().merged_with(*nmap);
  EXPECT_EQ(merged.for_port(53), UdpPayloads::builtin().for_port(53));  // ours wins
  EXPECT_EQ(as_text(merged.for_port(54).bytes()), "theirs-dns");        // theirs fills
  EXPECT_EQ(as_text(merged.for_port(7001).bytes()), "theirs");
  EXPECT_EQ(merged.for_port(7000), merged.for_port(7001));
  EXPECT_EQ(merged.payload_count(), UdpPayloads::builtin().payload_count() + 2);
  EXPECT_FALSE(merged.has_specific(7002));
}

TEST(UdpPayloads, LoadReportsMissingFile) {
  const auto t = UdpPayloads::load("/nonexistent/nmap-payloads");
  ASSERT_FALSE(t.has_value());
  EXPECT_NE(t.error().message().find("cannot open"), std::string::npos);
}

TEST(UdpPayloads, ParsesTheInstalledNmapFile) {
  const std::string path(UdpPayloads::kNmapPayloadsPath);
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << path << " not installed";
  }
  const auto t = UdpPayloads::load(path);
  ASSERT_TRUE(t.has_value()) << t.error().message();
  // Services nmap has carried payloads for since long ago.
  for (int p : {53, 69, 111, 123, 137, 161, 500}) {
    EXPECT_TRUE(t->has_specific(static_cast<uint16_t>(p))) << p;
    EXPECT_FALSE(t->for_port(static_cast<uint16_t>(p)).empty()) << p;
  }
  const UdpPayloads& d = UdpPayloads::load_default();
  EXPECT_EQ(d.for_port(53), UdpPayloads::builtin().for_port(53));
  EXPECT_EQ(d.for_port(69), t->for_port(69));
  EXPECT_GT(d.payload_count(), UdpPayloads::builtin().payload_count());
}

TEST(UdpPayloads, BytesHelperRoundTrip) {
  // UdpPayload equality compares bytes, not identity.
  EXPECT_EQ(UdpPayload::make(bytes("abc")), UdpPayload::make(bytes("abc")));
  EXPECT_NE(UdpPayload::make(bytes("abc")), UdpPayload::make(bytes("abd")));
}

}  // namespace
