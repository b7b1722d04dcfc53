// Unit tests for core/csv: RFC 4180 quoting and the append-only file writer.
#include "core/csv.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace linerate::core {
namespace {

namespace fs = std::filesystem;

// A fresh directory under TMPDIR, removed with everything in it at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "linerate-csv-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
    }
    path_ = tmpl;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(CsvLine, PlainFieldsAreNotQuoted) { EXPECT_EQ(csv_line({"a", "b c", "1.5"}), "a,b c,1.5\n"); }

TEST(CsvLine, EmptyRowIsJustNewline) {
  EXPECT_EQ(csv_line({}), "\n");
  EXPECT_EQ(csv_line({"", ""}), ",\n");
}

TEST(CsvLine, QuotesFieldWithComma) { EXPECT_EQ(csv_line({"a,b", "c"}), "\"a,b\",c\n"); }

TEST(CsvLine, DoublesEmbeddedQuotes) {
  EXPECT_EQ(csv_line({"say \"hi\""}), "\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(csv_line({"\""}), "\"\"\"\"\n");
}

TEST(CsvLine, QuotesNewlinesAndCarriageReturns) {
  EXPECT_EQ(csv_line({"line1\nline2", "x"}), "\"line1\nline2\",x\n");
  EXPECT_EQ(csv_line({"a\rb"}), "\"a\rb\"\n");
}

TEST(CsvAppender, WritesHeaderOnceAcrossReopens) {
  TempDir dir;
  std::string path = (dir.path() / "results.csv").string();
  const std::vector<std::string> header{"time", "peer", "rate_bps"};
  {
    auto csv = CsvAppender::open(path, header);
    ASSERT_TRUE(csv.has_value()) << csv.error().message();
    ASSERT_TRUE(csv->append({"1", "192.0.2.1", "1000"}).has_value());
  }
  {
    auto csv = CsvAppender::open(path, header);
    ASSERT_TRUE(csv.has_value()) << csv.error().message();
    ASSERT_TRUE(csv->append({"2", "a,b", "2000"}).has_value());
    ASSERT_TRUE(csv->append({"3", "x", "3000"}).has_value());
  }
  EXPECT_EQ(read_all(path),
            "time,peer,rate_bps\n"
            "1,192.0.2.1,1000\n"
            "2,\"a,b\",2000\n"
            "3,x,3000\n");
}

TEST(CsvAppender, KeepsExistingContentOfNonEmptyFile) {
  TempDir dir;
  fs::path path = dir.path() / "old.csv";
  {
    std::ofstream out(path, std::ios::binary);
    out << "existing,header\nold,row\n";
  }
  auto csv = CsvAppender::open(path.string(), {"new", "header"});
  ASSERT_TRUE(csv.has_value()) << csv.error().message();
  ASSERT_TRUE(csv->append({"new", "row"}).has_value());
  EXPECT_EQ(read_all(path), "existing,header\nold,row\nnew,row\n");
}

TEST(CsvAppender, SurvivesMove) {
  TempDir dir;
  std::string path = (dir.path() / "moved.csv").string();
  auto csv = CsvAppender::open(path, {"h"});
  ASSERT_TRUE(csv.has_value()) << csv.error().message();
  CsvAppender moved(std::move(*csv));
  ASSERT_TRUE(moved.append({"v"}).has_value());
  EXPECT_EQ(read_all(path), "h\nv\n");
}

TEST(CsvAppender, OpenFailureNamesThePath) {
  TempDir dir;
  std::string path = (dir.path() / "no-such-dir" / "x.csv").string();
  auto csv = CsvAppender::open(path, {"h"});
  ASSERT_FALSE(csv.has_value());
  EXPECT_NE(csv.error().message().find(path), std::string::npos) << csv.error().message();
}

}  // namespace
}  // namespace linerate::core
