// tests/unit/scan/targets_test.cpp — TargetSet: nmap target grammar, ranges, nth, exclusions.
#include "scan/targets.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "core/address.hpp"

namespace linerate::scan {
namespace {

uint32_t ip4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return ntohl(a.s_addr);
}

Address addr(const char* text) {
  auto a = Address::parse(text);
  EXPECT_TRUE(a) << text;
  return a ? *a : Address{};
}

// Resolver that knows a few names and fails the rest, without DNS.
Resolver fake_resolver() {
  return [](std::string_view name) -> core::Result<std::vector<core::SockAddr>> {
    if (name == "host.lab") {
      auto a = core::parse_ip("10.213.0.7", 0);
      auto b = core::parse_ip("10.213.0.8", 0);
      return std::vector<core::SockAddr>{*a, *b};
    }
    if (name == "v6.lab") {
      return std::vector<core::SockAddr>{*core::parse_ip("fd13::42", 0)};
    }
    if (name == "empty.lab") {
      return std::vector<core::SockAddr>{};
    }
    return core::fail("cannot resolve '" + std::string(name) + "': Name or service not known");
  };
}

TargetSet parse_ok(std::vector<std::string> specs) {
  auto set = TargetSet::parse(specs, fake_resolver());
  EXPECT_TRUE(set) << (set ? "" : set.error().message());
  return set ? *set : TargetSet{};
}

std::string parse_error(const std::string& spec) {
  std::vector<std::string> specs{spec};
  auto set = TargetSet::parse(specs, fake_resolver());
  EXPECT_FALSE(set) << spec << " parsed";
  return set ? "" : set.error().message();
}

std::vector<std::string> expand(const TargetSet& set) {
  std::vector<std::string> out;
  for (uint64_t i = 0; i < set.size(); ++i) {
    out.push_back(set.nth(i).to_string());
  }
  return out;
}

TEST(TargetSet, SingleAddressIsOneAddress) {
  auto set = parse_ok({"10.0.0.1"});
  ASSERT_EQ(set.size(), 1U);
  EXPECT_EQ(set.nth(0).to_string(), "10.0.0.1");
  EXPECT_TRUE(set.contains(addr("10.0.0.1")));
  EXPECT_FALSE(set.contains(addr("10.0.0.2")));
  EXPECT_FALSE(set.contains(addr("::a00:1")));
}

// The SYN scan's receive side maps a reply's source back to its host index.
TEST(TargetSet, IndexOfInvertsNthAcrossRangesAndFamilies) {
  TargetSet set = parse_ok({"10.0.0.250-255", "10.0.1.0/30", "192.0.2.9", "fd13::f8/125", "fd13:1::/127"});
  ASSERT_EQ(set.size(), 6U + 4U + 1U + 8U + 2U);
  for (uint64_t i = 0; i < set.size(); ++i) {
    auto k = set.index_of(set.nth(i));
    ASSERT_TRUE(k) << set.nth(i).to_string();
    EXPECT_EQ(*k, i) << set.nth(i).to_string();
  }
  EXPECT_FALSE(set.index_of(addr("10.0.0.249")));
  EXPECT_FALSE(set.index_of(addr("10.0.1.4")));
  EXPECT_FALSE(set.index_of(addr("192.0.2.10")));
  EXPECT_FALSE(set.index_of(addr("fd13::100")));
  EXPECT_FALSE(set.index_of(addr("fd13:1::2")));
  EXPECT_FALSE(TargetSet{}.index_of(addr("10.0.0.1")));
}

TEST(TargetSet, FromAddressesMergesNeighboursAndDuplicates) {
  std::vector<Address> up{addr("10.0.0.3"), addr("fd13::1"),  addr("10.0.0.1"),
                          addr("10.0.0.2"), addr("10.0.0.3"), addr("10.0.0.9")};
  TargetSet set = TargetSet::from_addresses(up);
  EXPECT_EQ(set.size(), 5U);
  EXPECT_EQ(set.v4().size(), 2U);  // 10.0.0.1-3 and 10.0.0.9
  EXPECT_EQ(expand(set), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.9", "fd13::1"}));
  EXPECT_TRUE(TargetSet::from_addresses({}).empty());
}

TEST(TargetSet, EmptySetHasSizeZero) {
  TargetSet set;
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.size(), 0U);
  EXPECT_FALSE(set.contains(addr("0.0.0.0")));
  EXPECT_FALSE(set.contains(addr("::")));
}

TEST(TargetSet, CidrCoversTheNetwork) {
  auto set = parse_ok({"192.168.1.0/24"});
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.v4()[0], (Range4{ip4("192.168.1.0"), ip4("192.168.1.255")}));
  EXPECT_EQ(set.size(), 256U);
}

