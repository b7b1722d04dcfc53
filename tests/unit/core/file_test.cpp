// tests/unit/core/file_test.cpp — read_file_capped: whole small files, one-line
// errors for a missing file, a directory and a file over the cap.
#include "core/file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace linerate::core {
namespace {

std::string temp_file(const std::string& content) {
  char tmpl[] = "/tmp/lr_file_test_XXXXXX";
  int fd = ::mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  ::close(fd);
  std::ofstream(tmpl, std::ios::binary) << content;
  return tmpl;
}

TEST(ReadFileCapped, ReadsTheWholeFileAcrossChunks) {
  std::string content(200'000, 'x');
  content[0] = '\n';
  content.back() = '\0';
  std::string path = temp_file(content);
  auto text = read_file_capped(path, 1 << 20);
  ASSERT_TRUE(text) << text.error().message();
  EXPECT_EQ(*text, content);
  std::remove(path.c_str());
}

TEST(ReadFileCapped, ErrorsNameTheFileOnOneLine) {
  std::string path = temp_file(std::string(1001, 'a'));
  auto big = read_file_capped(path, 1000);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("larger than 1000 bytes"), std::string::npos) << big.error().message();
  EXPECT_TRUE(read_file_capped(path, 1001));
  std::remove(path.c_str());

  auto missing = read_file_capped("/nonexistent/dir/file\nname", 10);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("cannot open '/nonexistent/dir/file\\nname'"), std::string::npos)
      << missing.error().message();
  auto dir = read_file_capped("/tmp", 10);
  EXPECT_FALSE(dir);
}

}  // namespace
}  // namespace linerate::core
