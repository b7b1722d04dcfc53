// tests/unit/scan/ports_test.cpp — nmap port specs, PortSet and the frequency table.
#include "scan/ports.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::scan {
namespace {

constexpr ScanProtocols kTcp{true, false};
constexpr ScanProtocols kUdp{false, true};
constexpr ScanProtocols kBoth{true, true};

PortSets parse_ok(std::string_view spec, ScanProtocols scanned = kTcp, const ServiceTable* services = nullptr) {
  auto r = parse_port_spec(spec, scanned, services);
  EXPECT_TRUE(r.has_value()) << spec << ": " << (r ? "" : r.error().message());
  return r ? *r : PortSets{};
}

std::string parse_err(std::string_view spec, ScanProtocols scanned = kTcp, const ServiceTable* services = nullptr) {
  auto r = parse_port_spec(spec, scanned, services);
  EXPECT_FALSE(r.has_value()) << spec << " parsed as " << (r ? r->tcp.to_string() : "");
  if (r) {
    return {};
  }
  std::string msg = r.error().message();
  EXPECT_EQ(msg.find('\n'), std::string::npos);
  return msg;
}

// Sample in nmap-services format, written for this test (not nmap's data).
constexpr std::string_view kSample =
    "# comment line\n"
    "alpha\t10/tcp\t0.25\t# first\n"
    "beta\t20/tcp\t0.50\n"
    "gamma\t30/tcp\t0.25\n"
    "alpha\t10/udp\t0.10\n"
    "delta\t40/udp\t0.30\n"
    "sigma\t50/sctp\t0.90\n"
    "\n";

TEST(PortSet, NormalisesAndCounts) {
  auto set = PortSet::from_ranges({{30, 40}, {1, 5}, {6, 6}, {35, 50}, {100, 90}});
  EXPECT_EQ(set.to_string(), "1-6,30-50,90-100");
  EXPECT_EQ(set.size(), 6U + 21U + 11U);
  EXPECT_EQ(set.nth(0), 1);
  EXPECT_EQ(set.nth(5), 6);
  EXPECT_EQ(set.nth(6), 30);
  EXPECT_EQ(set.nth(26), 50);
  EXPECT_EQ(set.nth(27), 90);
  EXPECT_EQ(set.nth(37), 100);
  EXPECT_TRUE(set.contains(45));
  EXPECT_FALSE(set.contains(7));
  EXPECT_FALSE(set.contains(0));
  EXPECT_FALSE(set.contains(65535));
}

TEST(PortSet, NthEnumeratesInOrder) {
  auto set = PortSet::from_ranges({{0, 3}, {65530, 65535}, {100, 100}});
  std::vector<uint16_t> got;
  for (uint32_t i = 0; i < set.size(); ++i) {
    got.push_back(set.nth(i));
  }
  EXPECT_EQ(got, (std::vector<uint16_t>{0, 1, 2, 3, 100, 65530, 65531, 65532, 65533, 65534, 65535}));
}

TEST(PortSet, IndexOfInvertsNth) {
  auto set = PortSet::from_ranges({{0, 3}, {65530, 65535}, {100, 100}});
  for (uint32_t i = 0; i < set.size(); ++i) {
    EXPECT_EQ(set.index_of(set.nth(i)), int64_t{i});
  }
  EXPECT_EQ(set.index_of(4), -1);
  EXPECT_EQ(set.index_of(99), -1);
  EXPECT_EQ(set.index_of(65529), -1);
  EXPECT_EQ(PortSet{}.index_of(80), -1);
}

TEST(PortSet, MinusAndUnion) {
  auto a = PortSet::from_ranges({{1, 100}, {200, 300}});
  auto b = PortSet::from_ranges({{50, 60}, {90, 210}, {300, 400}});
  EXPECT_EQ(a.minus(b).to_string(), "1-49,61-89,211-299");
  EXPECT_EQ(a.united(b).to_string(), "1-400");
  EXPECT_TRUE(a.minus(a).empty());
  PortSet c;
  c.add(5);
  c.add({6, 9});
  EXPECT_EQ(c.to_string(), "5-9");
}

TEST(PortSpec, SinglePortsAndRanges) {
  auto s = parse_ok("22,80,1000-2000");
  EXPECT_EQ(s.tcp.to_string(), "22,80,1000-2000");
  EXPECT_EQ(s.tcp.size(), 1003U);
  EXPECT_TRUE(s.udp.empty());
}

TEST(PortSpec, DashMeansAllButZero) {
  auto s = parse_ok("-");
  EXPECT_EQ(s.tcp.to_string(), "1-65535");
  EXPECT_EQ(s.tcp.size(), 65535U);
}

TEST(PortSpec, OpenRanges) {
  EXPECT_EQ(parse_ok("-100").tcp.to_string(), "1-100");
  EXPECT_EQ(parse_ok("60000-").tcp.to_string(), "60000-65535");
  EXPECT_EQ(parse_ok("60000-").tcp.size(), 5536U);
  EXPECT_EQ(parse_ok("0-").tcp.size(), 65536U);
}

TEST(PortSpec, PortZeroOnlyWhenNamed) {
  EXPECT_TRUE(parse_ok("0").tcp.contains(0));
  EXPECT_EQ(parse_ok("0-10").tcp.size(), 11U);
  EXPECT_FALSE(parse_ok("-10").tcp.contains(0));
  EXPECT_FALSE(parse_ok("-").tcp.contains(0));
}

TEST(PortSpec, OverlapsMerge) { EXPECT_EQ(parse_ok("80,80,70-90,91").tcp.to_string(), "70-91"); }

TEST(PortSpec, UnprefixedItemsFollowScannedProtocols) {
  auto both = parse_ok("53,80", kBoth);
  EXPECT_EQ(both.tcp.to_string(), "53,80");
  EXPECT_EQ(both.udp.to_string(), "53,80");
  auto udp = parse_ok("53", kUdp);
  EXPECT_TRUE(udp.tcp.empty());
  EXPECT_EQ(udp.udp.to_string(), "53");
  auto none = parse_ok("80", ScanProtocols{});
  EXPECT_EQ(none.tcp.to_string(), "80");
}

TEST(PortSpec, ProtocolPrefixesApplyUntilNextPrefix) {
  auto s = parse_ok("T:80,443,U:53,161", kBoth);
  EXPECT_EQ(s.tcp.to_string(), "80,443");
  EXPECT_EQ(s.udp.to_string(), "53,161");
  EXPECT_EQ(s.total(), 4U);

  auto mixed = parse_ok("22,U:53,T:1-3,u:7", kBoth);
  EXPECT_EQ(mixed.tcp.to_string(), "1-3,22");
  EXPECT_EQ(mixed.udp.to_string(), "7,22,53");

  // A prefixed protocol is kept even when that protocol is not scanned.
  auto tcp_only = parse_ok("80,U:53", kTcp);
  EXPECT_EQ(tcp_only.tcp.to_string(), "80");
  EXPECT_EQ(tcp_only.udp.to_string(), "53");

  EXPECT_EQ(parse_ok("U:-", kBoth).udp.size(), 65535U);
}

TEST(PortSpec, ExcludePortsSubtract) {
  auto ports = parse_ok("1-100,U:53,161", kBoth);
  auto excl = parse_exclude_ports("50-60,T:80,U:161");
  ASSERT_TRUE(excl) << excl.error().message();
  EXPECT_EQ(excl->tcp.to_string(), "50-60,80");
  EXPECT_EQ(excl->udp.to_string(), "50-60,161");
  auto left = ports.minus(*excl);
  EXPECT_EQ(left.tcp.to_string(), "1-49,61-79,81-100");
  EXPECT_EQ(left.tcp.size(), 100U - 11U - 1U);
  EXPECT_EQ(left.udp.to_string(), "1-49,61-100");  // 53 falls in the unprefixed 50-60

  auto bad = parse_exclude_ports("80-20");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "exclude-ports spec '80-20': range end below start");
}

