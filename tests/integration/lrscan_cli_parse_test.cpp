// tests/integration/lrscan_cli_parse_test.cpp — the lrscan command line (nmap
// grammar) as a pure function: flags mean what nmap means, bad input is one line.
#include <gtest/gtest.h>

#include "cli.hpp"

namespace linerate::scan::cli {
namespace {

Parsed parse(std::vector<std::string> args) { return parse_cli(args); }

TEST(LrscanCli, NmapStyleFlagsMapToTheConfig) {
  Parsed p = parse({"-sT", "-p-", "-T4", "--open", "--reason", "-vv", "10.213.0.2", "fd13::/124"});
  ASSERT_EQ(p.action, Parsed::Action::kRun) << p.text;
  const Options& o = p.options;
  EXPECT_EQ(o.targets, (std::vector<std::string>{"10.213.0.2", "fd13::/124"}));
  EXPECT_EQ(o.ports, "-");
  EXPECT_EQ(o.timing_template, 4);
  EXPECT_EQ(o.scan.max_rtt_timeout.count(), 1250);  // nmap's -T4 values
  EXPECT_EQ(o.scan.max_retries, 6U);
  EXPECT_TRUE(o.output.open_only);
  EXPECT_TRUE(o.output.reason);
  EXPECT_EQ(o.output.verbosity, 2);
}

TEST(LrscanCli, ExplicitFlagsWinOverTheTemplateWhereverTheyStand) {
  Parsed p = parse({"--max-retries", "1", "-T5", "--max-rtt-timeout=2s", "h"});
  ASSERT_EQ(p.action, Parsed::Action::kRun) << p.text;
  EXPECT_EQ(p.options.scan.max_retries, 1U);
  EXPECT_EQ(p.options.scan.max_rtt_timeout.count(), 2000);
}

TEST(LrscanCli, OutputFlagsTakeTheNextWordAndOaExpandsToThree) {
  Parsed p = parse({"-oA", "scan", "-oJ", "-", "-oX", "x.xml", "h"});
  ASSERT_EQ(p.action, Parsed::Action::kRun) << p.text;
  using P = std::pair<std::string, std::string>;
  EXPECT_EQ(
      p.options.outputs,
      (std::vector<P>{
          {"normal", "scan.nmap"}, {"grepable", "scan.gnmap"}, {"xml", "scan.xml"}, {"json", "-"}, {"xml", "x.xml"}}));
}

TEST(LrscanCli, PortSelectionFlags) {
  EXPECT_EQ(parse({"-F", "h"}).options.top_ports, 100U);
  EXPECT_EQ(parse({"--top-ports", "250", "h"}).options.top_ports, 250U);
  EXPECT_EQ(parse({"-p22,80", "h"}).options.ports, "22,80");
  EXPECT_EQ(parse({"--exclude-ports", "T:22", "h"}).options.exclude_ports, "T:22");
  EXPECT_EQ(parse({"-p", "22", "-F", "h"}).action, Parsed::Action::kUsageError);
}

TEST(LrscanCli, TargetsFromFilesAndExclusions) {
  Parsed p = parse({"-iL", "-", "--exclude", "10.0.0.1,10.0.0.2", "--excludefile", "ex.txt"});
  ASSERT_EQ(p.action, Parsed::Action::kRun) << p.text;
  EXPECT_EQ(p.options.input_list, "-");
  EXPECT_EQ(p.options.exclude, "10.0.0.1,10.0.0.2");
  EXPECT_EQ(p.options.exclude_file, "ex.txt");
}

TEST(LrscanCli, BadInputIsOneLineNamingTheToken) {
  for (const auto& [args, needle] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"-iR", "10"}, "-iR"},
           {{"--frobnicate", "h"}, "--frobnicate"},
           {{"-T9", "h"}, "'9'"},
           {{"--max-retries", "x", "h"}, "'x'"},
           {{"--max-rate", "0", "h"}, "--max-rate"},
           {{"--min-rate", "10", "--max-rate", "5", "h"}, "--min-rate"},
           {{"--host-timeout", "soon", "h"}, "--host-timeout"},
           {{"-sn", "-Pn", "h"}, "-sn"},
           {{"-PU", "h"}, "-PU"},
           {{"-sn", "--shard", "1/2", "h"}, "--shard"},
           {{"-PSx", "h"}, "-PSx"},
           {{"-sX", "h"}, "-sX"},
           {{"-sS", "-sT", "h"}, "-sS and -sT"},
           {{"--shard", "0/3", "h"}, "'0/3'"},
           {{"--shard", "4/3", "h"}, "'4/3'"},
           {{"--shard", "1-3", "h"}, "'1-3'"},
           {{"--rate", "0", "h"}, "--rate"},
           {{"--rate", "fast", "h"}, "'fast'"},
           {{"--batch-size", "0", "h"}, "--batch-size"},
           {{"-g", "70000", "h"}, "'70000'"},
           {{"--ttl", "0", "h"}, "--ttl"},
           {{"-S", "not-an-ip", "h"}, "'not-an-ip'"},
           {{"-e", "a/b", "h"}, "-e"},
           {{"-sT", "--shard", "1/2", "h"}, "--shard"},
           {{"-sT", "--resume", "f", "h"}, "--resume"},
           {{"-oX"}, "-oX"},
           {{"-p"}, "-p"},
           {{}, "no targets"},
           {{"-"}, "'-'"},
       }) {
    Parsed p = parse(args);
    EXPECT_EQ(p.action, Parsed::Action::kUsageError) << ::testing::PrintToString(args);
    EXPECT_EQ(p.exit_code, kExitUsage);
    EXPECT_NE(p.text.find(needle), std::string::npos) << p.text;
    EXPECT_EQ(p.text.find('\n'), std::string::npos) << p.text;
  }
}

