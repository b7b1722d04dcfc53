// Tests for scan/output.hpp: the four formats on synthetic results (2 IPv4 hosts,
// 1 IPv6 host), XML validated against nmap's DTD with xmllint and compared with
// ndiff, and the ResultCollector's ordering.
#include "scan/output.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace linerate::scan {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDtd = "/usr/share/nmap/nmap.dtd";

// A per-test temporary directory, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "lr_output_test.XXXXXX").string();
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  fs::path path_;
};

std::string read_all(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    out.push_back(line);
  }
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  auto ls = lines_of(text);
  return std::find(ls.begin(), ls.end(), line) != ls.end();
}

int exit_code(int status) { return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

PortResult res(const Address& a, uint16_t port, PortState s, Reason r, Protocol p = Protocol::kTcp) {
  return PortResult{a, port, p, s, r, s == PortState::kOpen ? 120U : 0U};
}

const Address kHostA = Address::v4(0x0A000001);  // 10.0.0.1
const Address kHostB = Address::v4(0x0A000002);  // 10.0.0.2
// fd13::1
const Address kHostC = Address::v6((static_cast<U128>(0xfd13) << 112) | 1);

ScanInfo make_info() {
  ScanInfo info;
  info.args = "lrscan -sT -p 1-40,53,80,443 --reason \"<&'>\" 10.0.0.1-2 fd13::1";
  info.scan_type = "connect";
  info.services = "1-40,53,80,443";
  info.num_services = 43;
  info.start_unix_s = 1'700'000'000;
  info.end_unix_s = 1'700'000'003;
  info.elapsed_s = 2.5;
  info.hosts_total = 3;
  info.hosts_up = 3;
  info.probes_sent = 129;
  return info;
}

// Host A: 22 and 80 open, every other scanned port closed (38 closed -> collapsed).
// Host B: 443 open, 53 closed, the rest (1-40, 80) filtered (41 -> collapsed).
// Host C (IPv6): 22 open, 80 closed, 443 filtered, 1-21/23-40/53 closed (collapsed).
std::vector<PortResult> make_results(bool a_port_25_open = false) {
  std::vector<uint16_t> ports;
  for (uint16_t p = 1; p <= 40; ++p) {
    ports.push_back(p);
  }
  ports.push_back(53);
  ports.push_back(80);
  ports.push_back(443);
  std::vector<PortResult> out;
  for (uint16_t p : ports) {
    bool open_a = p == 22 || p == 80 || (a_port_25_open && p == 25);
    out.push_back(open_a ? res(kHostA, p, PortState::kOpen, Reason::kSynAck)
                         : res(kHostA, p, PortState::kClosed, Reason::kConnRefused));
    if (p == 443) {
      out.push_back(res(kHostB, p, PortState::kOpen, Reason::kSynAck));
    } else if (p == 53) {
      out.push_back(res(kHostB, p, PortState::kClosed, Reason::kConnRefused));
    } else {
      out.push_back(res(kHostB, p, PortState::kFiltered, Reason::kNoResponse));
    }
    if (p == 22) {
      out.push_back(res(kHostC, p, PortState::kOpen, Reason::kSynAck));
    } else if (p == 443) {
      out.push_back(res(kHostC, p, PortState::kFiltered, Reason::kNoResponse));
    } else {
      out.push_back(res(kHostC, p, PortState::kClosed, Reason::kConnRefused));
    }
  }
  return out;
}

// Runs one whole scan's output through `format` into `path`.
void write_scan(const std::string& format, const std::string& path, const OutputOptions& opts,
                const std::vector<PortResult>& results, const ScanInfo& info = make_info()) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  auto out = make_output(format, f, opts);
  ASSERT_TRUE(out.has_value()) << out.error().message();
  ResultCollector rc;
  // Shuffled on purpose: the collector must sort.
  std::vector<PortResult> shuffled = results;
  std::mt19937 rng(7);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const auto& r : shuffled) {
    rc.add(r);
  }
  (*out)->begin(info);
  OutputFormat* outs[] = {out->get()};
  rc.replay(info, outs);
  (*out)->end(info);
  ASSERT_EQ(std::fclose(f), 0);
}

class OutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Golden strings carry dates: pin the time zone.
    setenv("TZ", "UTC", 1);
    tzset();
  }
  TempDir dir_;
};

TEST_F(OutputTest, UnknownFormatIsAnError) {
  auto out = make_output("yaml", stdout, {});
  ASSERT_FALSE(out.has_value());
  EXPECT_NE(out.error().message().find("yaml"), std::string::npos);
}

TEST_F(OutputTest, NormalMatchesNmapLayout) {
  std::string path = dir_.file("scan.nmap");
  write_scan("normal", path, {}, make_results());
  std::string text = read_all(path);
  std::string expected =
      "# lrscan 0.1.0 scan initiated Tue Nov 14 22:13:20 2023 as: lrscan -sT -p 1-40,53,80,443 --reason \"<&'>\" "
      "10.0.0.1-2 fd13::1\n"
      "Nmap scan report for 10.0.0.1\n"
      "Host is up.\n"
      "Not shown: 41 closed tcp ports (conn-refused)\n"
      "PORT   STATE SERVICE\n"
      "22/tcp open  ssh\n"
      "80/tcp open  http\n"
      "\n"
      "Nmap scan report for 10.0.0.2\n"
      "Host is up.\n"
      "Not shown: 41 filtered tcp ports (no-response)\n"
      "PORT    STATE  SERVICE\n"
      "53/tcp  closed domain\n"
      "443/tcp open   https\n"
      "\n"
      "Nmap scan report for fd13::1\n"
      "Host is up.\n"
      "Not shown: 41 closed tcp ports (conn-refused)\n"
      "PORT    STATE    SERVICE\n"
      "22/tcp  open     ssh\n"
      "443/tcp filtered https\n"
      "\n"
      "# lrscan done at Tue Nov 14 22:13:23 2023 -- 3 IP addresses (3 hosts up) scanned in 2.50 seconds\n";
  EXPECT_EQ(text, expected);
}

TEST_F(OutputTest, NormalReasonAndOpenOnly) {
  std::string path = dir_.file("reason.nmap");
  write_scan("normal", path, {.open_only = true, .reason = true}, make_results());
  std::string text = read_all(path);
  EXPECT_TRUE(has_line(text, "PORT   STATE SERVICE REASON")) << text;
  EXPECT_TRUE(has_line(text, "22/tcp open  ssh     syn-ack")) << text;
  // --open hides even a small closed state.
  EXPECT_TRUE(has_line(text, "Not shown: 1 closed tcp port (conn-refused), 41 filtered tcp ports (no-response)"))
      << text;
  EXPECT_EQ(text.find("closed domain"), std::string::npos);
  EXPECT_EQ(text.find("filtered https"), std::string::npos);
  EXPECT_TRUE(has_line(text, "Not shown: 41 closed tcp ports (conn-refused), 1 filtered tcp port (no-response)"))
      << text;
}

TEST_F(OutputTest, NormalSmallScanShowsEveryPortAndAllIgnored) {
  std::vector<PortResult> r = {res(kHostA, 22, PortState::kClosed, Reason::kConnRefused),
                               res(kHostA, 53, PortState::kOpenFiltered, Reason::kNoResponse, Protocol::kUdp)};
  ScanInfo info = make_info();
  info.hosts_total = 1;
  info.hosts_up = 1;
  std::string path = dir_.file("small.nmap");
  write_scan("normal", path, {}, r, info);
  std::string text = read_all(path);
  EXPECT_TRUE(has_line(text, "PORT   STATE         SERVICE")) << text;
  EXPECT_TRUE(has_line(text, "22/tcp closed        ssh")) << text;
  EXPECT_TRUE(has_line(text, "53/udp open|filtered domain")) << text;
  EXPECT_NE(text.find("-- 1 IP address (1 host up) scanned in 2.50 seconds"), std::string::npos);

  write_scan("normal", path, {.open_only = true}, r, info);
  text = read_all(path);
  EXPECT_TRUE(has_line(text, "All 2 scanned ports on 10.0.0.1 are in ignored states.")) << text;
  EXPECT_TRUE(has_line(text, "Not shown: 1 closed tcp port (conn-refused), 1 open|filtered udp port (no-response)"))
      << text;
  EXPECT_EQ(text.find("PORT"), std::string::npos);
}

