// tests/unit/scan/resume_test.cpp — the --resume journal (scan/resume.hpp): what
// one run records, the next run reads back; torn and foreign files.
#include "scan/resume.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace linerate::scan {
namespace {

std::string temp_path() {
  char tmpl[] = "/tmp/lrscan_resume_XXXXXX";
  int fd = ::mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::remove(tmpl);  // the journal creates it
  return tmpl;
}

TEST(ResumeJournal, AnswersAndPositionSurviveIntoTheNextRun) {
  const std::string path = temp_path();
  {
    auto j = ResumeJournal::open(path, 77, 1000);
    ASSERT_TRUE(j) << j.error().message();
    EXPECT_FALSE(j->resumed());
    j->record({5, PortState::kOpen, Reason::kSynAck});
    j->record({999, PortState::kClosed, Reason::kReset});
    ASSERT_TRUE(j->checkpoint(400, 0));
    j->record({6, PortState::kFiltered, Reason::kHostUnreach});  // buffered, never checkpointed: lost
    // The process "dies" here, without finish().
  }
  auto j = ResumeJournal::open(path, 77, 1000);
  ASSERT_TRUE(j) << j.error().message();
  EXPECT_TRUE(j->resumed());
  const JournalState& st = j->state();
  EXPECT_EQ(st.position, 400U);
  EXPECT_EQ(st.round, 0U);
  ASSERT_EQ(st.answers.size(), 2U);
  EXPECT_EQ(st.answers[0].y, 5U);
  EXPECT_EQ(st.answers[0].state, PortState::kOpen);
  EXPECT_EQ(st.answers[1].y, 999U);
  EXPECT_EQ(st.answers[1].reason, Reason::kReset);
  // The second run appends; a third run sees both runs' records.
  j->record({7, PortState::kOpen, Reason::kSynAck});
  ASSERT_TRUE(j->checkpoint(1000, 1));
  auto again = ResumeJournal::open(path, 77, 1000);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->state().answers.size(), 3U);
  EXPECT_EQ(again->state().position, 1000U);
  EXPECT_EQ(again->state().round, 1U);
  again->finish();
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "finish() removes the journal";
}

TEST(ResumeJournal, AnotherScansJournalIsRefusedWithAHint) {
  const std::string path = temp_path();
  {
    auto j = ResumeJournal::open(path, 1, 10);
    ASSERT_TRUE(j);
    ASSERT_TRUE(j->checkpoint(3, 0));
  }
  auto other = ResumeJournal::open(path, 2, 10);
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().message().find("another scan"), std::string::npos) << other.error().message();
  auto bigger = ResumeJournal::open(path, 1, 11);
  EXPECT_FALSE(bigger);
  std::remove(path.c_str());
}

TEST(ParseJournal, TornLastLineIsIgnoredAndBadRecordsNameTheirLine) {
  auto torn = parse_journal("lrscan-resume-2 9 100\nA 1 0 0\nP 50 0\nA 2 0");
  ASSERT_TRUE(torn) << torn.error().message();
  EXPECT_EQ(torn->answers.size(), 1U);
  EXPECT_EQ(torn->position, 50U);

  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"", "empty"},
           {"hello\n", "line 1"},
           {"lrscan-resume-2 9 100\nA 100 0 0\n", "line 2"},         // pair out of range
           {"lrscan-resume-2 9 100\nA 1 0 0\nA 1 7 0\n", "line 3"},  // no such state
           {"lrscan-resume-2 9 100\nP 101 0\n", "line 2"},           // position beyond the scan
           {"lrscan-resume-2 9 100\nZ\n", "unknown record"},
           {"lrscan-resume-2 9 100\nA 1 0 0 0 0 0\n", "line 2"},
       }) {
    auto st = parse_journal(text);
    ASSERT_FALSE(st) << text;
    EXPECT_NE(st.error().message().find(needle), std::string::npos) << st.error().message();
  }
  auto capped = parse_journal("lrscan-resume-2 9 100\nA 1 0 0\nA 2 0 0\nA 3 0 0\n", 2);
  EXPECT_FALSE(capped);
}

}  // namespace
}  // namespace linerate::scan
