// What every response carries (RFC 9110 sections 6.6.1, 6.6.2, 8.6) and HEAD (section 9.3.2):
// the fields of GET without the content, so the next response on the connection still
// parses.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "integration_support.hpp"

namespace hs::test {
namespace {

void expect_standard_fields(const ParsedResponse& r) {
  EXPECT_TRUE(r.has("date")) << r.raw;
  EXPECT_EQ(r.header("date").size(), 29u) << "not an IMF-fixdate: " << r.header("date");
  EXPECT_EQ(r.header("server"), "httpserver") << r.raw;
  ASSERT_TRUE(r.has("content-length")) << r.raw;
  EXPECT_EQ(r.header("content-length"), std::to_string(r.body.size())) << r.raw;
  EXPECT_EQ(r.headers.count("content-length"), 1u) << r.raw;
}

TEST(ResponseFields, AnswersHeadWithTheFieldsOfGetAndNoBody) {
  TestServer server;
  Client c(server.port());
  // HEAD, then GET pipelined behind it: a body after the HEAD response would be read as the
  // start of the next response and break its status line.
  ASSERT_TRUE(
      c.send("HEAD /x HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse head = c.read_response(3000, /*head_request=*/true);
  ParsedResponse get = c.read_response();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(get.status, 200) << "the response after HEAD does not parse: " << get.raw;
  EXPECT_EQ(get.body, "package main #14");
  EXPECT_EQ(head.header("content-length"), "16");
  EXPECT_EQ(head.header("content-length"), get.header("content-length"));
  EXPECT_EQ(head.header("content-type"), get.header("content-type"));
  EXPECT_EQ(head.header("server"), get.header("server"));
  EXPECT_TRUE(head.has("date"));
  EXPECT_EQ(head.raw.find("package main"), std::string::npos);
  EXPECT_FALSE(c.closed_by_peer(200));

  // And nothing was sent after the GET's body either.
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse again = c.read_response(3000, true);
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(c.read_until_close(200), "");  // no stray body bytes
  expect_clean_shutdown(server);
}

TEST(ResponseFields, AnswersHeadWithTheContentLengthTheHandlerBodyWouldHave) {
  TestServer server(TestServer::loopback(), [](const Request&, Response& r) {
    r.set_header("Content-Type", "application/octet-stream");
    r.body.assign(12'345, 'z');
  });
  Client c(server.port());
  ASSERT_TRUE(c.send("HEAD / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse head = c.read_response(3000, true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "12345");
  EXPECT_EQ(head.header("content-type"), "application/octet-stream");
  ParsedResponse get = c.read_response();
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body.size(), 12'345u);
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(ResponseFields, EveryResponseHasDateServerAndContentLength) {
  TestServer server(TestServer::loopback(), [](const Request& q, Response& r) {
    if (q.path() == "/missing") {
      r.status = 404;
      r.body = "not here\n";
    } else if (q.path() == "/empty") {
      r.body.clear();
    } else if (q.path() == "/boom") {
      throw std::runtime_error("boom");
    } else {
      r.body = "ok\n";
    }
  });
  struct Case {
    const char* request;
    int status;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200},
      {"GET /empty HTTP/1.1\r\nHost: a\r\n\r\n", 200},
      {"GET /missing HTTP/1.1\r\nHost: a\r\n\r\n", 404},
      {"GET / HTTP/1.0\r\n\r\n", 200},
      {"GET / HTTP/1.1\r\n\r\n", 400},  // no Host
      {"FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
      {"CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501},
      {"GET /boom HTTP/1.1\r\nHost: a\r\n\r\n", 500},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.request);
    ParsedResponse r = roundtrip(server.port(), k.request);
    EXPECT_EQ(r.status, k.status);
    expect_standard_fields(r);
  }
  expect_clean_shutdown(server);
}

TEST(ResponseFields, ARefusedConnectionGetsDateServerAndContentLengthToo) {
  ServerOptions options = TestServer::loopback();
  options.max_connections = 1;
  TestServer server(options);
  Client first(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }));
  Client second(server.port());
  ParsedResponse r = second.read_response();
  EXPECT_EQ(r.status, 503);
  expect_standard_fields(r);
  EXPECT_TRUE(second.closed_by_peer());
  first.close();
  expect_clean_shutdown(server);
}

TEST(ResponseFields, OmitsTheServerFieldWhenTheServerNameIsEmpty) {
  ServerOptions options = TestServer::loopback();
  options.server_name.clear();
  TestServer server(options);
  ParsedResponse r = roundtrip(server.port(), kGet);
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(r.has("server")) << r.raw;
  EXPECT_TRUE(r.has("date"));
  EXPECT_EQ(r.header("content-length"), "16");
  expect_clean_shutdown(server);
}

TEST(ResponseFields, EchoesTheRequestIdOnTheServersOwnAnswersToo) {
  ServerOptions o = TestServer::loopback();
  o.echo_request_id = true;
  TestServer server(o, [](const Request& q, Response& r) {
    if (q.path() == "/throw") throw std::runtime_error("handler failed");
    r.body = "ok";
  });
  // A malformed request (no Host): the client's id, as a handler's response would carry it.
  ParsedResponse bad = roundtrip(server.port(), "GET / HTTP/1.1\r\nX-Request-Id: abc-1\r\n\r\n");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("x-request-id"), "abc-1");
  // Without a usable id of the client's: one of the server's (32 hex digits).
  ParsedResponse refused = roundtrip(server.port(), "BREW / HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(refused.status, 501);
  EXPECT_EQ(refused.header("x-request-id").size(), 32u);
  // A handler that throws: its 500 keeps the request's id.
  ParsedResponse threw =
      roundtrip(server.port(), "GET /throw HTTP/1.1\r\nHost: a\r\nX-Request-Id: t-9\r\n\r\n");
  EXPECT_EQ(threw.status, 500);
  EXPECT_EQ(threw.header("x-request-id"), "t-9");
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