TEST_F(OutputTest, DownHostsOnlyWithVerbose) {
  std::vector<PortResult> r = {res(kHostA, 22, PortState::kOpen, Reason::kSynAck),
                               res(kHostB, 22, PortState::kFiltered, Reason::kNoResponse)};
  std::string path = dir_.file("down.nmap");
  write_scan("normal", path, {}, r);
  EXPECT_EQ(read_all(path).find("10.0.0.2"), std::string::npos);
  write_scan("normal", path, {.verbosity = 1}, r);
  EXPECT_TRUE(has_line(read_all(path), "Nmap scan report for 10.0.0.2 [host down]"));
  write_scan("grepable", path, {.verbosity = 1}, r);
  EXPECT_TRUE(has_line(read_all(path), "Host: 10.0.0.2 ()\tStatus: Down"));
}

TEST_F(OutputTest, GrepableMatchesNmapLayout) {
  std::string path = dir_.file("scan.gnmap");
  write_scan("grepable", path, {}, make_results());
  auto ls = lines_of(read_all(path));
  std::vector<std::string> expected = {
      "# Nmap lrscan-0.1.0 scan initiated Tue Nov 14 22:13:20 2023 as: lrscan -sT -p 1-40,53,80,443 --reason "
      "\"<&'>\" 10.0.0.1-2 fd13::1",
      "Host: 10.0.0.1 ()\tStatus: Up",
      "Host: 10.0.0.1 ()\tPorts: 22/open/tcp//ssh///, 80/open/tcp//http///\tIgnored State: closed (41)",
      "Host: 10.0.0.2 ()\tStatus: Up",
      "Host: 10.0.0.2 ()\tPorts: 53/closed/tcp//domain///, 443/open/tcp//https///\tIgnored State: filtered (41)",
      "Host: fd13::1 ()\tStatus: Up",
      "Host: fd13::1 ()\tPorts: 22/open/tcp//ssh///, 443/filtered/tcp//https///\tIgnored State: closed (41)",
      "# Nmap done at Tue Nov 14 22:13:23 2023 -- 3 IP addresses (3 hosts up) scanned in 2.50 seconds",
  };
  EXPECT_EQ(ls, expected);
}

TEST_F(OutputTest, GrepableOpenOnlyAndVerbosePortsLine) {
  std::string path = dir_.file("open.gnmap");
  write_scan("grepable", path, {.open_only = true, .verbosity = 1}, make_results());
  std::string text = read_all(path);
  EXPECT_TRUE(has_line(text, "# Ports scanned: TCP(43;1-40,53,80,443) UDP(0;) SCTP(0;) PROTOCOLS(0;)")) << text;
  EXPECT_TRUE(has_line(text, "Host: 10.0.0.2 ()\tPorts: 443/open/tcp//https///\tIgnored State: filtered (41)")) << text;
}

TEST_F(OutputTest, JsonLinesEachParse) {
  std::string path = dir_.file("scan.json");
  write_scan("json", path, {}, make_results());
  auto ls = lines_of(read_all(path));
  ASSERT_EQ(ls.size(), 2U + 3U * 43U);
  auto first = nlohmann::json::parse(ls.front());
  EXPECT_EQ(first["type"], "scan");
  EXPECT_EQ(first["scanner"], "lrscan");
  EXPECT_EQ(first["args"], make_info().args);
  EXPECT_EQ(first["num_services"], 43);
  auto last = nlohmann::json::parse(ls.back());
  EXPECT_EQ(last["type"], "summary");
  EXPECT_EQ(last["hosts_up"], 3);
  EXPECT_EQ(last["hosts_total"], 3);
  EXPECT_DOUBLE_EQ(last["elapsed_s"].get<double>(), 2.5);
  int open = 0;
  for (std::size_t i = 1; i + 1 < ls.size(); ++i) {
    auto j = nlohmann::json::parse(ls[i]);  // throws (fails the test) on invalid JSON
    EXPECT_EQ(j["type"], "port");
    if (j["state"] == "open") {
      ++open;
    }
  }
  EXPECT_EQ(open, 4);
  auto c22 = std::find_if(ls.begin(), ls.end(), [](const std::string& l) {
    return l.find("\"fd13::1\"") != std::string::npos && l.find("\"port\":22,") != std::string::npos;
  });
  ASSERT_NE(c22, ls.end());
  auto j = nlohmann::json::parse(*c22);
  EXPECT_EQ(j["family"], 6);
  EXPECT_EQ(j["proto"], "tcp");
  EXPECT_EQ(j["state"], "open");
  EXPECT_EQ(j["reason"], "syn-ack");
  EXPECT_EQ(j["service"], "ssh");
  EXPECT_EQ(j["rtt_us"], 120);

  write_scan("json", path, {.open_only = true}, make_results());
  EXPECT_EQ(lines_of(read_all(path)).size(), 2U + 4U);
}

