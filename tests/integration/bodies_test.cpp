// Request bodies (RFC 9112 section 6, RFC 9110 section 10.1.1): Content-Length and chunked
// bodies reach the handler whole; a body is always consumed, whatever the method; Expect:
// 100-continue is answered before the body is sent.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>

#include "integration_support.hpp"

namespace hs::test {
namespace {

// Answers 200 with the body it received.
void echo(const Request& request, Response& response) { response.body.assign(request.body()); }

TEST(Bodies, HandsAContentLengthBodyToTheHandlerInFull) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "/small");
  ASSERT_EQ(recorder.bodies().size(), 1u);
  EXPECT_EQ(recorder.bodies()[0], "hello world");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Bodies, HandsABodyLargerThanTheReadBufferToTheHandlerInFull) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  std::string body;
  for (int i = 0; body.size() < 200'000; ++i) body += std::to_string(i) + ",";
  ASSERT_TRUE(c.send(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  // In pieces, as a slow client sends it.
  for (size_t at = 0; at < body.size(); at += 7'000)
    ASSERT_TRUE(c.send(std::string_view(body).substr(at, 7'000)));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), body.size());
  EXPECT_TRUE(r.body == body) << "the body differs";
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

// A body in which a byte out of place shows: no run of it repeats within 26 * 13 bytes.
std::string pattern(size_t n) {
  std::string s(n, 0);
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 13) % 26);
  return s;
}

std::string post_head(size_t length) {
  return "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

TEST(Bodies, EchoesBodiesOfEverySizeByteForByteOnOneKeptAliveConnection) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  // Around the read buffer (4 KiB), the room left after a head, the pieces a streamed body is
  // read in (64 KiB), and up to max_body_bytes (1 MiB): each whole in one write, then with
  // its head alone and its body in uneven pieces, as a slow client sends it.
  const size_t sizes[] = {0,
                          1,
                          1000,
                          3000,
                          4095,
                          4096,
                          4097,
                          8192,
                          65535,
                          65536,
                          65537,
                          200'000,
                          1024 * 1024 - 1,
                          1024 * 1024};
  const size_t pieces[] = {1, 17, 1000, 4096, 9000, 70'000};
  for (size_t size : sizes) {
    std::string body = pattern(size);
    for (bool split : {false, true}) {
      if (!split) {
        ASSERT_TRUE(c.send(post_head(size) + body));
      } else {
        ASSERT_TRUE(c.send(post_head(size)));
        size_t at = 0;
        for (size_t i = 0; at < size; ++i) {
          size_t n = std::min(pieces[i % std::size(pieces)], size - at);
          ASSERT_TRUE(c.send(std::string_view(body).substr(at, n)));
          at += n;
        }
      }
      ParsedResponse r = c.read_response(5000);
      ASSERT_EQ(r.status, 200) << size << (split ? " split" : " whole");
      EXPECT_EQ(r.body.size(), size);
      EXPECT_TRUE(r.body == body) << size << ": the body differs";
      EXPECT_FALSE(r.has("connection"));
    }
  }
  EXPECT_FALSE(c.closed_by_peer(100));
  expect_clean_shutdown(server);
}

TEST(Bodies, AnswersPipelinedUploadsInOrder) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  std::string a = pattern(10'000), b = pattern(70'000).substr(1), d = "z";
  ASSERT_TRUE(c.send(post_head(a.size()) + a + post_head(b.size()) + b +
                     "GET /between HTTP/1.1\r\nHost: a\r\n\r\n" + post_head(d.size()) + d));
  EXPECT_TRUE(c.read_response().body == a);
  EXPECT_TRUE(c.read_response().body == b);
  EXPECT_EQ(c.read_response().body, "");  // the GET's empty body, echoed
  EXPECT_EQ(c.read_response().body, d);
  EXPECT_FALSE(c.closed_by_peer(100));
  expect_clean_shutdown(server);
}

TEST(Bodies, TakesABodyOfExactlyMaxBodyBytesAndRefusesOneByteMoreWith413) {
  ServerOptions options = TestServer::loopback();
  options.limits.max_body_bytes = 100'000;  // far past the read buffer
  Recorder recorder;
  TestServer server(options, recorder.handler());
  Client c(server.port());
  std::string body = pattern(100'000);
  ASSERT_TRUE(c.send(post_head(body.size()) + body));
  EXPECT_EQ(c.read_response().status, 200);
  ASSERT_EQ(recorder.bodies().size(), 1u);
  EXPECT_TRUE(recorder.bodies()[0] == body);
  // The next one on the same connection is a byte over: refused at its head.
  ASSERT_TRUE(c.send(post_head(100'001)));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(recorder.calls(), 1u);
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Bodies, DecodesAChunkedBodyWithExtensionsAndTrailers) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5;ext=1\r\nhello\r\n"
             "6;name=\"quoted value\";flag\r\n world\r\n"
             "A\r\n, chunked!\r\n"
             "0\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world, chunked!");
  EXPECT_FALSE(c.closed_by_peer(200));

  // The connection is still in step: a next request parses.
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nnext"));
  ParsedResponse next = c.read_response();
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "next");
  expect_clean_shutdown(server);
}

TEST(Bodies, DecodesAChunkedBodySentOneByteAtATime) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  std::string request =
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nT: v\r\n\r\n";
  for (char ch : request) ASSERT_TRUE(c.send(std::string_view(&ch, 1)));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "abcdefg");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Bodies, ConsumesABodyOnGetSoThatTheNextPipelinedRequestStaysInStep) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  // A body that looks like a request: if it were not consumed, it would be answered.
  const std::string body = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_TRUE(
      c.send("GET /1 HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
             "\r\n\r\n" + body + "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "/1");
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "/2");
  EXPECT_EQ(recorder.targets(), (std::vector<std::string>{"/1", "/2"}));
  ASSERT_EQ(recorder.bodies().size(), 2u);
  EXPECT_EQ(recorder.bodies()[0], body);
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Bodies, SendsOneHundredContinueBeforeTheBodyThenTheFinalResponse) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  ParsedResponse interim = c.read_response();
  EXPECT_EQ(interim.status, 100);
  EXPECT_EQ(interim.raw, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(c.send("hello"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

// Whitespace around a value is not part of it (RFC 9112 section 5): a Host, a
// Transfer-Encoding and an Expect with spaces and tabs around them mean what they say.
TEST(Bodies, ReadsHostTransferEncodingAndExpectWithWhitespaceAroundThem) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: \ta \t\r\nTransfer-Encoding:  chunked \r\n"
             "Expect: 100-continue\t\r\n\r\n"));
  ParsedResponse interim = c.read_response();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.send("5\r\nhello\r\n0\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Bodies, SendsOneHundredContinueForAChunkedBody) {
  TestServer server(TestServer::loopback(), echo);
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
             "Expect: 100-Continue\r\n\r\n"));
  ParsedResponse interim = c.read_response();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.send("2\r\nok\r\n0\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Bodies, RejectsAnExpectedBodyOverTheLimitWith413AndNoContinue) {
  ServerOptions options = TestServer::loopback();
  options.limits.max_body_bytes = 1000;
  Recorder recorder;
  TestServer server(options, recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n"
             "Expect: 100-continue\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 413) << r.raw;  // the first response: no 100 before it
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(recorder.calls(), 0u);
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Bodies, RejectsAnUnknownExpectationWith417) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  expect_rejected(server,
                  "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n"
                  "Expect: something-else\r\n\r\nhi",
                  417);
  EXPECT_EQ(recorder.calls(), 1u);  // only the GET of expect_still_serving
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
