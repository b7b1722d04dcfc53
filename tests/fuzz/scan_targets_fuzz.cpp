// tests/fuzz/scan_targets_fuzz.cpp — TargetSet parsing and range arithmetic on arbitrary text.
//
// Input: "<targets>|<exclude>" — the part before the first '|' is parsed as -iL text,
// the rest (if any) as an --exclude list. A fake resolver answers names without DNS
// (names starting with 'x' fail, others map to an address derived from the name).
// Properties: never crashes; an error is one non-empty line; on success size() agrees
// with nth() at both edges and in the middle, every nth(i) is contained, and after
// exclusion no excluded address remains.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/address.hpp"
#include "fuzz_check.hpp"
#include "scan/targets.hpp"

namespace {

using namespace linerate;

core::Result<std::vector<core::SockAddr>> fake_resolve(std::string_view name) {
  if (name.empty() || name[0] == 'x') {
    return core::fail("cannot resolve '" + std::string(name) + "': fuzz says no");
  }
  uint32_t h = 2166136261U;
  for (char c : name) {
    h = (h ^ static_cast<unsigned char>(c)) * 16777619U;
  }
  std::string text = (h & 1) ? "fd13::" + std::to_string(h % 10000)
                             : std::to_string(h >> 24) + "." + std::to_string((h >> 16) & 0xFF) + "." +
                                   std::to_string((h >> 8) & 0xFF) + "." + std::to_string(h & 0xFF);
  auto sa = core::parse_ip(text, 0);
  LR_FUZZ_CHECK(sa.has_value());
  return std::vector<core::SockAddr>{*sa};
}

void check_error(const core::Error& e) {
  std::string msg = e.message();
  LR_FUZZ_CHECK(!msg.empty());
  LR_FUZZ_CHECK(msg.find_first_of("\r\n") == std::string::npos);
}

void check_set(const scan::TargetSet& set) {
  uint64_t n = set.size();
  LR_FUZZ_CHECK(n >= set.size_v4() && n >= set.size_v6());
  LR_FUZZ_CHECK((n == 0) == set.empty());
  if (n == 0) {
    return;
  }
  scan::Address first = set.nth(0);
  scan::Address last = set.nth(n - 1);
  LR_FUZZ_CHECK(set.contains(first) && set.contains(last));
  LR_FUZZ_CHECK(!(last < first));
  if (!set.v4().empty()) {
    LR_FUZZ_CHECK(first == scan::Address::v4(set.v4().front().first));
  } else {
    LR_FUZZ_CHECK(first == scan::Address::v6(set.v6().front().first));
  }
  if (n != UINT64_MAX) {  // not saturated: nth(n-1) is the very last address
    if (!set.v6().empty()) {
      LR_FUZZ_CHECK(last == scan::Address::v6(set.v6().back().last));
    } else {
      LR_FUZZ_CHECK(last == scan::Address::v4(set.v4().back().last));
    }
  }
  for (uint64_t i : {n / 2, n / 3, n - n / 7 - 1, uint64_t{1} % n}) {
    LR_FUZZ_CHECK(set.contains(set.nth(i)));
  }
  // Sorted, disjoint, non-adjacent.
  for (size_t k = 1; k < set.v4().size(); ++k) {
    LR_FUZZ_CHECK(uint64_t{set.v4()[k - 1].last} + 1 < set.v4()[k].first);
  }
  for (size_t k = 1; k < set.v6().size(); ++k) {
    LR_FUZZ_CHECK(set.v6()[k - 1].last < set.v6()[k].first && set.v6()[k - 1].last + 1 < set.v6()[k].first);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  size_t bar = text.find('|');
  std::string_view targets = text.substr(0, bar);

  auto set = scan::TargetSet::parse_list_text(targets, fake_resolve);
  if (!set) {
    check_error(set.error());
    return 0;
  }
  check_set(*set);

  // The same text as one command-line token (no whitespace splitting) either parses or errs cleanly.
  std::vector<std::string> one{std::string(targets)};
  auto single = scan::TargetSet::parse(one, fake_resolve);
  if (single) {
    check_set(*single);
  } else {
    check_error(single.error());
  }

  if (bar == std::string_view::npos) {
    return 0;
  }
  auto ex = scan::TargetSet::parse_exclude_list(text.substr(bar + 1), fake_resolve);
  if (!ex) {
    check_error(ex.error());
    return 0;
  }
  check_set(*ex);
  uint64_t before = set->size();
  set->exclude(*ex);
  check_set(*set);
  LR_FUZZ_CHECK(set->size() <= before);
  if (!ex->empty()) {
    uint64_t m = ex->size();
    for (uint64_t i : {uint64_t{0}, m / 2, m - 1}) {
      LR_FUZZ_CHECK(!set->contains(ex->nth(i)));
    }
  }
  return 0;
}