TEST(TargetSet, CidrWithUnalignedBaseMasksTheBaseLikeNmap) {
  auto set = parse_ok({"10.0.0.7/24"});
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.v4()[0], (Range4{ip4("10.0.0.0"), ip4("10.0.0.255")}));
}

TEST(TargetSet, CidrSlash32IsOneAddressAndSlash0IsEverything) {
  EXPECT_EQ(parse_ok({"10.1.2.3/32"}).size(), 1U);
  auto all = parse_ok({"1.2.3.4/0"});
  EXPECT_EQ(all.size(), uint64_t{1} << 32);
  EXPECT_EQ(all.nth(0).to_string(), "0.0.0.0");
  EXPECT_EQ(all.nth((uint64_t{1} << 32) - 1).to_string(), "255.255.255.255");
}

TEST(TargetSet, Slash8IsOneRangeAndNthReachesItsEnd) {
  auto set = parse_ok({"10.0.0.0/8"});
  EXPECT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.size(), 16777216U);
  EXPECT_EQ(set.nth(0).to_string(), "10.0.0.0");
  EXPECT_EQ(set.nth(16777215).to_string(), "10.255.255.255");
  EXPECT_EQ(set.nth(65536 + 256 + 1).to_string(), "10.1.1.1");
}

TEST(TargetSet, OctetRangeInLastOctet) {
  auto set = parse_ok({"10.0.0.1-20"});
  EXPECT_EQ(set.size(), 20U);
  EXPECT_EQ(set.nth(0).to_string(), "10.0.0.1");
  EXPECT_EQ(set.nth(19).to_string(), "10.0.0.20");
}

TEST(TargetSet, OctetRangeWithStarFoldsIntoOneRange) {
  auto set = parse_ok({"10.0.1-3.*"});
  EXPECT_EQ(set.size(), 768U);
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.v4()[0], (Range4{ip4("10.0.1.0"), ip4("10.0.3.255")}));
}

TEST(TargetSet, CommaListsAreACrossProduct) {
  auto set = parse_ok({"10.0.0,2,4.1"});
  EXPECT_EQ(expand(set), (std::vector<std::string>{"10.0.0.1", "10.0.2.1", "10.0.4.1"}));
  auto cross = parse_ok({"10.1,3.5-6.1,7-8"});
  EXPECT_EQ(cross.size(), 2U * 2U * 3U);
  EXPECT_EQ(expand(cross),
            (std::vector<std::string>{"10.1.5.1", "10.1.5.7", "10.1.5.8", "10.1.6.1", "10.1.6.7", "10.1.6.8",
                                      "10.3.5.1", "10.3.5.7", "10.3.5.8", "10.3.6.1", "10.3.6.7", "10.3.6.8"}));
}

TEST(TargetSet, OpenEndedOctetRanges) {
  EXPECT_EQ(parse_ok({"10.0.0.-5"}).size(), 6U);
  EXPECT_EQ(parse_ok({"10.0.0.250-"}).size(), 6U);
  EXPECT_EQ(parse_ok({"10.0.0.-"}).size(), 256U);
}

TEST(TargetSet, AllStarsIsOneRangeAndFast) {
  auto set = parse_ok({"*.*.*.*"});
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.size(), uint64_t{1} << 32);
  auto tail = parse_ok({"*.*.0-3.1"});
  EXPECT_EQ(tail.size(), 1U << 18);
  EXPECT_EQ(tail.v4().size(), 1U << 18);
  EXPECT_EQ(tail.nth(1).to_string(), "0.0.1.1");
  EXPECT_EQ(tail.nth((1U << 18) - 1).to_string(), "255.255.3.1");
  // A full cross product of 2^24 single addresses is over the per-spec range cap.
  EXPECT_NE(parse_error("*.*.*.1").find("more than the limit"), std::string::npos);
}