TEST(PortSpec, ServiceNamesThroughTable) {
  auto table = ServiceTable::parse(kSample);
  ASSERT_TRUE(table) << table.error().message();
  auto s = parse_ok("beta,ALPHA,5", kBoth, &*table);
  EXPECT_EQ(s.tcp.to_string(), "5,10,20");
  EXPECT_EQ(s.udp.to_string(), "5,10");
  EXPECT_EQ(parse_ok("U:delta", kBoth, &*table).udp.to_string(), "40");

  EXPECT_EQ(parse_err("nosuch", kTcp, &*table), "port spec 'nosuch': unknown service name 'nosuch'");
  EXPECT_EQ(parse_err("U:beta", kBoth, &*table),
            "port spec 'U:beta': service 'beta' has no port for the selected protocol");
  EXPECT_EQ(parse_err("http"), "port spec 'http': service names are not available here");
  EXPECT_EQ(parse_err("ht%tp", kTcp, &*table), "port spec 'ht%tp': invalid character '%' in service name");
}

TEST(PortSpec, BadInputNamesTheToken) {
  EXPECT_EQ(parse_err("70000"), "port spec '70000': port 70000 is above 65535");
  EXPECT_EQ(parse_err("22,1-70000"), "port spec '1-70000': port 70000 is above 65535");
  EXPECT_EQ(parse_err("99999999999999999999"),
            "port spec '99999999999999999999': port 99999999999999999999 is above 65535");
  EXPECT_EQ(parse_err("80-20"), "port spec '80-20': range end below start");
  EXPECT_EQ(parse_err("-0"), "port spec '-0': range end below start");
  EXPECT_EQ(parse_err("X:80"), "port spec 'X:80': unknown protocol prefix 'X:'");
  EXPECT_EQ(parse_err("TCP:80"), "port spec 'TCP:80': unknown protocol prefix 'TCP:'");
  EXPECT_EQ(parse_err(":80"), "port spec ':80': unknown protocol prefix ':'");
  EXPECT_EQ(parse_err("S:80"), "port spec 'S:80': protocol prefix 'S:' is not supported (only T: and U:)");
  EXPECT_EQ(parse_err("T:"), "port spec 'T:': no ports after protocol prefix");
  EXPECT_EQ(parse_err(""), "port spec '': empty");
  EXPECT_EQ(parse_err("22,,80"), "port spec '22,,80': empty item 2");
  EXPECT_EQ(parse_err("22,"), "port spec '22,': empty item 2");
  EXPECT_EQ(parse_err(",22"), "port spec ',22': empty item 1");
  EXPECT_EQ(parse_err("1-2-3"), "port spec '1-2-3': unexpected character '-'");
  EXPECT_EQ(parse_err("22 ,80"), "port spec '22 ': unexpected character ' '");
  EXPECT_EQ(parse_err("[1-1024]"), "port spec '[1-1024]': unexpected character '['");
  EXPECT_EQ(parse_err("8\n0"), "port spec '8\\n0': unexpected character '\\n'");
  EXPECT_EQ(parse_err("--"), "port spec '--': unexpected character '-'");
  EXPECT_EQ(parse_err("T:80:90"), "port spec 'T:80:90': unexpected character ':'");
}

