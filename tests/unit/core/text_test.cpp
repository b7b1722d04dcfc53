// Unit tests of core/text.hpp: untrusted text made safe for one-line messages
// and for markup.
#include "core/text.hpp"

#include <string>

#include <gtest/gtest.h>

namespace linerate::core {
namespace {

TEST(Text, OneLineEscapesControlCharacters) {
  EXPECT_EQ(one_line("a\nb\tc\r"), "a\\nb\\tc\\r");
  EXPECT_EQ(one_line(std::string("x\0y\x7f", 4)), "x\\x00y\\x7f");
}

TEST(Text, QuotedIsCutAndQuoted) {
  EXPECT_EQ(quoted("abc"), "'abc'");
  EXPECT_EQ(quoted(std::string(100, 'z'), 4), "'zzzz...'");
  EXPECT_EQ(quoted("a\nb"), "'a\\nb'");
}

TEST(Text, MarkupEscapeCoversElementsAndAttributes) {
  EXPECT_EQ(markup_escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
  EXPECT_EQ(markup_escape("plain 1.2.3.4"), "plain 1.2.3.4");
}

}  // namespace
}  // namespace linerate::core
