// Request ids: which X-Request-Id values are kept, and the shape and uniqueness of made-up ids.
#include "request_id.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

namespace hs {
namespace {

TEST(RequestIds, KeepsOneTo128BytesOfPrintableAscii) {
  EXPECT_TRUE(RequestIds::sane("a"));
  EXPECT_TRUE(RequestIds::sane("q\"uo\\te with spaces ~"));
  EXPECT_TRUE(RequestIds::sane(std::string(128, 'x')));
  EXPECT_FALSE(RequestIds::sane(""));
  EXPECT_FALSE(RequestIds::sane(std::string(129, 'x')));
  EXPECT_FALSE(RequestIds::sane("tab\there"));
  EXPECT_FALSE(RequestIds::sane("del\x7f"));
  EXPECT_FALSE(RequestIds::sane("caf\xc3\xa9"));
  EXPECT_FALSE(RequestIds::sane(std::string("nul\0", 4)));
}

TEST(RequestIds, MakesUpThirtyTwoHexDigitsWhereTheClientsIdIsNotSane) {
  RequestIds ids;
  EXPECT_EQ(ids.choose("mine"), "mine");
  std::string made(ids.choose("caf\xc3\xa9"));
  EXPECT_TRUE(std::regex_match(made, std::regex("[0-9a-f]{32}"))) << made;
  EXPECT_EQ(made.substr(16), "0000000000000001");
}

TEST(RequestIds, NeverRepeatsWithinOneAndDrawsAnotherPrefixForAnother) {
  RequestIds a, b;
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(seen.insert(std::string(a.next())).second);
    EXPECT_TRUE(seen.insert(std::string(b.next())).second);
  }
  // Two workers (or two runs) share a prefix with probability 2^-64.
  EXPECT_NE(std::string(a.next()).substr(0, 16), std::string(b.next()).substr(0, 16));
}

}  // namespace
}  // namespace hs