TEST_F(OutputTest, JsonEscapesOddArgs) {
  ScanInfo info = make_info();
  info.args = std::string("lrscan \"q\" \\ \t\n\x01 caf\xc3\xa9 bad\xff end");
  std::string path = dir_.file("odd.json");
  write_scan("json", path, {}, {res(kHostA, 22, PortState::kOpen, Reason::kSynAck)}, info);
  auto ls = lines_of(read_all(path));
  ASSERT_EQ(ls.size(), 3U);
  auto j = nlohmann::json::parse(ls[0]);
  EXPECT_EQ(j["args"], std::string("lrscan \"q\" \\ \t\n\x01 caf\xc3\xa9 bad\xef\xbf\xbd end"));
}

// xmllint and ndiff are required tools (scripts/install-deps); missing them is a
// failure, not a skip.
bool require_xml_tools() {
  bool ok = fs::exists(kDtd) && std::system("command -v xmllint >/dev/null 2>&1") == 0 &&
            std::system("command -v ndiff >/dev/null 2>&1") == 0;
  EXPECT_TRUE(ok) << kDtd << ", xmllint or ndiff is missing: run scripts/install-deps";
  return ok;
}

int xmllint_valid(const std::string& path) {
  std::string cmd = std::string("xmllint --noout --dtdvalid ") + kDtd + " '" + path + "' 2>&1";
  return exit_code(std::system(cmd.c_str()));
}

TEST_F(OutputTest, XmlValidatesAgainstNmapDtd) {
  if (!require_xml_tools()) {
    return;
  }
  ScanInfo info = make_info();
  info.args += std::string(" --odd \"x\" <y> & 'z' -- tab\there bad\xff");
  std::string path = dir_.file("scan.xml");
  for (const OutputOptions& opts :
       {OutputOptions{}, OutputOptions{.open_only = true, .reason = true, .verbosity = 2}}) {
    write_scan("xml", path, opts, make_results(), info);
    EXPECT_EQ(xmllint_valid(path), 0) << read_all(path);
  }
  std::string text = read_all(path);
  EXPECT_NE(text.find("<nmaprun scanner=\"nmap\" args=\"lrscan -sT"), std::string::npos);
  EXPECT_NE(text.find("&quot;&lt;&amp;&apos;&gt;&quot;"), std::string::npos);
  EXPECT_NE(text.find("<address addr=\"fd13::1\" addrtype=\"ipv6\"/>"), std::string::npos);
  EXPECT_NE(text.find("<extrareasons reason=\"conn-refused\" count=\"41\" proto=\"tcp\" ports=\"1-21,23-40,53,443\"/>"),
            std::string::npos)
      << text;

  // A combined TCP+UDP scan writes one <scaninfo> per protocol.
  info.scan_type = "syn,udp";
  info.services = "T:1-40,80,U:53";
  write_scan("xml", path, {}, make_results(), info);
  EXPECT_EQ(xmllint_valid(path), 0) << read_all(path);
  text = read_all(path);
  EXPECT_NE(text.find("<scaninfo type=\"syn\" protocol=\"tcp\" numservices=\"41\" services=\"1-40,80\"/>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("<scaninfo type=\"udp\" protocol=\"udp\" numservices=\"1\" services=\"53\"/>"),
            std::string::npos);
}

