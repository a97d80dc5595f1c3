#include "bytes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hs {
namespace {

// Every length the inline paths cover and past them, a difference at every position: the
// overlapping-word comparisons must see each byte, the first and the last included.
TEST(EqualBytes, SeesADifferenceAtEveryPositionOfEveryLength) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x'), b(n, 'x');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
    b = a;
    EXPECT_TRUE(equal_bytes(a.data(), b.data(), n)) << "length " << n;
    for (size_t i = 0; i < n; ++i) {
      std::string c = a;
      c[i] ^= 0x20;
      EXPECT_FALSE(equal_bytes(a.data(), c.data(), n)) << "length " << n << ", byte " << i;
    }
  }
}

TEST(EqualBytes, ComparesViewsOfDifferentLengthsAsDifferent) {
  EXPECT_TRUE(equal_bytes(std::string_view("Date"), std::string_view("Date")));
  EXPECT_TRUE(equal_bytes(std::string_view(), std::string_view("")));
  EXPECT_FALSE(equal_bytes(std::string_view("Date"), std::string_view("Dates")));
  EXPECT_FALSE(equal_bytes(std::string_view("text/plain"), std::string_view("text/html!")));
}

TEST(CopyBytes, CopiesEveryLengthExactlyAndReturnsTheEnd) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string from(n, ' ');
    for (size_t i = 0; i < n; ++i) from[i] = static_cast<char>('A' + i % 26);
    std::string to(n + 2, '#');
    char* end = copy_bytes(to.data() + 1, from);
    EXPECT_EQ(end, to.data() + 1 + n) << "length " << n;
    EXPECT_EQ(to, "#" + from + "#") << "length " << n;  // nothing written around it
  }
}

}  // namespace
}  // namespace hs