TEST(PortSpec, LongTokensAreCutInMessages) {
  std::string spec(5000, '9');
  std::string msg = parse_err(spec);
  EXPECT_LT(msg.size(), 300U);
  EXPECT_NE(msg.find("..."), std::string::npos);
}

TEST(PortTable, ParsesNmapServicesFormat) {
  auto table = ServiceTable::parse(kSample);
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(table->size(), 5U);                                                         // sctp skipped
  EXPECT_EQ(table->top_ports(Protocol::kTcp, 3), (std::vector<uint16_t>{20, 10, 30}));  // tie 10/30 by port
  EXPECT_EQ(table->top_ports(Protocol::kTcp, 1), (std::vector<uint16_t>{20}));
  EXPECT_EQ(table->top_ports(Protocol::kTcp, 100).size(), 3U);
  EXPECT_EQ(table->top_ports(Protocol::kUdp, 2), (std::vector<uint16_t>{40, 10}));
  EXPECT_TRUE(table->top_ports(Protocol::kUdp, 0).empty());
  auto top = table->top(kBoth, 2);
  EXPECT_EQ(top.tcp.to_string(), "10,20");
  EXPECT_EQ(top.udp.to_string(), "10,40");
  EXPECT_TRUE(table->top(kUdp, 2).tcp.empty());
}