TEST(TargetSet, Ipv6AddressAndCidr) {
  auto one = parse_ok({"fd13::1"});
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one.nth(0).to_string(), "fd13::1");
  auto net = parse_ok({"fd13::ff/120"});
  EXPECT_EQ(net.size(), 256U);
  EXPECT_EQ(net.nth(0).to_string(), "fd13::");
  EXPECT_EQ(net.nth(255).to_string(), "fd13::ff");
  EXPECT_TRUE(net.contains(addr("fd13::80")));
  EXPECT_FALSE(net.contains(addr("fd13::100")));
}

TEST(TargetSet, HugeIpv6SizeSaturates) {
  auto set = parse_ok({"fd13::/64", "10.0.0.1"});
  EXPECT_EQ(set.size_v6(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(set.size(), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(set.nth(0).to_string(), "10.0.0.1");
  EXPECT_EQ(set.nth(1).to_string(), "fd13::");
  EXPECT_EQ(set.nth(2).to_string(), "fd13::1");
  auto all = parse_ok({"::/0"});
  EXPECT_EQ(all.size(), std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(all.contains(addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")));
}

TEST(TargetSet, MixedFamiliesScanIpv4First) {
  auto set = parse_ok({"fd13::2", "10.0.0.2", "fd13::1", "10.0.0.1"});
  EXPECT_EQ(expand(set), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "fd13::1", "fd13::2"}));
}

TEST(TargetSet, OverlapsAndAdjacencyMergeWithoutDoubleCounting) {
  auto set =
      parse_ok({"10.0.0.0/24", "10.0.0.5", "10.0.0.128/25", "10.0.1.0-9", "10.0.0.250-", "fd13::/120", "fd13::5"});
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.v4()[0], (Range4{ip4("10.0.0.0"), ip4("10.0.1.9")}));
  EXPECT_EQ(set.size_v4(), 266U);
  ASSERT_EQ(set.v6().size(), 1U);
  EXPECT_EQ(set.size(), 266U + 256U);
}

TEST(TargetSet, AddKeepsTheSetNormalized) {
  TargetSet set;
  ASSERT_TRUE(set.add("10.0.0.9", fake_resolver()));
  ASSERT_TRUE(set.add("10.0.0.1-8", fake_resolver()));
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.size(), 9U);
  auto err = set.add("10.0.0.300", fake_resolver());
  ASSERT_FALSE(err);
  EXPECT_EQ(set.size(), 9U);
}

TEST(TargetSet, ExcludeFromTheMiddleSplitsTheRange) {
  auto set = parse_ok({"10.0.0.0/24"});
  set.exclude(parse_ok({"10.0.0.10-19"}));
  ASSERT_EQ(set.v4().size(), 2U);
  EXPECT_EQ(set.size(), 246U);
  EXPECT_FALSE(set.contains(addr("10.0.0.15")));
  EXPECT_TRUE(set.contains(addr("10.0.0.9")));
  EXPECT_TRUE(set.contains(addr("10.0.0.20")));
  EXPECT_EQ(set.nth(10).to_string(), "10.0.0.20");
}

TEST(TargetSet, ExcludeAtTheEdgesTrims) {
  auto set = parse_ok({"10.0.0.0/24"});
  set.exclude(parse_ok({"10.0.0.0", "10.0.0.255", "9.0.0.0/8"}));
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.v4()[0], (Range4{ip4("10.0.0.1"), ip4("10.0.0.254")}));
}

TEST(TargetSet, ExcludeEverythingLeavesEmpty) {
  auto set = parse_ok({"10.0.0.0/24", "fd13::/64"});
  set.exclude(parse_ok({"10.0.0.0/8", "::/0"}));
  EXPECT_TRUE(set.empty());
  EXPECT_EQ(set.size(), 0U);
}

TEST(TargetSet, ExcludeDisjointChangesNothing) {
  auto set = parse_ok({"10.0.0.0/24", "10.0.2.0/24"});
  set.exclude(parse_ok({"10.0.1.0/24", "11.0.0.1", "fd13::1"}));
  EXPECT_EQ(set.v4().size(), 2U);
  EXPECT_EQ(set.size(), 512U);
}

TEST(TargetSet, ExcludeSpanningSeveralRanges) {
  auto set = parse_ok({"10.0.0.1-10", "10.0.0.20-30", "10.0.0.40-50"});
  set.exclude(parse_ok({"10.0.0.5-45"}));
  EXPECT_EQ(expand(set), (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.46",
                                                   "10.0.0.47", "10.0.0.48", "10.0.0.49", "10.0.0.50"}));
}

