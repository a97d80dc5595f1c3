#include "bytes.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hs {
namespace {

// Every length the inline paths cover and past them, a difference at every position: the
// overlapping-word comparisons must see each byte, the first and the last included. Buffers of
// exactly n bytes, so that AddressSanitizer (tests/ci/sanitize.sh) sees any read past them.
TEST(EqualBytes, SeesADifferenceAtEveryPositionOfEveryLength) {
  for (size_t n = 0; n <= 40; ++n) {
    std::vector<char> a(n);
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + i % 26);
    std::vector<char> b = a;
    EXPECT_TRUE(equal_bytes(a.data(), b.data(), n)) << "length " << n;
    for (size_t i = 0; i < n; ++i) {
      std::vector<char> c = a;
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
    std::vector<char> from(n);
    for (size_t i = 0; i < n; ++i) from[i] = static_cast<char>('A' + i % 26);
    std::string to(n + 2, '#');
    char* end = copy_bytes(to.data() + 1, {from.data(), n});
    EXPECT_EQ(end, to.data() + 1 + n) << "length " << n;
    EXPECT_EQ(to, "#" + std::string(from.data(), n) + "#") << "length " << n;  // nothing around
  }
}

}  // namespace
}  // namespace hs
