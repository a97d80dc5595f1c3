#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <httpserver/http.hpp>

#include "date_cache.hpp"
#include "message_access.hpp"
#include "serialize.hpp"

namespace hs {
namespace {

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";

ResponseContext context(std::string_view method = "GET") {
  ResponseContext c;
  c.date = kDate;
  c.server = "httpserver";
  c.method = method;
  return c;
}

std::string serialized(const Response& response, const ResponseContext& c) {
  std::string out;
  serialize(response, c, out);
  return out;
}

size_t count(std::string_view text, std::string_view what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// --- serialize ----------------------------------------------------------------------------

TEST(Serialize, WritesStatusLineServerDateFieldsContentLengthAndBody) {
  Response r;
  r.set_header("Content-Type", "text/plain; charset=utf-8");
  r.add_header("X-Id", "7");
  r.body = "hello";
  EXPECT_EQ(serialized(r, context()),
            "HTTP/1.1 200 OK\r\n"
            "Server: httpserver\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Id: 7\r\n"
            "Content-Length: 5\r\n"
            "\r\n"
            "hello");
}

TEST(Serialize, AnEmptyBodyStillGetsContentLengthZero) {
  Response r;
  r.status = 404;
  EXPECT_EQ(serialized(r, context()), "HTTP/1.1 404 Not Found\r\nServer: httpserver\r\nDate: " +
                                          std::string(kDate) + "\r\nContent-Length: 0\r\n\r\n");
}

TEST(Serialize, OmitsTheServerFieldWhenTheServerNameIsEmpty) {
  Response r;
  auto c = context();
  c.server = "";
  std::string out = serialized(r, c);
  EXPECT_EQ(out.find("Server:"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nDate: ", 0), 0u) << out;
}

TEST(Serialize, SaysConnectionCloseWhenTheConnectionWillClose) {
  Response r;
  r.body = "x";
  auto c = context();
  c.close = true;
  std::string out = serialized(r, c);
  EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos) << out;
  EXPECT_EQ(count(out, "Connection:"), 1u);
  EXPECT_TRUE(out.ends_with("\r\n\r\nx")) << out;
}

TEST(Serialize, ConfirmsKeepAliveToAnHttp10Client) {
  Response r;
  auto c = context();
  c.keep_alive_10 = true;
  std::string out = serialized(r, c);
  EXPECT_NE(out.find("\r\nConnection: keep-alive\r\n"), std::string::npos) << out;
  EXPECT_EQ(count(out, "Connection:"), 1u);
}

TEST(Serialize, CloseWinsOverKeepAlive) {
  Response r;
  auto c = context();
  c.keep_alive_10 = true;
  c.close = true;
  std::string out = serialized(r, c);
  EXPECT_NE(out.find("Connection: close\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("keep-alive"), std::string::npos) << out;
}

TEST(Serialize, SaysNothingAboutTheConnectionForAPlainHttp11KeepAlive) {
  Response r;
  EXPECT_EQ(serialized(r, context()).find("Connection"), std::string::npos);
}

TEST(Serialize, AnswersHeadWithTheHeadersOfGetButNoBody) {
  Response r;
  r.set_header("Content-Type", "text/plain");
  r.body = "hello world";
  std::string get = serialized(r, context("GET"));
  std::string head = serialized(r, context("HEAD"));
  EXPECT_NE(head.find("\r\nContent-Length: 11\r\n"), std::string::npos) << head;
  EXPECT_TRUE(head.ends_with("\r\n\r\n")) << head;
  EXPECT_EQ(head + "hello world", get);
}

TEST(Serialize, GivesNoContentLengthNorBodyTo204And304) {
  for (int status : {204, 304}) {
    Response r;
    r.status = status;
    r.body = "must not be sent";
    std::string out = serialized(r, context());
    EXPECT_EQ(out.find("Content-Length"), std::string::npos) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n")) << out;
    EXPECT_EQ(out.find("must not"), std::string::npos) << out;
  }
  Response r;
  r.status = 204;
  EXPECT_EQ(serialized(r, context()).rfind("HTTP/1.1 204 No Content\r\n", 0), 0u);
  r.status = 304;
  EXPECT_EQ(serialized(r, context()).rfind("HTTP/1.1 304 Not Modified\r\n", 0), 0u);
}

TEST(Serialize, IgnoresFramingAndServerFieldsSetByTheHandler) {
  Response r;
  r.set_header("Content-Length", "999");
  r.set_header("Transfer-Encoding", "chunked");
  r.set_header("Date", "yesterday");
  r.set_header("Server", "evil/1.0");
  r.set_header("content-length", "1000");
  r.set_header("X-Kept", "yes");
  r.body = "abc";
  std::string out = serialized(r, context());
  EXPECT_EQ(count(out, "Content-Length"), 1u) << out;
  EXPECT_NE(out.find("\r\nContent-Length: 3\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("chunked"), std::string::npos) << out;
  EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos) << out;
  EXPECT_EQ(out.find("yesterday"), std::string::npos) << out;
  EXPECT_EQ(out.find("evil"), std::string::npos) << out;
  EXPECT_EQ(count(out, "Date: "), 1u) << out;
  EXPECT_EQ(count(out, "Server: "), 1u) << out;
  EXPECT_NE(out.find("\r\nX-Kept: yes\r\n"), std::string::npos) << out;
  EXPECT_TRUE(out.ends_with("\r\n\r\nabc")) << out;
}

TEST(Serialize, DoesNotCopyAHandlerConnectionFieldIntoTheResponse) {
  Response r;
  r.set_header("Connection", "close");
  std::string out = serialized(r, context());  // the connection decides; context says open
  EXPECT_EQ(out.find("Connection"), std::string::npos) << out;
}

TEST(Serialize, WritesEveryAddedFieldEvenWithTheSameName) {
  Response r;
  r.add_header("Set-Cookie", "a=1");
  r.add_header("Set-Cookie", "b=2");
  std::string out = serialized(r, context());
  EXPECT_NE(out.find("\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n"), std::string::npos) << out;
}

TEST(Serialize, AppendsToWhatTheOutputAlreadyHoldsWithoutReallocating) {
  Response r;
  r.body = "one";
  std::string out = "previous response|";
  out.reserve(1024);
  const char* data = out.data();
  serialize(r, context(), out);
  serialize(r, context(), out);
  EXPECT_EQ(out.data(), data);  // fits in the capacity: no new buffer
  EXPECT_EQ(out.rfind("previous response|HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 2u);
}

// serialize() reuses the last head it built while nothing in it changed. Each step below
// changes one thing after the same response was serialized (and cached): the output must be
// what a copy of the response (a Response never serialized before) gets.
TEST(Serialize, ReusesTheLastHeadOnlyWhileNothingInItChanged) {
  Response r;
  r.set_header("Content-Type", "text/plain");
  r.body = "x";
  ResponseContext c = context();
  // The cache holds `r` as it was at the end of the previous step.
  auto check = [&](const char* step, std::string_view must_contain) {
    std::string got = serialized(r, c);
    std::string fresh = serialized(Response(r), c);
    EXPECT_EQ(got, fresh) << step;
    EXPECT_NE(fresh.find(must_contain), std::string::npos) << step << ": " << fresh;
    EXPECT_EQ(serialized(r, c), fresh) << step;  // from the cache, and `r` in it again
  };
  check("first", "Content-Type: text/plain\r\nContent-Length: 1\r\n\r\nx");
  r.set_header("content-type", "text/html");
  check("value replaced", "Content-Type: text/html\r\n");
  r.clear();
  r.set_header("Content-Type", "text/html");
  r.body = "x";
  check("cleared, same field again", "Content-Type: text/html\r\nContent-Length: 1\r\n");
  r.clear();
  r.body = "x";
  check("cleared, no field", "GMT\r\nContent-Length: 1\r\n");
  r.add_header("X-A", "1");
  r.clear();
  r.add_header("X-B", "1");
  check("same slot, another name", "\r\nX-B: 1\r\nContent-Length: 0\r\n");
  r.body = "xy";
  check("longer body", "Content-Length: 2\r\n\r\nxy");
  r.body = "zw";  // the head and a short body are kept together: the same length is not enough
  check("same length, other bytes", "Content-Length: 2\r\n\r\nzw");
  r.body = "xy";
  check("back again", "Content-Length: 2\r\n\r\nxy");
  r.status = 404;
  check("status", "HTTP/1.1 404 Not Found\r\n");
  c.close = true;
  check("closing", "Connection: close\r\n\r\nxy");
  c.close = false;
  c.keep_alive_10 = true;
  check("HTTP/1.0 keep-alive", "Connection: keep-alive\r\n\r\nxy");
  c.keep_alive_10 = false;
  c.framing = ResponseContext::Framing::chunked;
  check("chunked", "Transfer-Encoding: chunked\r\n\r\n");
  c.framing = ResponseContext::Framing::length;
  c.date = "Mon, 07 Nov 1994 08:49:37 GMT";
  check("next second", "Date: Mon, 07 Nov 1994 08:49:37 GMT\r\n");
  c.server = "other";
  check("server name", "Server: other\r\n");
  c.method = "HEAD";
  check("HEAD: the same head, no body", "Content-Length: 2\r\n\r\n");
  EXPECT_TRUE(serialized(r, c).ends_with("\r\n\r\n"));
  c.method = "GET";
  Response moved = std::move(r);
  r.clear();
  r.add_header("X-C", "3");
  check("moved-from, refilled", "\r\nX-C: 3\r\n");
}

TEST(Serialize, UsesUnknownForAStatusWithoutText) {
  Response r;
  r.status = 299;
  EXPECT_EQ(serialized(r, context()).rfind("HTTP/1.1 299 Unknown\r\n", 0), 0u);
}

// --- Response -----------------------------------------------------------------------------

TEST(Response, SetHeaderReplacesAFieldOfTheSameNameWhateverItsCase) {
  Response r;
  r.set_header("Content-Type", "text/html");
  r.set_header("content-TYPE", "text/plain");
  ASSERT_EQ(r.headers().size(), 1u);
  EXPECT_EQ(r.header("Content-Type"), "text/plain");
  EXPECT_EQ(r.header("CONTENT-TYPE"), "text/plain");
}

TEST(Response, AddHeaderKeepsEveryValueAndHeaderReturnsTheFirst) {
  Response r;
  r.add_header("Set-Cookie", "a=1");
  r.add_header("set-cookie", "b=2");
  ASSERT_EQ(r.headers().size(), 2u);
  EXPECT_EQ(r.headers()[0].second, "a=1");
  EXPECT_EQ(r.headers()[1].second, "b=2");
  EXPECT_EQ(r.header("Set-Cookie"), "a=1");
  EXPECT_EQ(r.header("X-Missing"), "");
}

TEST(Response, ClosesTheConnectionOnlyWhenAConnectionFieldSaysClose) {
  Response r;
  EXPECT_FALSE(r.closes_connection());
  r.set_header("X-Other", "close");
  EXPECT_FALSE(r.closes_connection());
  r.set_header("connection", "keep-alive");
  EXPECT_FALSE(r.closes_connection());
  r.set_header("CONNECTION", "Close");  // replaces the field, whatever the case
  EXPECT_TRUE(r.closes_connection());
  r.clear();
  EXPECT_FALSE(r.closes_connection());
  r.add_header("Connection", "close");
  EXPECT_TRUE(r.closes_connection());
}

TEST(Response, ClearResetsStatusFieldsAndBody) {
  Response r;
  r.status = 500;
  r.set_header("X-A", "1");
  r.body = "oops";
  r.clear();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.headers().empty());
  EXPECT_EQ(r.header("X-A"), "");
  EXPECT_TRUE(r.body.empty());
  std::string out = serialized(r, context());
  EXPECT_EQ(out.find("X-A"), std::string::npos);
  EXPECT_NE(out.find("Content-Length: 0\r\n"), std::string::npos);
}

TEST(Response, ClearKeepsCapacitySoRefillingDoesNotAllocate) {
  Response r;
  const std::string long_name(100, 'N'), long_value(300, 'v');
  r.set_header(long_name, long_value);
  r.add_header(long_name, long_value);
  r.body.assign(4000, 'b');
  const size_t body_capacity = r.body.capacity();
  const char* body_data = r.body.data();
  std::vector<const char*> name_data, value_data;
  std::vector<size_t> value_capacity;
  for (const auto& [name, value] : r.headers()) {
    name_data.push_back(name.data());
    value_data.push_back(value.data());
    value_capacity.push_back(value.capacity());
  }

  r.clear();
  EXPECT_EQ(r.body.capacity(), body_capacity);

  // Refill with smaller content: every string reuses its buffer.
  r.set_header("Content-Type", "text/plain");
  r.add_header("X-Two", "2");
  r.body.assign("short");
  ASSERT_EQ(r.headers().size(), 2u);
  EXPECT_EQ(r.body.data(), body_data);
  EXPECT_EQ(r.body.capacity(), body_capacity);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(r.headers()[i].first.data(), name_data[i]) << i;
    EXPECT_EQ(r.headers()[i].second.data(), value_data[i]) << i;
    EXPECT_EQ(r.headers()[i].second.capacity(), value_capacity[i]) << i;
  }
  EXPECT_EQ(r.header("content-type"), "text/plain");
  EXPECT_EQ(r.header("x-two"), "2");
}

// --- Request ------------------------------------------------------------------------------

Request make_request(std::string_view target, std::span<const Header> headers = {}) {
  Request q;
  hs::RequestAccess::set(q, "GET", target, 1, 1, headers, "", true);
  return q;
}

TEST(Request, SplitsAnOriginFormTargetIntoPathAndQuery) {
  auto q = make_request("/a/b?x=1&y=2");
  EXPECT_EQ(q.target(), "/a/b?x=1&y=2");
  EXPECT_EQ(q.path(), "/a/b");
  EXPECT_EQ(q.query(), "x=1&y=2");
}

TEST(Request, HasAnEmptyQueryWithoutAQuestionMark) {
  auto q = make_request("/plain/path");
  EXPECT_EQ(q.path(), "/plain/path");
  EXPECT_EQ(q.query(), "");
  auto bare = make_request("/p?");
  EXPECT_EQ(bare.path(), "/p");
  EXPECT_EQ(bare.query(), "");
}

TEST(Request, KeepsEverythingAfterTheFirstQuestionMarkInTheQuery) {
  auto q = make_request("/p?a=?b");
  EXPECT_EQ(q.path(), "/p");
  EXPECT_EQ(q.query(), "a=?b");
}

TEST(Request, ReadsPathAndQueryOfTheTargetItHoldsNow) {
  Request q;
  hs::RequestAccess::set(q, "GET", "/first?one", 1, 1, {}, "", true);
  EXPECT_EQ(q.path(), "/first");
  hs::RequestAccess::set(q, "GET", "/second#frag?not", 1, 1, {}, "",
                         true);  // reused, as the connection does
  EXPECT_EQ(q.path(), "/second");
  EXPECT_EQ(q.query(), "not");
}

TEST(Request, TakesThePathOfAnAbsoluteFormTarget) {
  auto q = make_request("http://h:1/p?q");
  EXPECT_EQ(q.target(), "http://h:1/p?q");
  EXPECT_EQ(q.path(), "/p");
  EXPECT_EQ(q.query(), "q");
  auto nested = make_request("https://example.com/a/b/c");
  EXPECT_EQ(nested.path(), "/a/b/c");
  EXPECT_EQ(nested.query(), "");
}

TEST(Request, GivesAnAbsoluteFormWithoutAPathTheRootPath) {
  auto q = make_request("http://example.com");
  EXPECT_EQ(q.path(), "/");
  EXPECT_EQ(q.query(), "");
}

TEST(Request, KeepsTheAsteriskFormAsItsPath) {
  Request q;
  hs::RequestAccess::set(q, "OPTIONS", "*", 1, 1, {}, "", true);
  EXPECT_EQ(q.target(), "*");
  EXPECT_EQ(q.path(), "*");
  EXPECT_EQ(q.query(), "");
}

TEST(Request, ReportsMethodVersionBodyAndKeepAliveAsSet) {
  Request q;
  hs::RequestAccess::set(q, "POST", "/x", 1, 0, {}, "payload", false);
  EXPECT_EQ(q.method(), "POST");
  EXPECT_EQ(q.version_major(), 1);
  EXPECT_EQ(q.version_minor(), 0);
  EXPECT_EQ(q.body(), "payload");
  EXPECT_FALSE(q.keep_alive());
}

TEST(Request, LooksUpHeadersCaseInsensitivelyAndReturnsTheFirst) {
  std::vector<Header> headers = {
      {"Host", "example.com"}, {"Accept", "a"}, {"X-Dup", "first"}, {"x-dup", "second"}};
  auto q = make_request("/", headers);
  EXPECT_EQ(q.header("host"), "example.com");
  EXPECT_EQ(q.header("HOST"), "example.com");
  EXPECT_EQ(q.header("X-DUP"), "first");
  EXPECT_TRUE(q.has_header("accept"));
  EXPECT_FALSE(q.has_header("Missing"));
  EXPECT_EQ(q.header("Missing"), "");
  EXPECT_FALSE(q.has_header("Hos"));  // a prefix is not a match
  ASSERT_EQ(q.headers().size(), 4u);
  EXPECT_EQ(q.headers()[3].value, "second");
}

TEST(Http, IequalsComparesAsciiCaseInsensitively) {
  EXPECT_TRUE(iequals("Content-Length", "content-length"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Length", "Content-Lengt"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("[", "{"));  // only letters fold: '[' + 32 is '{'
}

TEST(Http, StatusTextNamesTheCommonCodes) {
  EXPECT_EQ(status_text(200), "OK");
  EXPECT_EQ(status_text(204), "No Content");
  EXPECT_EQ(status_text(301), "Moved Permanently");
  EXPECT_EQ(status_text(304), "Not Modified");
  EXPECT_EQ(status_text(400), "Bad Request");
  EXPECT_EQ(status_text(404), "Not Found");
  EXPECT_EQ(status_text(408), "Request Timeout");
  EXPECT_EQ(status_text(413), "Content Too Large");
  EXPECT_EQ(status_text(414), "URI Too Long");
  EXPECT_EQ(status_text(431), "Request Header Fields Too Large");
  EXPECT_EQ(status_text(500), "Internal Server Error");
  EXPECT_EQ(status_text(501), "Not Implemented");
  EXPECT_EQ(status_text(503), "Service Unavailable");
  EXPECT_EQ(status_text(505), "HTTP Version Not Supported");
  EXPECT_EQ(status_text(299), "Unknown");
  EXPECT_EQ(status_text(0), "Unknown");
}

TEST(Http, ResponsesWithoutBodyAre1xx204304AndAnswersToHead) {
  EXPECT_TRUE(response_has_no_body(100, "GET"));
  EXPECT_TRUE(response_has_no_body(204, "GET"));
  EXPECT_TRUE(response_has_no_body(304, "GET"));
  EXPECT_TRUE(response_has_no_body(200, "HEAD"));
  EXPECT_FALSE(response_has_no_body(200, "GET"));
  EXPECT_FALSE(response_has_no_body(404, "POST"));
}

TEST(Http, FormatDecimalWritesEveryDigit) {
  char buf[20];
  EXPECT_EQ(std::string_view(buf, format_decimal(0, buf)), "0");
  EXPECT_EQ(std::string_view(buf, format_decimal(1234567, buf)), "1234567");
  EXPECT_EQ(std::string_view(buf, format_decimal(UINT64_MAX, buf)), "18446744073709551615");
}

// --- DateCache ----------------------------------------------------------------------------

TEST(DateCache, FormatsImfFixdate) {
  EXPECT_EQ(DateCache::format(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(DateCache::format(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(DateCache::format(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(DateCache::format(1767225599), "Wed, 31 Dec 2025 23:59:59 GMT");
}

TEST(DateCache, NowIsTheCurrentTimeIn29CharactersEndingWithGmt) {
  DateCache cache;
  std::time_t before = std::time(nullptr);
  std::string now(cache.now());
  std::time_t after = std::time(nullptr);
  EXPECT_EQ(now.size(), 29u);
  EXPECT_TRUE(now.ends_with(" GMT")) << now;
  EXPECT_TRUE(now == DateCache::format(before) || now == DateCache::format(after)) << now;
}

// Given a monotonic time, the cache keeps its value for the rest of the second it read, by
// that clock, and reads the wall clock again once a later time says the second is over.
TEST(DateCache, KeepsTheValueUntilTheMonotonicClockSaysItsSecondIsOver) {
  DateCache cache;
  const uint64_t t0 = 1'000'000;
  std::time_t before = std::time(nullptr);
  std::string first(cache.now(t0));
  EXPECT_TRUE(first == DateCache::format(before) || first == DateCache::format(before + 1));
  // Wait for the wall clock's next second (at most a second).
  while (DateCache::format(std::time(nullptr)) == first)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(cache.now(t0), first) << "within the second, by the given clock";
  std::string later(cache.now(t0 + 1000));
  EXPECT_NE(later, first) << "a second later by the given clock";
  EXPECT_EQ(later, DateCache::format(std::time(nullptr)));
}

}  // namespace
}  // namespace hs
