// Persistent connections (RFC 9112 section 9.3): HTTP/1.1 stays open unless a side says
// "close"; HTTP/1.0 closes unless the client asks for keep-alive.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace hs::test {
namespace {

TEST(Persistence, KeepsAnHttp11ConnectionOpenForASecondRequest) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "/first");
  EXPECT_NE(first.header("connection"), "close");
  EXPECT_FALSE(c.closed_by_peer(200));

  ASSERT_TRUE(c.send("GET /second HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "/second");
  EXPECT_FALSE(c.closed_by_peer(200));
  EXPECT_EQ(server.stats().accepted, 1u);  // both requests came on one connection
  expect_clean_shutdown(server);
}

TEST(Persistence, AnswersConnectionCloseWithConnectionCloseThenCloses) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(c.read_until_close(100), "");
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Persistence, HonoursConnectionCloseAmongOtherConnectionOptions) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  expect_clean_shutdown(server);
}

TEST(Persistence, ClosesAnHttp10ConnectionByDefault) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.0\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "package main #14");
  EXPECT_NE(r.header("connection"), "keep-alive");
  EXPECT_TRUE(c.closed_by_peer());
  expect_clean_shutdown(server);
}

TEST(Persistence, KeepsAnHttp10ConnectionOpenWhenTheClientAsksForKeepAlive) {
  TestServer server;
  Client c(server.port());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    ParsedResponse r = c.read_response();
    EXPECT_EQ(r.status, 200) << "request " << i;
    EXPECT_EQ(r.header("connection"), "keep-alive") << "request " << i;
    EXPECT_EQ(r.body, "package main #14");
    EXPECT_FALSE(c.closed_by_peer(200)) << "request " << i;
  }
  EXPECT_EQ(server.stats().accepted, 1u);
  expect_clean_shutdown(server);
}

TEST(Persistence, ClosesAfterAHandlerSetsConnectionClose) {
  TestServer server(TestServer::loopback(), [](const Request&, Response& r) {
    r.set_header("Connection", "close");
    r.body = "bye";
  });
  Client c(server.port());
  ASSERT_TRUE(c.send(kGet));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "bye");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_EQ(r.headers.count("connection"), 1u);
  EXPECT_TRUE(c.closed_by_peer());
  expect_clean_shutdown(server);
}

TEST(Persistence, ClosesWhenTheClientShutsDownItsWritingSideAfterTheAnswer) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send(kGet));
  c.shutdown_write();
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(eventually([&] { return server.connections() == 0; }));
  expect_clean_shutdown(server);
}

TEST(Persistence, AConnectionLeftHalfwayThroughARequestLeavesNothingToTheNext) {
  // An idle connection gives its parser back for others to use. Each of these is abandoned
  // mid-request, then a connection opened after it must be parsed from a clean start.
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  const char* abandoned[] = {
      "GE",                                                          // a method cut short
      "FROB / HTT",                                                  // a refused line being judged
      "GET /x HTTP/1.1\r\nHost: a\r\nX-Long: abc",                   // fields still arriving
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9\r\n\r\nabc",  // a body by length
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
      // Complete, but closing: llhttp takes no byte after such a message.
      "DELETE /closing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
      "DELETE /closing HTTP/1.0\r\n\r\n",
  };
  for (const char* bytes : abandoned) {
    {
      Client gone(server.port());
      ASSERT_TRUE(gone.send(bytes));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    // Heads of both parsers (a common GET, llhttp's DELETE), and after a complete request too,
    // so that the parser went back idle and was reused.
    for (int i = 0; i < 2; ++i) {
      for (const char* method : {"GET", "DELETE"}) {
        ParsedResponse r =
            roundtrip(server.port(), std::string(method) + " /next HTTP/1.1\r\nHost: a\r\n\r\n");
        EXPECT_EQ(r.status, 200) << method << " after: " << bytes;
        EXPECT_EQ(r.body, "/next");
      }
    }
  }
  // None of the abandoned ones reached the handler; the two closing ones did.
  EXPECT_EQ(server.stats().requests, 7u * 4 + 2);
  expect_clean_shutdown(server);
}

ServerOptions at_most(uint64_t requests) {
  ServerOptions o = TestServer::loopback();
  o.limits.max_requests_per_connection = requests;
  return o;
}

TEST(Persistence, SaysCloseOnTheLastOfMaxRequestsPerConnectionThenCloses) {
  TestServer server(at_most(3));
  Client c(server.port());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    ParsedResponse r = c.read_response();
    EXPECT_EQ(r.status, 200) << "request " << i;
    if (i < 3) {
      EXPECT_NE(r.header("connection"), "close") << "request " << i;
    } else {
      EXPECT_EQ(r.header("connection"), "close");
    }
  }
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(server.stats().requests, 3u);
  expect_clean_shutdown(server);
}

TEST(Persistence, AnswersNoPipelinedRequestPastMaxRequestsPerConnection) {
  Recorder recorder;
  TestServer server(at_most(2), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  ParsedResponse second = c.read_response();
  EXPECT_EQ(first.body, "/1");
  EXPECT_NE(first.header("connection"), "close");
  EXPECT_EQ(second.body, "/2");
  EXPECT_EQ(second.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(recorder.targets(), (std::vector<std::string>{"/1", "/2"}));
  expect_clean_shutdown(server);
}

TEST(Persistence, KeepsAConnectionWithoutLimitByDefault) {
  TestServer server;
  Client c(server.port());
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    ParsedResponse r = c.read_response();
    ASSERT_EQ(r.status, 200) << "request " << i;
    ASSERT_NE(r.header("connection"), "close") << "request " << i;
  }
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
