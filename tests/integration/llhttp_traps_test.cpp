// What llhttp accepts and leaves to the server: Upgrade and CONNECT pause the
// parser as if the protocol switched, and bytes after a request with "Connection: close" are
// silently ignored. The server switches no protocol: it answers and goes on parsing HTTP/1.1,
// and never processes what follows a request that closes the connection.
#include <gtest/gtest.h>

#include "integration_support.hpp"

namespace hs::test {
namespace {

TEST(LlhttpTraps, AnswersAWebSocketUpgradeRequestNormallyAndTheRequestAfterIt) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
             "GET /after HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.body, "/chat");
  EXPECT_FALSE(first.has("upgrade"));
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200) << "the request after the upgrade was not answered";
  EXPECT_EQ(second.body, "/after");
  EXPECT_FALSE(c.closed_by_peer(200));

  // And the connection still speaks HTTP/1.1 afterwards.
  ASSERT_TRUE(c.send("GET /later HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse third = c.read_response();
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, "/later");
  EXPECT_EQ(recorder.targets(), (std::vector<std::string>{"/chat", "/after", "/later"}));
  expect_clean_shutdown(server);
}

TEST(LlhttpTraps, AnswersAnUpgradeRequestWithABodyAndKeepsTheFramingOfTheNext) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("POST /up HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n"
             "Content-Length: 4\r\n\r\nbody"
             "GET /after HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.body, "/up");
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200) << second.raw;
  EXPECT_EQ(second.body, "/after");
  ASSERT_EQ(recorder.bodies().size(), 2u);
  EXPECT_EQ(recorder.bodies()[0], "body");
  EXPECT_FALSE(c.closed_by_peer(200));
  expect_clean_shutdown(server);
}

TEST(LlhttpTraps, AnswersConnectWith501AndKeepsSpeakingHttp11) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"
             "GET /after HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 501) << first.raw;
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200) << "the request after CONNECT was not answered: " << second.raw;
  EXPECT_EQ(second.body, "/after");
  EXPECT_FALSE(c.closed_by_peer(200));

  ASSERT_TRUE(c.send("GET /later HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse third = c.read_response();
  EXPECT_EQ(third.status, 200);
  EXPECT_EQ(third.body, "/later");
  EXPECT_EQ(recorder.targets(), (std::vector<std::string>{"/after", "/later"}));  // not CONNECT
  expect_clean_shutdown(server);
}

TEST(LlhttpTraps, NeverProcessesBytesAfterARequestWithConnectionClose) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  // Garbage, a request and a bad method after the closing request: none of it may be
  // answered, neither by the handler nor with an error response.
  ASSERT_TRUE(
      c.send("GET /only HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
             "\x01\x02 garbage\r\n\r\n"
             "GET /never HTTP/1.1\r\nHost: a\r\n\r\n"
             "FOO / HTTP/1.1\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "/only");
  EXPECT_EQ(r.header("connection"), "close");
  std::string rest = c.read_until_close(3000);
  EXPECT_EQ(rest, "") << "something answered the bytes after the closing request";
  EXPECT_TRUE(c.closed_by_peer(0));
  EXPECT_EQ(recorder.targets(), std::vector<std::string>{"/only"});
  EXPECT_EQ(server.stats().client_errors, 0u);
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(LlhttpTraps, NeverProcessesBytesSentLaterOnAConnectionThatIsClosing) {
  Recorder recorder;
  TestServer server(TestServer::loopback(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /only HTTP/1.0\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  c.send("GET /never HTTP/1.1\r\nHost: a\r\n\r\n");  // may fail: the server has closed
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(recorder.targets(), std::vector<std::string>{"/only"});
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
