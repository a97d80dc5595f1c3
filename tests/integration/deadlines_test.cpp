// Deadlines: a head not complete within header_timeout gets 408 and a close (RFC 9110
// section 15.5.9); a body that stops arriving for body_timeout gets 408 too, on its own
// deadline; a connection that never sends a byte is closed silently; a kept-alive
// connection idle for idle_timeout is closed silently. Deadlines are checked by a 1 s tick,
// so a 1000 ms timeout fires between 1 and about 2 s after it was armed.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <string>
#include <thread>

#include "integration_support.hpp"

namespace hs::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kTimeoutMs = 1000;
constexpr int64_t kLatestMs = 2600;  // the timeout, one tick, and scheduling slack

ServerOptions short_timeouts() {
  ServerOptions o = TestServer::loopback();
  o.limits.header_timeout_ms = kTimeoutMs;
  o.limits.idle_timeout_ms = kTimeoutMs;
  return o;
}

TEST(Deadlines, AnswersAHeadIncompleteWithinTheHeaderTimeoutWith408ThenCloses) {
  Recorder recorder;
  TestServer server(short_timeouts(), recorder.handler());
  Client c(server.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n"));  // no blank line
  ParsedResponse r = c.read_response(4000);
  int64_t waited = elapsed_ms(start);
  EXPECT_EQ(r.status, 408) << r.raw;
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_GE(waited, kTimeoutMs - 50);
  EXPECT_LE(waited, kLatestMs);
  EXPECT_GE(server.stats().timeouts, 1u);
  EXPECT_EQ(recorder.calls(), 0u);
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Deadlines, AnswersAHeadTrickledByteByByteWith408WithinTheHeaderTimeout) {
  // The head's deadline runs from its first byte: progress does not extend it (slowloris).
  TestServer server(short_timeouts());
  Client c(server.port());
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: " + std::string(100, 'v');
  auto start = Clock::now();
  for (char ch : head) {
    if (!c.send(std::string_view(&ch, 1))) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (elapsed_ms(start) > 4000) break;
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) break;  // the server has answered
  }
  ParsedResponse r = c.read_response(4000);
  EXPECT_EQ(r.status, 408) << r.raw;
  EXPECT_LE(elapsed_ms(start), kLatestMs + 100);
  EXPECT_TRUE(c.closed_by_peer());
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Deadlines, ClosesASilentConnectionWithoutAResponse) {
  // Handed over at once, so that the timeout is measured alone: a listener that defers accept
  // hands a silent client over a second later (defer_accept_test).
  ServerOptions o = short_timeouts();
  o.listen.defer_accept = false;
  TestServer server(o);
  Client c(server.port());
  auto start = Clock::now();
  EXPECT_EQ(c.read_until_close(4000), "");
  int64_t waited = elapsed_ms(start);
  EXPECT_TRUE(c.closed_by_peer(0));
  EXPECT_GE(waited, kTimeoutMs - 50);
  EXPECT_LE(waited, kLatestMs);
  EXPECT_TRUE(eventually([&] { return server.connections() == 0; }));
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Deadlines, ClosesAnIdleKeptAliveConnectionAfterTheIdleTimeout) {
  TestServer server(short_timeouts());
  Client c(server.port());
  ASSERT_TRUE(c.send(kGet));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  auto start = Clock::now();
  EXPECT_EQ(c.read_until_close(4000), "");  // closed silently
  int64_t waited = elapsed_ms(start);
  EXPECT_TRUE(c.closed_by_peer(0));
  EXPECT_GE(waited, kTimeoutMs - 50);
  EXPECT_LE(waited, kLatestMs);
  EXPECT_TRUE(eventually([&] { return server.connections() == 0; }));
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Deadlines, KeepsAKeptAliveConnectionOpenWhileRequestsComeWithinTheIdleTimeout) {
  TestServer server(short_timeouts());
  Client c(server.port());
  auto start = Clock::now();
  // Requests 500 ms apart for 2.5 s: each resets the idle deadline.
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(c.send(kGet)) << "request " << i;
    ParsedResponse r = c.read_response();
    ASSERT_EQ(r.status, 200) << "request " << i << " after " << elapsed_ms(start) << " ms";
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_EQ(server.stats().accepted, 1u);
  expect_clean_shutdown(server);
}

// 6 x 400 ms: more than twice the header and the body timeout in all, never a full one
// without a byte: every read that brings body bytes re-arms the body's deadline.
TEST(Deadlines, LetsABodyThatKeepsProgressingOutliveTheHeaderAndBodyTimeouts) {
  ServerOptions o = short_timeouts();
  o.limits.body_timeout_ms = kTimeoutMs;
  TestServer server(o, [](const Request& q, Response& r) { r.body = q.body(); });
  Client c(server.port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\n"));
  for (char ch : std::string("abcdef")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    ASSERT_TRUE(c.send(std::string_view(&ch, 1)));
  }
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body, "abcdef");
  expect_clean_shutdown(server);
}

// The head's deadline and the body's apart: 1 s for a head, 3 s without progress on a body.
constexpr int64_t kBodyTimeoutMs = 3000;

ServerOptions body_timeouts() {
  ServerOptions o = short_timeouts();
  o.limits.body_timeout_ms = kBodyTimeoutMs;
  return o;
}

TEST(Deadlines, AnswersABodyThatStopsWith408AfterTheBodyTimeoutNotTheHeaderTimeout) {
  Recorder recorder;
  TestServer server(body_timeouts(), recorder.handler());
  Client c(server.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc"));
  // Still open past the header timeout: the head is complete, the body has its own deadline.
  EXPECT_FALSE(c.closed_by_peer(static_cast<int>(kLatestMs)));
  ParsedResponse r = c.read_response(kBodyTimeoutMs + 4000);
  int64_t waited = elapsed_ms(start);
  EXPECT_EQ(r.status, 408) << r.raw;
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_GE(waited, kBodyTimeoutMs - 50);
  EXPECT_LE(waited, kBodyTimeoutMs + kLatestMs - kTimeoutMs);
  EXPECT_EQ(recorder.calls(), 0u);
  ServerStats stats = server.stats();
  EXPECT_EQ(stats.traffic.timeouts.body, 1u);
  EXPECT_EQ(stats.traffic.timeouts.header, 0u);
  EXPECT_EQ(stats.traffic.responses[TrafficStats::kPost][3], 1u);  // 408 counted under POST
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST(Deadlines, HoldsAHeadToTheHeaderTimeoutWhenTheBodyTimeoutIsLonger) {
  TestServer server(body_timeouts());
  Client c(server.port());
  auto start = Clock::now();
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n"));  // no blank line
  ParsedResponse r = c.read_response(4000);
  int64_t waited = elapsed_ms(start);
  EXPECT_EQ(r.status, 408) << r.raw;
  EXPECT_GE(waited, kTimeoutMs - 50);
  EXPECT_LE(waited, kLatestMs);
  EXPECT_EQ(server.stats().traffic.timeouts.header, 1u);
  EXPECT_EQ(server.stats().traffic.timeouts.body, 0u);
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
