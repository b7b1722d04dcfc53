// tests/fuzz/resume_journal_fuzz.cpp — parse_journal (scan/resume.hpp) on
// arbitrary text, as a --resume file left by another run (or by anyone).
//
// Properties: never crashes or reads outside the input; an accepted journal has
// every answer's pair below its pair count, states and reasons that name
// themselves, and a position no larger than the pair count; at most max_answers
// answers are kept; and re-serialising an accepted journal parses back equal.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "scan/resume.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace linerate::scan;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr uint64_t kMax = 1000;
  auto st = parse_journal(text, kMax);
  if (!st) {
    LR_FUZZ_CHECK(!st.error().message().empty());
    LR_FUZZ_CHECK(st.error().message().find('\n') == std::string::npos);
    return 0;
  }
  LR_FUZZ_CHECK(st->answers.size() <= kMax);
  LR_FUZZ_CHECK(st->position <= st->pairs);
  std::string again = "lrscan-resume-2 " + std::to_string(st->fingerprint) + " " + std::to_string(st->pairs) + "\n";
  for (const JournalAnswer& a : st->answers) {
    LR_FUZZ_CHECK(a.y < st->pairs);
    LR_FUZZ_CHECK(state_name(a.state) != "unknown");
    LR_FUZZ_CHECK(reason_name(a.reason) != "unknown");
    again += "A " + std::to_string(a.y) + " " + std::to_string(static_cast<unsigned>(a.state)) + " " +
             std::to_string(static_cast<unsigned>(a.reason)) + "\n";
  }
  again += "P " + std::to_string(st->position) + " " + std::to_string(st->round) + "\n";
  auto back = parse_journal(again, kMax);
  LR_FUZZ_CHECK(back.has_value());
  LR_FUZZ_CHECK(back->fingerprint == st->fingerprint && back->pairs == st->pairs);
  LR_FUZZ_CHECK(back->answers.size() == st->answers.size());
  LR_FUZZ_CHECK(back->position == st->position && back->round == st->round);
  return 0;
}
