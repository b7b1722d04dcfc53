// scan/resume.hpp — the --resume journal of a stateless scan.
//
// Why a journal and not just a position: a stateless scan learns a pair's state
// only when its reply arrives, and a pair that is still silent when the scan is
// interrupted must be retried by the next run. So the file records every answer
// as it is learned, plus how far the first walk got; the resumed run loads the
// answers (reporting them again, so its output is the whole scan), continues
// the first walk at the saved position, and its retry rounds then cover every
// pair still unanswered, from both runs. A killed scan loses at most the last
// second (the journal is appended and flushed every second).
//
// Format (text, append-only, one record per line):
//   lrscan-resume-2 FINGERPRINT PAIRS      header: which scan (see fingerprint) and its size
//   A Y STATE REASON                       pair Y answered (PortState, Reason as numbers)
//   P POSITION ROUND                       checkpoint: first-walk position, round
// A torn last line (a kill mid-write) is ignored; anything else malformed is an
// error naming the line.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "scan/result.hpp"

namespace linerate::scan {

struct JournalAnswer {
  uint64_t y = 0;  // pair index, host * ports + port index
  PortState state = PortState::kFiltered;
  Reason reason = Reason::kNoResponse;
};

struct JournalState {
  uint64_t fingerprint = 0;
  uint64_t pairs = 0;
  uint64_t position = 0;  // first-walk position within the shard
  unsigned round = 0;
  std::vector<JournalAnswer> answers;
};

/// Parses journal text (bounded: pairs and y are checked, at most `max_answers`
/// answers are kept). Errors name the line: "line 7: bad answer record".
[[nodiscard]] core::Result<JournalState> parse_journal(std::string_view text, uint64_t max_answers = uint64_t{1} << 32);

class ResumeJournal {
 public:
  /// Opens `path` for the scan with this fingerprint and size. An existing
  /// journal of the same scan is loaded (state()); one of another scan is an
  /// error telling the user what to do; a missing file starts a new journal.
  [[nodiscard]] static core::Result<ResumeJournal> open(const std::string& path, uint64_t fingerprint, uint64_t pairs);
  ResumeJournal(ResumeJournal&& o) noexcept;
  ResumeJournal& operator=(ResumeJournal&&) = delete;
  ResumeJournal(const ResumeJournal&) = delete;
  ResumeJournal& operator=(const ResumeJournal&) = delete;
  ~ResumeJournal();

  /// What the earlier runs saved (empty answers and position 0 for a new one).
  [[nodiscard]] const JournalState& state() const { return loaded_; }
  [[nodiscard]] bool resumed() const { return resumed_; }

  /// Buffers one answer; written at the next checkpoint().
  void record(const JournalAnswer& a);
  /// Appends the buffered answers and a checkpoint record, then flushes to the
  /// kernel (fdatasync: the file outlives a crash of the machine, too).
  core::Result<void> checkpoint(uint64_t position, unsigned round);
  /// The scan completed: the journal is removed.
  void finish();

 private:
  ResumeJournal() = default;
  std::string path_;
  std::FILE* file_ = nullptr;
  JournalState loaded_;
  bool resumed_ = false;
  std::string pending_;
};

}  // namespace linerate::scan
