// hs::files as a handler, without sockets: the status and fields it sets for a Request. The
// bytes a response sends are the integration tests' (tests/integration/files_test.cpp).
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <httpserver/files.hpp>

#include "file_tree.hpp"
#include "message_access.hpp"

namespace hs {
namespace {

// FileOptions with one field set (GCC 12 warns of designated initializers that skip fields).
template <class Set>
FileOptions with(Set set) {
  FileOptions o;
  set(o);
  return o;
}

constexpr std::time_t kMtime = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t.write("index.html", "<h1>home</h1>", kMtime);
    t.write("style.css", "body{}", kMtime);
    t.write("data.bin", std::string(1000, 'x'), kMtime);
    t.mkdir("docs");
    t.write("docs/index.html", "docs", kMtime);
    t.mkdir("empty");
    t.write("empty/a&b <c>.txt", "1");
    t.mkdir("empty/sub");
    t.write("app.js", "plain js", kMtime);
    t.write("app.js.gz", "gz", kMtime);
    t.write("app.js.br", "brotli", kMtime);
    t.write("only.css", "plain", kMtime);
    t.write("only.css.gz", "gz", kMtime);
    t.fifo("fifo");
  }

  Response get(const Handler& h, std::string_view target, std::vector<Header> fields = {},
               std::string_view method = "GET") {
    Request q;
    RequestAccess::set(q, method, target, 1, 1, fields, "", true);
    Response r;
    h(q, r);
    return r;
  }

  test::FileTree t;
};

TEST_F(FilesTest, AnswersAFileWithItsTypeValidatorsAndLength) {
  Handler h = files(t.path());
  Response r = get(h, "/style.css");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.sends_file());
  EXPECT_EQ(r.header("Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(r.header("ETag"), "\"2ebc98a1-6\"");
  EXPECT_EQ(r.header("Last-Modified"), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(r.header("Cache-Control"), "");
  EXPECT_EQ(r.header("Vary"), "");
  Response head = get(h, "/style.css", {}, "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("ETag"), r.header("ETag"));
}

TEST_F(FilesTest, AnswersOnlyGetAndHead) {
  Handler h = files(t.path());
  for (std::string_view m : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) {
    Response r = get(h, "/style.css", {}, m);
    EXPECT_EQ(r.status, 405) << m;
    EXPECT_EQ(r.header("Allow"), "GET, HEAD");
    EXPECT_FALSE(r.sends_file());
  }
}

TEST_F(FilesTest, ConditionalRequestsGet304Or412) {
  Handler h = files(t.path(), with([](FileOptions& o) { o.cache_control = "max-age=60"; }));
  Response r = get(h, "/style.css", {{"If-None-Match", "\"2ebc98a1-6\""}});
  EXPECT_EQ(r.status, 304);
  EXPECT_FALSE(r.sends_file());
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("ETag"), "\"2ebc98a1-6\"");
  EXPECT_EQ(r.header("Cache-Control"), "max-age=60");
  EXPECT_EQ(get(h, "/style.css", {{"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}}).status,
            304);
  EXPECT_EQ(get(h, "/style.css", {{"If-Modified-Since", "Sat, 05 Nov 1994 08:49:37 GMT"}}).status,
            200);
  EXPECT_EQ(
      get(h, "/style.css",
          {{"If-None-Match", "\"nope\""}, {"If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"}})
          .status,
      200);
  EXPECT_EQ(get(h, "/style.css", {{"If-Match", "\"nope\""}}).status, 412);
}

TEST_F(FilesTest, RangesGet206Or416AndIfRangeDecides) {
  Handler h = files(t.path());
  Response r = get(h, "/data.bin", {{"Range", "bytes=10-19"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.header("Content-Range"), "bytes 10-19/1000");
  EXPECT_TRUE(r.sends_file());
  EXPECT_EQ(ResponseAccess::file_offset(r), 10u);
  EXPECT_EQ(r.content_length(), 10u);
  Response whole = get(h, "/data.bin");
  EXPECT_EQ(ResponseAccess::file_offset(whole), 0u);
  EXPECT_EQ(whole.content_length(), 1000u);
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=-100"}}).header("Content-Range"),
            "bytes 900-999/1000");
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=990-"}}).header("Content-Range"),
            "bytes 990-999/1000");
  Response bad = get(h, "/data.bin", {{"Range", "bytes=1000-"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.header("Content-Range"), "bytes */1000");
  EXPECT_FALSE(bad.sends_file());
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=0-1,5-6"}}).status, 200);  // several pieces
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=0-1"}, {"If-Range", "\"2ebc98a1-3e8\""}}).status,
            206);
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=0-1"}, {"If-Range", "\"old\""}}).status, 200);
  EXPECT_EQ(
      get(h, "/data.bin", {{"Range", "bytes=0-1"}, {"If-Range", "Sun, 06 Nov 1994 08:49:37 GMT"}})
          .status,
      206);
  // A 304 wins over a range.
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=0-1"}, {"If-None-Match", "*"}}).status, 304);
}

TEST_F(FilesTest, MoreRangesThanTheBoundGetTheWholeFile) {
  Handler h = files(t.path(), with([](FileOptions& o) { o.max_ranges = 2; }));
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=0-1,2-3"}}).status, 206);
  EXPECT_EQ(get(h, "/data.bin", {{"Range", "bytes=0-1,2-3,4-5"}}).status, 200);
}