TEST(TargetSet, ExcludeListIsCommaSeparated) {
  auto ex = TargetSet::parse_exclude_list("10.0.0.1,10.0.0.3-4, fd13::1", fake_resolver());
  ASSERT_TRUE(ex) << ex.error().message();
  EXPECT_EQ(ex->size(), 4U);
}

TEST(TargetSet, NthMatchesExpandedListAndContains) {
  auto set = parse_ok({"10.0.0.250-", "10.0.1.0-3", "192.168.1,3.7", "fd13::fe/127", "fd13::1:0/126"});
  std::vector<std::string> want{"10.0.0.250", "10.0.0.251", "10.0.0.252", "10.0.0.253", "10.0.0.254",  "10.0.0.255",
                                "10.0.1.0",   "10.0.1.1",   "10.0.1.2",   "10.0.1.3",   "192.168.1.7", "192.168.3.7",
                                "fd13::fe",   "fd13::ff",   "fd13::1:0",  "fd13::1:1",  "fd13::1:2",   "fd13::1:3"};
  auto got = expand(set);
  EXPECT_EQ(got, want);
  EXPECT_EQ(set.size(), want.size());
  for (uint64_t i = 0; i < set.size(); ++i) {
    EXPECT_TRUE(set.contains(set.nth(i)));
  }
}

