// tests/fuzz/address_fuzz.cpp — parse_ip and split_host_port on arbitrary text.
//
// Properties: errors quote the input; an accepted address prints to text that parses
// back to the same host; an accepted host:port has a host and a port in 1..65535.
// resolve() is not fuzzed: it may ask DNS.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/address.hpp"
#include "core/syslog.hpp"
#include "fuzz_check.hpp"

namespace {

using namespace linerate::core;

void check_error(const Error& e, std::string_view text) {
  std::string msg = e.message();
  LR_FUZZ_CHECK(!msg.empty());
  LR_FUZZ_CHECK(msg.find("'" + std::string(text) + "'") != std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  auto ip = parse_ip(text, 2000);
  if (ip) {
    LR_FUZZ_CHECK(ip->port() == 2000);
    std::string printed = ip->ip();
    auto again = parse_ip(printed, 1);
    LR_FUZZ_CHECK(again.has_value());
    LR_FUZZ_CHECK(again->same_host(*ip));
    LR_FUZZ_CHECK(again->ip() == printed);
    std::string full = ip->to_string();
    LR_FUZZ_CHECK(full.size() > printed.size() && full.substr(full.size() - 5) == ":2000");
  } else {
    check_error(ip.error(), text);
  }

  auto hp = split_host_port(text, 514);
  if (hp) {
    LR_FUZZ_CHECK(!hp->first.empty());
    LR_FUZZ_CHECK(hp->second >= 1);
  } else {
    check_error(hp.error(), text);
  }
  return 0;
}