TEST_F(OutputTest, NdiffReadsOurXmlAndSeesOneChangedPort) {
  if (!require_xml_tools()) {
    return;
  }
  std::string a = dir_.file("a.xml");
  std::string b = dir_.file("b.xml");
  std::string a2 = dir_.file("a2.xml");
  write_scan("xml", a, {}, make_results(false));
  write_scan("xml", a2, {}, make_results(false));
  write_scan("xml", b, {}, make_results(true));  // 10.0.0.1:25 closed -> open

  EXPECT_EQ(exit_code(std::system(("ndiff '" + a + "' '" + a2 + "' >/dev/null 2>&1").c_str())), 0);
  std::string diff_out = dir_.file("diff.txt");
  EXPECT_EQ(exit_code(std::system(("ndiff '" + a + "' '" + b + "' >'" + diff_out + "' 2>&1").c_str())), 1);
  std::string diff = read_all(diff_out);
  EXPECT_NE(diff.find("10.0.0.1"), std::string::npos) << diff;
  EXPECT_TRUE(has_line(diff, "+25/tcp open  smtp")) << diff;
  EXPECT_EQ(diff.find("10.0.0.2"), std::string::npos) << diff;
}

TEST(ResultCollector, ReplaysSortedByHostThenPort) {
  class Recorder final : public OutputFormat {
   public:
    void begin(const ScanInfo&) override { ++begins; }
    void host(const Address& addr, std::span<const PortResult> ports, std::optional<Reason> /*discovered*/) override {
      hosts.push_back(addr);
      for (const auto& p : ports) {
        order.emplace_back(p.proto, p.port);
      }
      order.emplace_back(Protocol::kTcp, 0);  // host separator
    }
    void end(const ScanInfo&) override { ++ends; }
    std::vector<Address> hosts;
    std::vector<std::pair<Protocol, uint16_t>> order;
    int begins = 0;
    int ends = 0;
  };
  std::vector<PortResult> all = {
      res(kHostC, 80, PortState::kClosed, Reason::kConnRefused),
      res(kHostB, 9, PortState::kFiltered, Reason::kNoResponse),
      res(kHostA, 53, PortState::kOpenFiltered, Reason::kNoResponse, Protocol::kUdp),
      res(kHostA, 443, PortState::kOpen, Reason::kSynAck),
      res(kHostA, 7, PortState::kClosed, Reason::kPortUnreach, Protocol::kUdp),
      res(kHostA, 22, PortState::kClosed, Reason::kConnRefused),
      res(kHostC, 22, PortState::kOpen, Reason::kSynAck),
  };
  std::mt19937 rng(1);
  std::shuffle(all.begin(), all.end(), rng);
  ResultCollector rc;
  for (const auto& r : all) {
    rc.add(r);
  }
  EXPECT_EQ(rc.hosts_with_results(), 3U);
  EXPECT_EQ(rc.hosts_up(), 2U);  // B has only a filtered port

  Recorder r1;
  Recorder r2;
  OutputFormat* outs[] = {&r1, &r2};
  rc.replay(make_info(), outs);
  for (const Recorder* r : {&r1, &r2}) {
    EXPECT_EQ(r->hosts, (std::vector<Address>{kHostA, kHostB, kHostC}));
    using P = std::pair<Protocol, uint16_t>;
    std::vector<P> expected = {{Protocol::kTcp, 22}, {Protocol::kTcp, 443}, {Protocol::kUdp, 7}, {Protocol::kUdp, 53},
                               {Protocol::kTcp, 0},  {Protocol::kTcp, 9},   {Protocol::kTcp, 0}, {Protocol::kTcp, 22},
                               {Protocol::kTcp, 80}, {Protocol::kTcp, 0}};
    EXPECT_EQ(r->order, expected);
    EXPECT_EQ(r->begins, 0);  // replay never calls begin() or end()
    EXPECT_EQ(r->ends, 0);
  }
}

TEST(ResultCollector, EmptyReplaysNothing) {
  ResultCollector rc;
  EXPECT_EQ(rc.hosts_with_results(), 0U);
  EXPECT_EQ(rc.hosts_up(), 0U);
  rc.replay(make_info(), {});
}

}  // namespace
}  // namespace linerate::scan
