// The Host field (RFC 9112 section 3.2): exactly one, with a valid value, in every HTTP/1.1
// request; 400 otherwise. HTTP/1.0 may omit it.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace hs::test {
namespace {

TEST(HostField, AnswersAnHttp11RequestWithoutHostWith400) {
  TestServer server;
  expect_rejected(server, "GET / HTTP/1.1\r\n\r\n", 400);
  expect_rejected(server, "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400);
  expect_clean_shutdown(server);
}

TEST(HostField, AnswersTwoHostFieldsWith400) {
  TestServer server;
  expect_rejected(server, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect_rejected(server, "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
  expect_rejected(server, "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect_clean_shutdown(server);
}

TEST(HostField, AnswersAnInvalidHostValueWith400) {
  TestServer server;
  expect_rejected(server, "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
  expect_rejected(server, "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
  expect_rejected(server, "GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", 400);
  expect_rejected(server, "GET / HTTP/1.1\r\nHost: a\"b\r\n\r\n", 400);
  expect_clean_shutdown(server);
}

TEST(HostField, AcceptsHostValuesOfEveryValidShape) {
  TestServer server;
  for (const char* host : {"example.com", "example.com:8080", "127.0.0.1:80", "[::1]:8080",
                           "xn--bcher-kva.example", "a-b_c~d"}) {
    SCOPED_TRACE(host);
    ParsedResponse r =
        roundtrip(server.port(), std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n");
    EXPECT_EQ(r.status, 200);
  }
  expect_clean_shutdown(server);
}

TEST(HostField, AcceptsAnEmptyHostWhenTheTargetHasNoAuthority) {
  // RFC 9110 section 7.2: "Host:" with an empty value, for a URI without authority.
  TestServer server;
  ParsedResponse r = roundtrip(server.port(), "GET / HTTP/1.1\r\nHost:\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  expect_clean_shutdown(server);
}

TEST(HostField, ServesAnHttp10RequestWithoutHost) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "package main #14");
  EXPECT_TRUE(c.closed_by_peer());  // HTTP/1.0 without keep-alive
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
