// Malformed requests (RFC 9112 sections 2.2, 3, 5): each is answered with its status, the
// connection is closed, and the server goes on serving new connections. Bytes are written
// raw, as a hostile or broken client would send them.
#include <gtest/gtest.h>

#include <string>

#include "integration_support.hpp"

namespace hs::test {
namespace {

using namespace std::string_view_literals;

class MalformedRequest : public ::testing::Test {
 protected:
  void TearDown() override {
    EXPECT_EQ(recorder_.calls(), handled_);  // no malformed request reached the handler
    expect_clean_shutdown(server_);
  }
  // Each expect_rejected also sends one good request on a new connection.
  void rejects(std::string_view request, int status) {
    SCOPED_TRACE(testing::Message() << "request: " << testing::PrintToString(std::string(request)));
    expect_rejected(server_, request, status);
    ++handled_;
  }

  Recorder recorder_;
  TestServer server_{TestServer::loopback(), recorder_.handler()};
  size_t handled_ = 0;
};

TEST_F(MalformedRequest, AnswersAGarbledRequestLineWith400) {
  // RFC 9112 section 3: an invalid request-line gets 400. Not 501: that is for a well-formed
  // request whose method the server does not implement.
  rejects("GARBAGE\r\n\r\n", 400);
  rejects("/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);  // no method
}

TEST_F(MalformedRequest, AnswersARequestLineWithABrokenVersionWith400) {
  rejects("GET / HTTP/1.1 extra\r\nHost: a\r\n\r\n", 400);
  rejects("GET / HTTX/1.1\r\nHost: a\r\n\r\n", 400);
  rejects("GET / HTTP/1.\r\nHost: a\r\n\r\n", 400);
  rejects("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
  rejects("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);  // space inside the target
}

TEST_F(MalformedRequest, AnswersARequestLineWithoutVersionWith400) {
  // RFC 9112's request-line requires HTTP-version; HTTP/0.9's version-less form is gone.
  rejects("GET /\r\nHost: a\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersInvalidCharactersInAHeaderNameWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\r\nBad\"Name: v\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: a\r\nBad(Name): v\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: a\r\nBad/Name: v\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersAHeaderLineWithoutColonWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersABareLfEndingTheRequestLineWith400) {
  rejects("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersABareLfEndingAHeaderLineWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersABareLfAsTheFinalBlankLineWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
}

TEST_F(MalformedRequest, AnswersAHeadEndingInBareLfsOnlyWith400) {
  rejects("GET / HTTP/1.1\nHost: a\n\n", 400);
}

TEST_F(MalformedRequest, AnswersABareCrWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400);
}

TEST_F(MalformedRequest, AnswersAnObsFoldContinuationLineWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n two\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: a\r\nX-Folded: one\r\n\ttwo\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersSpaceBeforeTheColonWith400) {
  rejects("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersWhitespaceBeforeTheFirstHeaderWith400) {
  rejects("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
  rejects("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400);
}

TEST_F(MalformedRequest, AnswersHttp2InTheRequestLineWith505) {
  rejects("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
}

TEST_F(MalformedRequest, AnswersAnUnknownMethodWith501) {
  rejects("FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 501);
}

TEST_F(MalformedRequest, AnswersANulInAHeaderValueWith400) {
  rejects("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"sv, 400);
}

TEST_F(MalformedRequest, AnswersAControlCharacterInAHeaderValueWith400) {
  rejects(
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01"
      "b\r\n\r\n",
      400);
  rejects(
      "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f"
      "b\r\n\r\n",
      400);
}

TEST_F(MalformedRequest, AnswersAControlCharacterInTheTargetWith400) {
  rejects(
      "GET /a\x01"
      "b HTTP/1.1\r\nHost: a\r\n\r\n",
      400);
}

TEST_F(MalformedRequest, AnswersMalformedInputAfterAGoodRequestAfterAnsweringIt) {
  Client c(server_.port());
  ASSERT_TRUE(c.send("GET /good HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a b\r\n\r\n"));
  ParsedResponse good = c.read_response();
  EXPECT_EQ(good.status, 200);
  EXPECT_EQ(good.body, "/good");
  ParsedResponse bad = c.read_response();
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  ++handled_;
}

}  // namespace
}  // namespace hs::test