TEST_F(FilesTest, FilesOverFourGibibytesAreServedByRange) {
  t.sparse("big.img", 5368709120);  // 5 GiB, no disk
  Handler h = files(t.path());
  Response r = get(h, "/big.img", {{"Range", "bytes=4294967296-4294967305"}}, "HEAD");
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.header("Content-Range"), "bytes 4294967296-4294967305/5368709120");
  EXPECT_EQ(ResponseAccess::file_offset(r), 4294967296u);
  EXPECT_EQ(r.content_length(), 10u);
  EXPECT_EQ(get(h, "/big.img", {}, "HEAD").content_length(), 5368709120u);
  EXPECT_EQ(get(h, "/big.img", {{"Range", "bytes=-1"}}, "HEAD").header("Content-Range"),
            "bytes 5368709119-5368709119/5368709120");
}

TEST_F(FilesTest, ADirectoryAnswersWithItsIndexOrARedirectToItsSlash) {
  Handler h = files(t.path());
  Response root = get(h, "/");
  EXPECT_EQ(root.status, 200);
  EXPECT_EQ(root.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_TRUE(root.sends_file());
  EXPECT_EQ(get(h, "/docs/").status, 200);
  Response moved = get(h, "/docs?x=1&y");
  EXPECT_EQ(moved.status, 301);
  EXPECT_EQ(moved.header("Location"), "/docs/?x=1&y");
  EXPECT_EQ(get(h, "/docs").header("Location"), "/docs/");
  // Never a scheme-relative "//host/...": that would redirect to another site.
  t.mkdir("evil.example");
  EXPECT_EQ(get(h, "//evil.example").header("Location"), "/evil.example/");
  EXPECT_EQ(get(h, "///evil.example?x").header("Location"), "/evil.example/?x");
  // No index, no listing: 403, as nginx.
  EXPECT_EQ(get(h, "/empty/").status, 403);
  // Another index name.
  Handler other = files(t.path(), with([](FileOptions& o) { o.index = "style.css"; }));
  EXPECT_EQ(get(other, "/").header("Content-Type"), "text/css; charset=utf-8");
}

TEST_F(FilesTest, ListsADirectoryWhenAskedWithNamesEscaped) {
  Handler h = files(t.path(), with([](FileOptions& o) { o.list_directories = true; }));
  Response r = get(h, "/empty/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_FALSE(r.sends_file());
  EXPECT_NE(r.body.find("<a href=\"./a%26b%20%3Cc%3E.txt\">a&amp;b &lt;c&gt;.txt</a>"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("<a href=\"./sub/\">sub/</a>"), std::string::npos);
  EXPECT_LT(r.body.find("a&amp;b"), r.body.find("sub/"));  // sorted
  EXPECT_EQ(r.body.find("<c>"), std::string::npos);
  // A directory with an index still serves the index.
  EXPECT_TRUE(get(h, "/docs/").sends_file());
}

TEST_F(FilesTest, SendsAPrecompressedSiblingTheClientAccepts) {
  Handler h = files(t.path(), with([](FileOptions& o) { o.precompressed = true; }));
  Response br = get(h, "/app.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  EXPECT_EQ(br.header("Content-Encoding"), "br");
  EXPECT_EQ(br.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(br.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(br.header("ETag"), "\"2ebc98a1-6\"");  // the sibling's: 6 bytes
  EXPECT_EQ(get(h, "/app.js", {{"Accept-Encoding", "gzip"}}).header("Content-Encoding"), "gzip");
  EXPECT_EQ(get(h, "/app.js", {{"Accept-Encoding", "br;q=0.1, gzip"}}).header("Content-Encoding"),
            "gzip");
  Response refused = get(h, "/app.js", {{"Accept-Encoding", "br;q=0, gzip;q=0"}});
  EXPECT_EQ(refused.header("Content-Encoding"), "");
  EXPECT_EQ(refused.header("ETag"), "\"2ebc98a1-8\"");
  EXPECT_EQ(refused.header("Vary"), "Accept-Encoding");
  EXPECT_EQ(get(h, "/app.js").header("Content-Encoding"), "");
  // Only a .gz beside it: br is asked first, gzip is what exists.
  EXPECT_EQ(get(h, "/only.css", {{"Accept-Encoding", "br, gzip"}}).header("Content-Encoding"),
            "gzip");
  EXPECT_EQ(get(h, "/only.css", {{"Accept-Encoding", "br"}}).header("Content-Encoding"), "");
  // Off: never.
  EXPECT_EQ(get(files(t.path()), "/app.js", {{"Accept-Encoding", "br"}}).header("Content-Encoding"),
            "");
}

TEST_F(FilesTest, RefusesWhatIsNotARegularFileOrDirectory) {
  Handler h = files(t.path());
  EXPECT_EQ(get(h, "/fifo").status, 403);
  int s = t.unix_socket("sock");
  EXPECT_EQ(get(h, "/sock").status, 403);
  ::close(s);
  EXPECT_EQ(get(h, "/missing").status, 404);
  EXPECT_EQ(get(h, "/style.css/x").status, 404);
  EXPECT_EQ(get(h, "/../etc/passwd").status, 400);
  EXPECT_EQ(get(h, "/%2e%2e/x").status, 400);
  EXPECT_EQ(get(h, "/bad%zz").status, 400);
}

TEST_F(FilesTest, AMountMapsAUrlPrefixToTheRoot) {
  Handler h = files(t.path(), with([](FileOptions& o) { o.mount = "/static/"; }));
  EXPECT_EQ(get(h, "/static/style.css").status, 200);
  EXPECT_EQ(get(h, "/static/").status, 200);
  EXPECT_EQ(get(h, "/static").header("Location"), "/static/");
  EXPECT_EQ(get(h, "/staticx/style.css").status, 404);
  EXPECT_EQ(get(h, "/style.css").status, 404);
  EXPECT_EQ(get(h, "/static/docs").header("Location"), "/static/docs/");
}

TEST_F(FilesTest, TheRootMustBeADirectory) {
  EXPECT_THROW(files(t.at("style.css")), std::system_error);
}

}  // namespace
}  // namespace hs