TEST(LrscanCli, SynScanFlags) {
  Parsed p = parse({"-sS",   "--rate",        "2500.5", "--batch-size", "16",   "--shard", "2/3",      "-g",
                    "53",    "--ttl",         "9",      "-e",           "lrs0", "-S",      "10.0.0.1", "--resume",
                    "r.txt", "--max-retries", "3",      "--seed",       "7",    "h"});
  ASSERT_EQ(p.action, Parsed::Action::kRun) << p.text;
  const Options& o = p.options;
  EXPECT_EQ(o.scan_type, ScanType::kSyn);
  EXPECT_DOUBLE_EQ(o.syn.rate_pps, 2500.5);
  EXPECT_TRUE(o.explicit_rate);
  EXPECT_EQ(o.syn.batch_size, 16U);
  EXPECT_EQ(o.syn.shard.index, 1U);  // 1-based on the command line
  EXPECT_EQ(o.syn.shard.count, 3U);
  EXPECT_EQ(o.syn.source_port, 53);
  EXPECT_EQ(o.syn.ttl, 9);
  EXPECT_EQ(o.syn.iface, "lrs0");
  EXPECT_EQ(o.source_addr, "10.0.0.1");
  EXPECT_EQ(o.resume_file, "r.txt");
  EXPECT_EQ(o.syn.max_retries, 3U);
  EXPECT_EQ(o.syn.seed, 7U);
  // Neither -sS nor -sT: main picks by privilege. --max-rate sets the SYN rate
  // too; without either the default rate applies and the rate is not explicit.
  EXPECT_EQ(parse({"h"}).options.scan_type, ScanType::kDefault);
  EXPECT_TRUE(parse({"-sSU", "h"}).options.udp_scan);
  EXPECT_EQ(parse({"-sSU", "h"}).options.scan_type, ScanType::kSyn);
  EXPECT_TRUE(parse({"-sU", "h"}).options.udp_scan);
  EXPECT_EQ(parse({"-sU", "h"}).options.scan_type, ScanType::kDefault);
  EXPECT_EQ(parse({"-sUT", "h"}).options.scan_type, ScanType::kConnect);
  Parsed d = parse({"-sn", "-PE", "-PS22,443", "-PA", "-PR", "h"});
  ASSERT_EQ(d.action, Parsed::Action::kRun) << d.text;
  EXPECT_TRUE(d.options.ping_only);
  using K = DiscoveryProbe::Kind;
  EXPECT_EQ(d.options.ping_probes,
            (std::vector<DiscoveryProbe>{{K::kEcho, 0}, {K::kSyn, 22}, {K::kSyn, 443}, {K::kAck, 80}, {K::kArp, 0}}));
  EXPECT_DOUBLE_EQ(parse({"--max-rate", "900", "h"}).options.syn.rate_pps, 900);
  EXPECT_TRUE(parse({"--max-rate", "900", "h"}).options.explicit_rate);
  EXPECT_FALSE(parse({"h"}).options.explicit_rate);
  EXPECT_DOUBLE_EQ(parse({"-T2", "h"}).options.syn.rate_pps, 2.5);
  EXPECT_DOUBLE_EQ(parse({"-sT", "--rate", "300", "h"}).options.scan.max_rate_pps, 300);  // -sT honours --rate
}

TEST(LrscanCli, HelpAndVersion) {
  Parsed h = parse({"--help"});
  EXPECT_EQ(h.action, Parsed::Action::kPrint);
  EXPECT_NE(h.text.find("Exit status"), std::string::npos);
  EXPECT_EQ(parse({"-V"}).action, Parsed::Action::kPrint);
}

}  // namespace
}  // namespace linerate::scan::cli
