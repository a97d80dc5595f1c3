#include "files/content_coding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace hs::static_files {
namespace {

TEST(ContentCoding, ReadsQualitiesOfNamedCodingsAndTheWildcard) {
  EXPECT_EQ(coding_quality("gzip", "gzip"), 1000u);
  EXPECT_EQ(coding_quality("GZIP", "gzip"), 1000u);
  EXPECT_EQ(coding_quality("x-gzip", "gzip"), 1000u);
  EXPECT_EQ(coding_quality("gzip;q=0.5", "gzip"), 500u);
  EXPECT_EQ(coding_quality("gzip ; q = 0.25 ", "gzip"), 250u);
  EXPECT_EQ(coding_quality("gzip;q=0", "gzip"), 0u);
  EXPECT_EQ(coding_quality("gzip;q=0.000", "gzip"), 0u);
  EXPECT_EQ(coding_quality("gzip;q=1.000", "gzip"), 1000u);
  EXPECT_EQ(coding_quality("deflate, br", "gzip"), 0u);
  EXPECT_EQ(coding_quality("*", "br"), 1000u);
  EXPECT_EQ(coding_quality("*;q=0.1, br;q=0", "br"), 0u);  // its own entry wins over *
  EXPECT_EQ(coding_quality("*;q=0.1, br;q=0", "gzip"), 100u);
  EXPECT_EQ(coding_quality("gzip;q=2", "gzip"), 0u);       // malformed: says nothing
  EXPECT_EQ(coding_quality("gzip;q=0.5555", "gzip"), 0u);  // four decimals: malformed
  EXPECT_EQ(coding_quality("gzip;level=9", "gzip"), 0u);
  EXPECT_EQ(coding_quality("", "gzip"), 0u);
  EXPECT_EQ(coding_quality(",,gzip,,", "gzip"), 1000u);
}

TEST(ContentCoding, PrefersTheHigherQualityAndBrotliOnATie) {
  auto order = [](std::string_view field) {
    Coding c[2];
    size_t n = preferred_codings(field, c);
    std::string s;
    for (size_t i = 0; i < n; ++i) s += c[i] == Coding::br ? "br " : "gzip ";
    return s;
  };
  EXPECT_EQ(order("gzip, deflate, br"), "br gzip ");  // what browsers send
  EXPECT_EQ(order("gzip"), "gzip ");
  EXPECT_EQ(order("br"), "br ");
  EXPECT_EQ(order("br;q=0.5, gzip"), "gzip br ");
  EXPECT_EQ(order("br;q=0, gzip;q=0"), "");
  EXPECT_EQ(order("identity"), "");
  EXPECT_EQ(order("*"), "br gzip ");
  EXPECT_EQ(order("*, gzip;q=0"), "br ");
}

}  // namespace
}  // namespace hs::static_files
