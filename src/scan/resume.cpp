// scan/resume.cpp — see resume.hpp.
#include "scan/resume.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>
#include <utility>

namespace linerate::scan {
namespace {

constexpr std::string_view kMagic = "lrscan-resume-2";

// Splits a line into space-separated fields (at most 5; more is an error).
bool fields(std::string_view line, std::vector<std::string_view>& out) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') {
      ++i;
    }
    if (i == line.size()) {
      break;
    }
    std::size_t j = line.find(' ', i);
    if (j == std::string_view::npos) {
      j = line.size();
    }
    if (out.size() == 5) {
      return false;
    }
    out.push_back(line.substr(i, j - i));
    i = j;
  }
  return true;
}

bool number(std::string_view s, uint64_t& v) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && end == s.data() + s.size() && !s.empty();
}

}  // namespace

core::Result<JournalState> parse_journal(std::string_view text, uint64_t max_answers) {
  JournalState st;
  std::vector<std::string_view> f;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) {
      break;  // a torn last line: the write that would have finished it never happened
    }
    std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    auto bad = [&](const std::string& what) { return core::fail("line " + std::to_string(line_no) + ": " + what); };
    if (!fields(line, f) || f.empty()) {
      return bad("malformed record");
    }
    if (line_no == 1) {
      if (f.size() != 3 || f[0] != kMagic || !number(f[1], st.fingerprint) || !number(f[2], st.pairs)) {
        return bad("not an lrscan resume journal (expected '" + std::string(kMagic) + " FINGERPRINT PAIRS')");
      }
      continue;
    }
    if (f[0] == "A") {
      uint64_t y = 0;
      uint64_t state = 0;
      uint64_t reason = 0;
      if (f.size() != 4 || !number(f[1], y) || !number(f[2], state) || !number(f[3], reason) || y >= st.pairs ||
          state > static_cast<uint64_t>(PortState::kOpenFiltered) ||
          reason_name(static_cast<Reason>(static_cast<uint8_t>(reason))) == "unknown" || reason > 255) {
        return bad("bad answer record (expected 'A PAIR STATE REASON' with PAIR below " + std::to_string(st.pairs) +
                   ")");
      }
      if (st.answers.size() >= max_answers) {
        return bad("more answers than the scan has pairs");
      }
      st.answers.push_back({y, static_cast<PortState>(state), static_cast<Reason>(reason)});
      continue;
    }
    if (f[0] == "P") {
      uint64_t position = 0;
      uint64_t round = 0;
      if (f.size() != 3 || !number(f[1], position) || !number(f[2], round) || position > st.pairs || round > 1000) {
        return bad("bad checkpoint record (expected 'P POSITION ROUND')");
      }
      st.position = position;
      st.round = static_cast<unsigned>(round);
      continue;
    }
    return bad("unknown record '" + std::string(f[0].substr(0, 8)) + "'");
  }
  if (line_no == 0) {
    return core::fail("line 1: empty journal");
  }
  return st;
}

core::Result<ResumeJournal> ResumeJournal::open(const std::string& path, uint64_t fingerprint, uint64_t pairs) {
  ResumeJournal j;
  j.path_ = path;
  j.loaded_.fingerprint = fingerprint;
  j.loaded_.pairs = pairs;
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    auto st = parse_journal(ss.str(), pairs);
    if (!st) {
      return core::fail("--resume " + path + ": " + st.error().message() + " (remove the file to start over)");
    }
    if (st->fingerprint != fingerprint || st->pairs != pairs) {
      return core::fail("--resume " + path +
                        ": it holds another scan (different targets, ports, --seed or --shard); remove it or choose "
                        "another file");
    }
    j.loaded_ = std::move(*st);
    j.resumed_ = true;
  }
  j.file_ = std::fopen(path.c_str(), j.resumed_ ? "ab" : "wb");
  if (j.file_ == nullptr) {
    return core::errno_error("--resume " + path + ": cannot write");
  }
  if (!j.resumed_) {
    std::fprintf(j.file_, "%s %llu %llu\n", std::string(kMagic).c_str(), static_cast<unsigned long long>(fingerprint),
                 static_cast<unsigned long long>(pairs));
    std::fflush(j.file_);
  }
  return j;
}

ResumeJournal::ResumeJournal(ResumeJournal&& o) noexcept
    : path_(std::move(o.path_)),
      file_(std::exchange(o.file_, nullptr)),
      loaded_(std::move(o.loaded_)),
      resumed_(o.resumed_),
      pending_(std::move(o.pending_)) {}

ResumeJournal::~ResumeJournal() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

void ResumeJournal::record(const JournalAnswer& a) {
  pending_ += "A " + std::to_string(a.y) + " " + std::to_string(static_cast<unsigned>(a.state)) + " " +
              std::to_string(static_cast<unsigned>(a.reason)) + "\n";
}

core::Result<void> ResumeJournal::checkpoint(uint64_t position, unsigned round) {
  if (file_ == nullptr) {
    return {};
  }
  pending_ += "P " + std::to_string(position) + " " + std::to_string(round) + "\n";
  if (std::fwrite(pending_.data(), 1, pending_.size(), file_) != pending_.size() || std::fflush(file_) != 0) {
    return core::errno_error("--resume " + path_ + ": write");
  }
  pending_.clear();
  (void)::fdatasync(::fileno(file_));
  return {};
}

void ResumeJournal::finish() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  std::remove(path_.c_str());
}

}  // namespace linerate::scan
