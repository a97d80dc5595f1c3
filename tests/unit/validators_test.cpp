#include "files/validators.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "date_cache.hpp"
#include "message_access.hpp"

namespace hs::static_files {
namespace {

std::string etag_of(uint64_t size, std::time_t mtime) {
  char buf[40];
  return {buf, format_etag(size, mtime, buf)};
}

TEST(Validators, TheETagIsNginxsStrongForm) {
  // nginx: "%xT-%xO" of mtime and size.
  EXPECT_EQ(etag_of(0x1a2b, 0x5f000000), "\"5f000000-1a2b\"");
  EXPECT_EQ(etag_of(0, 0), "\"0-0\"");
  EXPECT_EQ(etag_of(5368709120, 1700000000), "\"6553f100-140000000\"");
}

TEST(Validators, ReadsTheThreeDateForms) {
  std::time_t t;
  ASSERT_TRUE(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT", t));
  EXPECT_EQ(t, 784111777);
  ASSERT_TRUE(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT", t));
  EXPECT_EQ(t, 784111777);
  ASSERT_TRUE(parse_http_date("Sun Nov  6 08:49:37 1994", t));
  EXPECT_EQ(t, 784111777);
  for (const char* bad :
       {"", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "784111777"})
    EXPECT_FALSE(parse_http_date(bad, t)) << bad;
  // What we write, we read.
  char buf[32];
  // 2100 only where time_t reaches it (a 32-bit time_t, as on armhf, ends in 2038).
  std::vector<std::time_t> times = {0, 951782400, 2000000000};
  if constexpr (sizeof(std::time_t) >= 8) times.push_back(static_cast<std::time_t>(4102444800LL));
  for (std::time_t v : times) {
    ASSERT_TRUE(parse_http_date({buf, format_imf_fixdate(v, buf)}, t));
    EXPECT_EQ(t, v);
  }
}

TEST(Validators, ComparesEntityTagListsWeaklyOrStrongly) {
  std::string_view e = "\"abc-1\"";
  EXPECT_TRUE(etag_list_matches("\"abc-1\"", e, true));
  EXPECT_TRUE(etag_list_matches("W/\"abc-1\"", e, true));
  EXPECT_FALSE(etag_list_matches("W/\"abc-1\"", e, false));
  EXPECT_TRUE(etag_list_matches("\"x\", \"abc-1\"", e, true));
  EXPECT_TRUE(etag_list_matches("\"x\",W/\"y\" ,  \"abc-1\"", e, false));
  EXPECT_TRUE(etag_list_matches(" * ", e, false));
  EXPECT_FALSE(etag_list_matches("\"abc-2\"", e, true));
  EXPECT_FALSE(etag_list_matches("abc-1", e, true));    // unquoted: malformed
  EXPECT_FALSE(etag_list_matches("\"abc-1", e, true));  // unterminated
  EXPECT_FALSE(etag_list_matches("", e, true));
}

struct Conditional {
  std::vector<Header> fields;
  int expected;
};

TEST(Validators, EvaluatesPreconditionsInTheRfcsOrder) {
  Validators v{"\"abc-1\"", 784111777};
  const char* same = "Sun, 06 Nov 1994 08:49:37 GMT";
  const char* later = "Mon, 07 Nov 1994 08:49:37 GMT";
  const char* earlier = "Sat, 05 Nov 1994 08:49:37 GMT";
  const Conditional cases[] = {
      {{}, 0},
      {{{"If-None-Match", "\"abc-1\""}}, 304},
      {{{"If-None-Match", "W/\"abc-1\""}}, 304},
      {{{"If-None-Match", "*"}}, 304},
      {{{"If-None-Match", "\"other\""}}, 0},
      {{{"If-Modified-Since", same}}, 304},
      {{{"If-Modified-Since", later}}, 304},
      {{{"If-Modified-Since", earlier}}, 0},
      {{{"If-Modified-Since", "garbage"}}, 0},  // an invalid date is ignored
      // If-None-Match wins: a mismatch sends the body even though the date says current.
      {{{"If-None-Match", "\"other\""}, {"If-Modified-Since", later}}, 0},
      {{{"If-Modified-Since", earlier}, {"If-None-Match", "\"abc-1\""}}, 304},
      {{{"If-Match", "\"abc-1\""}}, 0},
      {{{"If-Match", "W/\"abc-1\""}}, 412},  // strong comparison
      {{{"If-Match", "\"other\""}}, 412},
      {{{"If-Match", "*"}}, 0},
      {{{"If-Unmodified-Since", earlier}}, 412},
      {{{"If-Unmodified-Since", same}}, 0},
      {{{"If-Match", "\"abc-1\""}, {"If-Unmodified-Since", earlier}}, 0},  // If-Match decides
      {{{"If-Match", "\"other\""}, {"If-None-Match", "\"abc-1\""}}, 412},
  };
  for (const Conditional& c : cases) {
    Request r;
    hs::RequestAccess::set(r, "GET", "/f", 1, 1, c.fields, "", true);
    std::string what;
    for (auto& f : c.fields) what += std::string(f.name) + ": " + std::string(f.value) + "; ";
    EXPECT_EQ(evaluate_preconditions(r, v), c.expected) << what;
  }
}

TEST(Validators, IfRangeNeedsAStrongTagOrTheExactDate) {
  Validators v{"\"abc-1\"", 784111777};
  auto holds = [&](std::string_view value) {
    Header h{"If-Range", value};
    Request r;
    hs::RequestAccess::set(r, "GET", "/f", 1, 1, {&h, 1}, "", true);
    return if_range_holds(r, v);
  };
  Request none;
  hs::RequestAccess::set(none, "GET", "/f", 1, 1, {}, "", true);
  EXPECT_TRUE(if_range_holds(none, v));
  EXPECT_TRUE(holds("\"abc-1\""));
  EXPECT_FALSE(holds("W/\"abc-1\""));
  EXPECT_FALSE(holds("\"abc-2\""));
  EXPECT_TRUE(holds("Sun, 06 Nov 1994 08:49:37 GMT"));
  EXPECT_FALSE(holds("Mon, 07 Nov 1994 08:49:37 GMT"));  // later is not equal
  EXPECT_FALSE(holds("not a date"));
}

}  // namespace
}  // namespace hs::static_files