TEST(PortTable, NameOfPortKeepsSpellingAndPrefersTheMostFrequent) {
  auto table = ServiceTable::parse(
      "tnETOS 377/tcp 0.000050\n"
      "alpha 500/tcp 0.001\nbeta 500/tcp 0.002\n"
      "first 600/udp 0.003\nsecond 600/udp 0.003\n");
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(table->name_of(377, Protocol::kTcp), std::optional<std::string_view>("tnETOS"));
  EXPECT_EQ(table->name_of(500, Protocol::kTcp), std::optional<std::string_view>("beta"));
  EXPECT_EQ(table->name_of(600, Protocol::kUdp), std::optional<std::string_view>("first"));  // tie: first listed
  EXPECT_EQ(table->name_of(600, Protocol::kTcp), std::nullopt);
  EXPECT_EQ(table->name_of(1, Protocol::kTcp), std::nullopt);
}

TEST(PortTable, AcceptsCrlfAndMissingFrequency) {
  auto table = ServiceTable::parse("a 1/tcp\r\nb 2/tcp 0.5\r\n   # x\r\n");
  ASSERT_TRUE(table) << table.error().message();
  EXPECT_EQ(table->top_ports(Protocol::kTcp, 2), (std::vector<uint16_t>{2, 1}));
}

TEST(PortTable, MalformedLinesNameTheLine) {
  auto expect_err = [](std::string_view text, const std::string& want) {
    auto t = ServiceTable::parse(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().message(), want);
  };
  expect_err("ok 1/tcp 0.1\nbad\n", "nmap-services line 2: expected 'name port/protocol frequency', got 'bad'");
  expect_err("x 80tcp 0.1", "nmap-services line 1: expected port/protocol, got '80tcp'");
  expect_err("x 70000/tcp 0.1", "nmap-services line 1: bad port '70000/tcp'");
  expect_err("x /tcp 0.1", "nmap-services line 1: bad port '/tcp'");
  expect_err("x 80/tcp 1.5", "nmap-services line 1: bad frequency '1.5'");
  expect_err("x 80/tcp nan", "nmap-services line 1: bad frequency 'nan'");
  expect_err("x 80/tcp 0.1x", "nmap-services line 1: bad frequency '0.1x'");
}

TEST(PortTable, LoadReportsMissingFile) {
  auto t = ServiceTable::load("/nonexistent/lr-test/nmap-services");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message().find("/nonexistent/lr-test/nmap-services"), std::string::npos);
  EXPECT_GT(ServiceTable::load_default().size(), 0U);  // file or fallback, never empty
}

TEST(PortTable, BuiltinFastScanHas100DistinctTcpPorts) {
  auto table = ServiceTable::builtin();
  auto fast = table.top_ports(Protocol::kTcp, kFastScanPorts);
  ASSERT_EQ(fast.size(), 100U);
  std::set<uint16_t> distinct(fast.begin(), fast.end());
  EXPECT_EQ(distinct.size(), 100U);
  EXPECT_EQ(distinct.count(0), 0U);
  EXPECT_EQ(fast.front(), 80);
  EXPECT_EQ(table.top_port_set(Protocol::kTcp, kFastScanPorts).size(), 100U);
  EXPECT_TRUE(table.top_port_set(Protocol::kTcp, 10).contains(22));

  auto udp = table.top_ports(Protocol::kUdp, 1000);
  EXPECT_GE(udp.size(), 30U);
  EXPECT_EQ(std::set<uint16_t>(udp.begin(), udp.end()).size(), udp.size());
  EXPECT_EQ(udp.front(), 53);

  auto top = table.top(kBoth, kFastScanPorts);
  EXPECT_EQ(top.tcp.size(), 100U);
  EXPECT_EQ(top.udp.size(), udp.size());
  EXPECT_EQ(parse_ok("ssh,domain", kBoth, &table).tcp.to_string(), "22,53");
}

}  // namespace
}  // namespace linerate::scan
