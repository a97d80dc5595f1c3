#include <gtest/gtest.h>

#include "test_server.hpp"

namespace hs::test {
namespace {

TEST(HttpBasics, AnswersEveryPathWithTheTutorialBody) {
  TestServer server;
  auto r = roundtrip(server.port(), "GET /any/path?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "package main #14");
  EXPECT_EQ(r.header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("content-length"), "16");
  EXPECT_TRUE(r.has("date"));
  EXPECT_EQ(r.header("server"), "httpserver");
}

TEST(HttpBasics, AnswersPipelinedRequestsInOrderInOneWrite) {
  std::vector<std::string> seen;
  TestServer server(TestServer::loopback(), [&](const Request& q, Response& r) {
    seen.emplace_back(q.target());
    r.body.assign(q.target());
  });
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"));
  for (const char* want : {"/1", "/2", "/3"}) {
    auto r = c.read_response();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, want);
  }
  EXPECT_TRUE(server.shutdown());
  EXPECT_EQ(server.registered(), 0u);
}

}  // namespace
}  // namespace hs::test
