// Pipelining (RFC 9112 section 9.3.2): requests sent back to back on one connection are
// answered in order; the responses of one batch leave together; nothing after a request that
// closes the connection is processed.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <string>

#include "integration_support.hpp"

namespace hs::test {
namespace {

size_t count_of(std::string_view text, std::string_view needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string_view::npos;
       at = text.find(needle, at + needle.size()))
    ++n;
  return n;
}

TEST(Pipelining, AnswersManyRequestsOfOneSendInOrder) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  std::string batch;
  for (int i = 0; i < 10; ++i) {
    if (i % 3 == 1) {
      batch +=
          "POST /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
    } else {
      batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
    }
  }
  ASSERT_TRUE(c.send(batch));
  for (int i = 0; i < 10; ++i) {
    ParsedResponse r = c.read_response();
    EXPECT_EQ(r.status, 200) << "response " << i;
    EXPECT_EQ(r.body, "/" + std::to_string(i));
  }
  EXPECT_FALSE(c.closed_by_peer(200));
  EXPECT_EQ(recorder.calls(), 10u);
  expect_clean_shutdown(server);
}

TEST(Pipelining, AnswersFiftyPipelinedRequestsTogetherInOneWrite) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  std::string batch;
  for (int i = 0; i < 50; ++i)
    batch += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: a\r\n\r\n";
  ASSERT_TRUE(c.send(batch));

  // One read after the first byte arrives: the whole batch of responses is already there,
  // since the server writes the responses to one read's requests with one send.
  pollfd p{c.fd(), POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 3000), 1);
  std::string first_read(1 << 20, '\0');
  ssize_t n = ::recv(c.fd(), first_read.data(), first_read.size(), 0);
  ASSERT_GT(n, 0);
  first_read.resize(static_cast<size_t>(n));
  EXPECT_EQ(count_of(first_read, "HTTP/1.1 200 OK\r\n"), 50u);

  size_t used = 0;
  for (int i = 0; i < 50; ++i) {
    ParsedResponse r;
    size_t n_used = parse_response(std::string_view(first_read).substr(used), r);
    ASSERT_NE(n_used, 0u) << "response " << i << " incomplete in the first read";
    used += n_used;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "/" + std::to_string(i));
  }
  EXPECT_EQ(used, first_read.size());
  EXPECT_EQ(recorder.calls(), 50u);
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(Pipelining, NeverProcessesARequestPipelinedAfterConnectionClose) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
             "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "/1");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(c.read_until_close(200), "");  // no second response
  EXPECT_EQ(recorder.calls(), 1u);
  EXPECT_EQ(recorder.targets(), std::vector<std::string>{"/1"});
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Pipelining, AnswersARequestSplitAcrossSendsAfterACompleteOne) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HT"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "/1");
  ASSERT_TRUE(c.send("TP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "/2");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
