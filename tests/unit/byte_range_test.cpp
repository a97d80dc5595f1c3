#include "files/byte_range.hpp"

#include <gtest/gtest.h>

namespace hs::static_files {
namespace {

struct Case {
  const char* field;
  uint64_t size;
  RangeVerdict verdict;
  uint64_t first, length;  // for partial
};

std::string show(RangeVerdict v) {
  return v == RangeVerdict::whole ? "whole" : v == RangeVerdict::partial ? "partial" : "416";
}

template <size_t N>
void check(const Case (&cases)[N]) {
  for (const Case& c : cases) {
    ByteRange r{7, 7};
    RangeVerdict v = parse_range(c.field, c.size, 16, r);
    EXPECT_EQ(show(v), show(c.verdict)) << c.field;
    if (v == RangeVerdict::partial && c.verdict == RangeVerdict::partial) {
      EXPECT_EQ(r.first, c.first) << c.field;
      EXPECT_EQ(r.length, c.length) << c.field;
    }
  }
}

TEST(ByteRange, ReadsEachFormOfOneRangeAgainstTheLength) {
  const Case cases[] = {
      {"bytes=0-0", 100, RangeVerdict::partial, 0, 1},
      {"bytes=0-99", 100, RangeVerdict::partial, 0, 100},
      {"bytes=10-19", 100, RangeVerdict::partial, 10, 10},
      {"bytes=90-", 100, RangeVerdict::partial, 90, 10},      // open
      {"bytes=90-1000", 100, RangeVerdict::partial, 90, 10},  // last clipped
      {"bytes=-10", 100, RangeVerdict::partial, 90, 10},      // suffix
      {"bytes=-1000", 100, RangeVerdict::partial, 0, 100},    // suffix longer than the file
      {"BYTES=1-2", 100, RangeVerdict::partial, 1, 2},        // the unit in any case
      {"  bytes=1-2  ", 100, RangeVerdict::partial, 1, 2},
      {"bytes= 1-2 ", 100, RangeVerdict::partial, 1, 2},
      {"bytes=99-", 100, RangeVerdict::partial, 99, 1},
      {"bytes=100-", 100, RangeVerdict::unsatisfiable, 0, 0},
      {"bytes=100-200", 100, RangeVerdict::unsatisfiable, 0, 0},
      {"bytes=-0", 100, RangeVerdict::unsatisfiable, 0, 0},  // a suffix of no bytes
      {"bytes=99999999999999999999-", 100, RangeVerdict::unsatisfiable, 0, 0},  // saturates
      {"bytes=0-99999999999999999999", 100, RangeVerdict::partial, 0, 100},
      {"bytes=5-4", 100, RangeVerdict::whole, 0, 0},  // last before first: invalid, ignored
      {"bytes=a-4", 100, RangeVerdict::whole, 0, 0},
      {"bytes=1-b", 100, RangeVerdict::whole, 0, 0},
      {"bytes=-", 100, RangeVerdict::whole, 0, 0},
      {"bytes=", 100, RangeVerdict::whole, 0, 0},
      {"bytes=,", 100, RangeVerdict::whole, 0, 0},
      {"bytes=1", 100, RangeVerdict::whole, 0, 0},
      {"bytes=+1-2", 100, RangeVerdict::whole, 0, 0},
      {"items=0-1", 100, RangeVerdict::whole, 0, 0},  // another unit
      {"bytes 0-1", 100, RangeVerdict::whole, 0, 0},
      {"bytes=0-1", 0, RangeVerdict::whole, 0, 0},  // an empty file is sent whole
      // Beyond 4 GiB: 64-bit offsets.
      {"bytes=4294967296-", 5368709120, RangeVerdict::partial, 4294967296, 1073741824},
      {"bytes=-1", 5368709120, RangeVerdict::partial, 5368709119, 1},
  };
  check(cases);
}

TEST(ByteRange, MergesRangesThatOverlapOrTouchAndSendsSeveralPiecesWhole) {
  const Case cases[] = {
      {"bytes=0-4,5-9", 100, RangeVerdict::partial, 0, 10},     // touching
      {"bytes=5-9,0-6", 100, RangeVerdict::partial, 0, 10},     // overlapping, any order
      {"bytes=0-4, 2-3", 100, RangeVerdict::partial, 0, 5},     // contained
      {"bytes=0-1,,2-3", 100, RangeVerdict::partial, 0, 4},     // empty list elements
      {"bytes=0-1,200-300", 100, RangeVerdict::partial, 0, 2},  // the unsatisfiable one drops
      {"bytes=0-1,5-6", 100, RangeVerdict::whole, 0, 0},        // a gap: two pieces
      {"bytes=0-0,-1", 100, RangeVerdict::whole, 0, 0},
      {"bytes=200-,300-", 100, RangeVerdict::unsatisfiable, 0, 0},
      {"bytes=0-1,x", 100, RangeVerdict::whole, 0, 0},  // one bad spec spoils the field
  };
  check(cases);
}

TEST(ByteRange, AFieldWithMoreRangesThanTheBoundIsIgnored) {
  std::string field = "bytes=0-0";
  for (int i = 1; i < 4; ++i) field += "," + std::to_string(i) + "-" + std::to_string(i);
  ByteRange r;
  EXPECT_EQ(show(parse_range(field, 100, 4, r)), "partial");  // four touching ranges: one
  EXPECT_EQ(r.length, 4u);
  EXPECT_EQ(show(parse_range(field + ",4-4", 100, 4, r)), "whole");
  // Ten thousand ranges cost no more than the bound's worth of parsing before the answer.
  std::string flood = "bytes=0-0";
  for (int i = 0; i < 10000; ++i) flood += ",0-0";
  EXPECT_EQ(show(parse_range(flood, 100, 16, r)), "whole");
  // The bound is clamped to what the parser holds.
  EXPECT_EQ(show(parse_range(flood, 100, 1000000, r)), "whole");
}

}  // namespace
}  // namespace hs::static_files