TEST(TargetSet, ListTextWithCommentsAndWhitespace) {
  std::string text =
      "# lab targets\n"
      "10.0.0.1 10.0.0.2\t10.0.0.3-4   # the rest of this line is ignored 10.9.9.9\n"
      "\r\n"
      "  fd13::1#glued comment\n"
      "host.lab\n";
  auto set = TargetSet::parse_list_text(text, fake_resolver());
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(expand(*set),
            (std::vector<std::string>{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.213.0.7", "fd13::1"}));
}

TEST(TargetSet, ResolverNamesBecomeTheirFirstAddress) {
  auto set = parse_ok({"host.lab", "v6.lab"});
  EXPECT_EQ(expand(set), (std::vector<std::string>{"10.213.0.7", "fd13::42"}));
}

TEST(TargetSet, NameWithPrefixMasksTheResolvedAddress) {
  auto set = parse_ok({"host.lab/24"});
  ASSERT_EQ(set.v4().size(), 1U);
  EXPECT_EQ(set.v4()[0], (Range4{ip4("10.213.0.0"), ip4("10.213.0.255")}));
  auto v6 = parse_ok({"v6.lab/124"});
  EXPECT_EQ(v6.size(), 16U);
  EXPECT_EQ(v6.nth(0).to_string(), "fd13::40");
}

TEST(TargetSet, UnresolvableNameFailsWithTheName) {
  auto msg = parse_error("nosuch.lab");
  EXPECT_NE(msg.find("target 'nosuch.lab'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("Name or service not known"), std::string::npos) << msg;
  EXPECT_NE(parse_error("empty.lab").find("no addresses"), std::string::npos);
}

TEST(TargetSet, UnresolvableNameCanBeReportedAndSkipped) {
  std::vector<std::string> specs{"10.0.0.1", "nosuch.lab", "10.0.0.2"};
  std::vector<std::string> skipped;
  auto set = TargetSet::parse(specs, fake_resolver(), [&](const core::Error& e) { skipped.push_back(e.message()); });
  ASSERT_TRUE(set);
  EXPECT_EQ(set->size(), 2U);
  ASSERT_EQ(skipped.size(), 1U);
  EXPECT_NE(skipped[0].find("'nosuch.lab'"), std::string::npos);
  // Syntax errors are never skipped.
  std::vector<std::string> bad{"10.0.0.300"};
  EXPECT_FALSE(TargetSet::parse(bad, fake_resolver(), [](const core::Error&) {}));
}

// Names are looked up concurrently and once each: every call of this resolver
// waits (up to 10 s) until all four distinct names are being resolved at the
// same time, so a sequential parse would see at most one call in flight.
TEST(TargetSet, NamesResolveOnceEachAndConcurrently) {
  std::mutex mu;
  std::condition_variable cv;
  int in_flight = 0;
  int max_in_flight = 0;
  std::map<std::string, int> calls;
  Resolver slow = [&](std::string_view name) -> core::Result<std::vector<core::SockAddr>> {
    std::unique_lock lock(mu);
    ++calls[std::string(name)];
    ++in_flight;
    max_in_flight = std::max(max_in_flight, in_flight);
    cv.notify_all();
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return max_in_flight >= 4; });
    --in_flight;
    // "hN.lab" -> 10.9.9.N
    return std::vector<core::SockAddr>{*core::parse_ip("10.9.9." + std::string(1, name[1]), 0)};
  };
  std::vector<std::string> specs{"h1.lab", "h2.lab", "10.0.0.1", "h3.lab", "h1.lab", "h4.lab/30", "h2.lab"};
  auto set = TargetSet::parse(specs, slow);
  ASSERT_TRUE(set) << set.error().message();
  EXPECT_EQ(max_in_flight, 4);
  EXPECT_EQ(calls.size(), 4U);
  for (const auto& [name, n] : calls) {
    EXPECT_EQ(n, 1) << name;
  }
  // 10.0.0.1, 10.9.9.1-3 and 10.9.9.4/30 (10.9.9.4-7).
  EXPECT_EQ(set->size(), 1U + 3U + 4U);
  EXPECT_TRUE(set->contains(addr("10.9.9.2")));
  EXPECT_TRUE(set->contains(addr("10.9.9.7")));
}

TEST(TargetSet, MalformedSpecsNameTheTokenAndTheProblem) {
  struct Case {
    const char* spec;
    const char* what;
  };
  const Case cases[] = {
      {"10.0.0.300", "octet 300 is above 255"},
      {"10.0.0.0/33", "prefix length 33 is above 32"},
      {"fd00::/129", "prefix length 129 is above 128"},
      {"10.0.0.0/", "missing prefix length"},
      {"10.0.0.0/x", "is not a number"},
      {"10.0.0.0/24/8", "is not a number"},
      {"/24", "missing address"},
      {"10.0.0", "expected 4 dot-separated octets, got 3"},
      {"10.0.0.1.5", "got 5"},
      {"10.0.0.20-10", "octet range 20-10 is reversed"},
      {"10.0.0.1-2-3", "more than one '-'"},
      {"10.0..1", "empty octet"},
      {"10.0.0.1,", "empty item"},
      {"10.0.0.1*", "not a number"},
      {"10.0.0.99999999999", "above 255"},
      {"10.0.0.1-5/24", "cannot be combined"},
      {"fd00::zz", "not a valid IPv6 address"},
      {"fe80::1%eth0", "zone"},
      {"bad host", "not valid"},
      {"", "empty target"},
      {"host.lab/33", "above 32"},
      {"0,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30,32,34,36,38,40,42,44,46,48,50,52,54,56,58,60,62,64,66,68,70,"
       "72,74,76,78,80,82,84,86,88,90,92,94,96,98,100,102,104,106,108,110,112,114,116,118,120,122,124,126,128.*.*.1",
       "more than the limit"},
  };
  for (const auto& c : cases) {
    auto msg = parse_error(c.spec);
    std::string quoted_spec = std::string(c.spec).substr(0, 60);
    EXPECT_EQ(msg.rfind("target '" + quoted_spec, 0), 0U) << c.spec << " -> " << msg;
    EXPECT_NE(msg.find(c.what), std::string::npos) << c.spec << " -> " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

TEST(TargetSet, ErrorsStayOnOneLine) {
  auto msg = parse_error("10.0.0.1\nrm -rf");
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  EXPECT_NE(msg.find("\\n"), std::string::npos) << msg;
}

TEST(TargetSet, AddressParseAndPrint) {
  EXPECT_EQ(addr("10.0.0.1").v4_value(), 0x0A000001U);
  EXPECT_EQ(addr("fd13::1").to_string(), "fd13::1");
  EXPECT_LT(addr("255.255.255.255"), addr("::"));
  EXPECT_FALSE(Address::parse("10.0.0.256"));
  auto mapped = Address::from_sockaddr(*core::parse_ip("::ffff:10.0.0.1", 0));
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, Address::v4(0x0A000001));
}

}  // namespace
}  // namespace linerate::scan
