// hs::files through a real Server over loopback: the bytes of whole files and ranges, heads,
// conditionals and pipelined requests, with requests sent whole and one byte per write.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include <httpserver/files.hpp>
#include <httpserver/router.hpp>

#include "file_tree.hpp"
#include "integration_support.hpp"

namespace hs::test {
namespace {

std::string random_bytes(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(gen());
  return s;
}

std::string get(std::string_view target, std::string_view extra = "",
                std::string_view method = "GET") {
  return std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n" +
         std::string(extra) + "\r\n";
}

class FilesServing : public ::testing::Test {
 protected:
  void SetUp() override {
    t.write("small.txt", random_bytes(1024, 1));
    t.write("medium.bin", random_bytes(64 * 1024, 2));
    t.write("large.bin", random_bytes(1024 * 1024, 3));
    t.mkdir("site");
    t.write("site/index.html", "<p>index</p>");
  }
  std::string content(const char* name) {
    if (std::string_view(name) == "small.txt") return random_bytes(1024, 1);
    if (std::string_view(name) == "medium.bin") return random_bytes(64 * 1024, 2);
    return random_bytes(1024 * 1024, 3);
  }

  FileTree t;
};

// Sends `request` whole, or one byte per write, and reads one response.
ParsedResponse exchange(Client& c, const std::string& request, bool byte_by_byte,
                        bool head = false) {
  if (byte_by_byte) {
    for (char ch : request) EXPECT_TRUE(c.send(std::string_view(&ch, 1)));
  } else {
    EXPECT_TRUE(c.send(request));
  }
  return c.read_response(5000, head);
}

TEST_F(FilesServing, SendsWholeFilesAndRangesByteForByte) {
  TestServer server(TestServer::loopback(), files(t.path()));
  for (bool byte_by_byte : {false, true}) {
    Client c(server.port());
    for (const char* name : {"small.txt", "medium.bin", "large.bin"}) {
      std::string expected = content(name);
      ParsedResponse r = exchange(c, get(std::string("/") + name), byte_by_byte);
      EXPECT_EQ(r.status, 200) << name;
      EXPECT_EQ(r.header("content-length"), std::to_string(expected.size()));
      EXPECT_TRUE(r.body == expected) << name << ": " << r.body.size() << " bytes";
      ParsedResponse part =
          exchange(c, get(std::string("/") + name, "Range: bytes=100-611\r\n"), byte_by_byte);
      EXPECT_EQ(part.status, 206);
      EXPECT_EQ(part.header("content-range"), "bytes 100-611/" + std::to_string(expected.size()));
      EXPECT_TRUE(part.body == expected.substr(100, 512)) << name;
      ParsedResponse tail = exchange(c, get(std::string("/") + name, "Range: bytes=-7\r\n"), false);
      EXPECT_TRUE(tail.body == expected.substr(expected.size() - 7)) << name;
    }
  }
  expect_clean_shutdown(server);
}

TEST_F(FilesServing, AnswersPipelinedRequestsInOrderOnOneConnection) {
  TestServer server(TestServer::loopback(), files(t.path()));
  Client c(server.port());
  std::string batch = get("/small.txt") + get("/missing") + get("/medium.bin", "", "HEAD") +
                      get("/large.bin", "Range: bytes=0-9\r\n") +
                      get("/small.txt", "If-None-Match: *\r\n") + get("/site") + get("/site/") +
                      get("/small.txt", "", "DELETE") + get("/small.txt");
  ASSERT_TRUE(c.send(batch));
  EXPECT_TRUE(c.read_response().body == content("small.txt"));
  EXPECT_EQ(c.read_response().status, 404);
  ParsedResponse head = c.read_response(3000, true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "65536");
  EXPECT_EQ(head.body, "");
  ParsedResponse range = c.read_response();
  EXPECT_EQ(range.status, 206);
  EXPECT_TRUE(range.body == content("large.bin").substr(0, 10));
  ParsedResponse not_modified = c.read_response();
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.has("content-length"));
  EXPECT_EQ(c.read_response().header("location"), "/site/");
  EXPECT_EQ(c.read_response().body, "<p>index</p>");
  EXPECT_EQ(c.read_response().status, 405);
  EXPECT_TRUE(c.read_response().body == content("small.txt"));
  expect_clean_shutdown(server);
}

TEST_F(FilesServing, RefusalsLeaveTheConnectionOpen) {
  TestServer server(TestServer::loopback(), files(t.path()));
  Client c(server.port());
  for (const char* target : {"/../x", "/%2e%2e/x", "/a%00", "/%zz", "/nothing"}) {
    ParsedResponse r = exchange(c, get(target), false);
    EXPECT_GE(r.status, 400) << target;
    EXPECT_LT(r.status, 500) << target;
    EXPECT_NE(r.header("connection"), "close") << target;
  }
  ParsedResponse bad = exchange(c, get("/small.txt", "Range: bytes=5000-\r\n"), false);
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.header("content-range"), "bytes */1024");
  EXPECT_TRUE(exchange(c, get("/small.txt"), false).body == content("small.txt"));
  expect_clean_shutdown(server);
}

TEST_F(FilesServing, ServesBesideOtherRoutesUnderAPrefix) {
  FileOptions mounted;
  mounted.mount = "/static";
  Router router;
  router.get("/healthz", [](const Request&, Response& r) { r.body = "ok"; })
      .prefix("/static/", files(t.path(), mounted));
  TestServer server(TestServer::loopback(), router);
  Client c(server.port());
  EXPECT_EQ(exchange(c, get("/healthz"), false).body, "ok");
  EXPECT_TRUE(exchange(c, get("/static/small.txt"), false).body == content("small.txt"));
  EXPECT_EQ(exchange(c, get("/static/site"), false).header("location"), "/static/site/");
  EXPECT_EQ(exchange(c, get("/small.txt"), false).status, 404);
  expect_clean_shutdown(server);
}

TEST_F(FilesServing, ServesTheEndOfAFileOverFourGibibytes) {
  t.sparse("big.img", 5368709120);
  int fd = ::open(t.at("big.img").c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "END!", 4, 5368709116), 4);
  ::close(fd);
  TestServer server(TestServer::loopback(), files(t.path()));
  Client c(server.port());
  ParsedResponse r = exchange(c, get("/big.img", "Range: bytes=5368709110-\r\n"), false);
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.header("content-range"), "bytes 5368709110-5368709119/5368709120");
  EXPECT_EQ(r.body, std::string(6, '\0') + "END!");
  ParsedResponse head = exchange(c, get("/big.img", "", "HEAD"), false, true);
  EXPECT_EQ(head.header("content-length"), "5368709120");
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
