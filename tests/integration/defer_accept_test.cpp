// Deferred accept (ListenerOptions::defer_accept, on by default): the kernel hands a client
// over once its first bytes have arrived, and the server serves them at once, before the
// connection is registered with the reactor. What a client sees must not change: a request
// sent with the connect is answered, and so is what follows on the same connection; a silent
// client is handed over about a second later and is then held to the header timeout; a
// response too large for the socket still goes out whole; over max_connections, a client that
// sent its request is refused with a 503 and an orderly close. (A client that sends part of a head
// gets 408 within the header timeout from its first byte: deadlines_test, whose servers
// defer accept as every default one does.)
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "integration_support.hpp"

namespace hs::test {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kHeaderTimeoutMs = 1000;
// The kernel's one SYN-ACK retransmission (1 s) that ends the defer period, with slack.
constexpr int64_t kDeferMs = 1300;
// The header timeout, one 1 s tick and scheduling slack, as in deadlines_test.
constexpr int64_t kLatestMs = 2600;

ServerOptions short_header_timeout(bool defer = true) {
  ServerOptions o = TestServer::loopback();
  o.listen.defer_accept = defer;
  o.limits.header_timeout_ms = kHeaderTimeoutMs;
  return o;
}

TEST(DeferAccept, AnswersARequestSentWithTheConnectAndTheNextOneOnTheSameConnection) {
  Recorder recorder;
  TestServer server(short_header_timeout(), recorder.handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /first HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200) << first.raw;
  EXPECT_EQ(first.body, "/first");
  // Served before it was registered: what comes next must still be seen.
  ASSERT_TRUE(c.send("GET /second HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 200) << second.raw;
  EXPECT_EQ(second.body, "/second");
  EXPECT_EQ(server.stats().accepted, 1u);
  c.close();
  expect_clean_shutdown(server);
}

TEST(DeferAccept, AnswersAndClosesARequestSentWithTheConnectThatSaysClose) {
  TestServer server(short_header_timeout());
  for (int i = 0; i < 20; ++i) {
    Client c(server.port());
    ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
    ParsedResponse r = c.read_response();
    EXPECT_EQ(r.status, 200) << r.raw;
    EXPECT_TRUE(c.closed_by_peer());
  }
  EXPECT_TRUE(eventually([&] { return server.connections() == 0; }));
  EXPECT_EQ(server.stats().accepted, 20u);
  expect_clean_shutdown(server);
}

TEST(DeferAccept, ServesAClientThatStaysSilentPastTheDeferPeriodOnceItSpeaks) {
  // Handed over with nothing to read: the first read finds the socket empty, and the request
  // that comes later must still be seen.
  ServerOptions o = short_header_timeout();
  o.limits.header_timeout_ms = 10'000;
  TestServer server(o);
  Client c(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }, 4000))
      << "a silent client was never handed over";
  ASSERT_TRUE(c.send(kGet));
  EXPECT_EQ(c.read_response().status, 200);
  c.close();
  expect_clean_shutdown(server);
}

TEST(DeferAccept, ClosesASilentClientAfterTheDeferPeriodAndTheHeaderTimeout) {
  TestServer server(short_header_timeout());
  Client c(server.port());
  auto start = Clock::now();
  EXPECT_EQ(c.read_until_close(kDeferMs + kLatestMs + 1000), "");
  int64_t waited = elapsed_ms(start);
  EXPECT_TRUE(c.closed_by_peer(0));
  EXPECT_GE(waited, kHeaderTimeoutMs - 50);
  EXPECT_LE(waited, kDeferMs + kLatestMs);
  EXPECT_TRUE(eventually([&] { return server.connections() == 0; }));
  expect_clean_shutdown(server);
}

TEST(DeferAccept, WithoutItASilentClientIsClosedAfterTheHeaderTimeoutAlone) {
  TestServer server(short_header_timeout(false));
  Client c(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }, 500))
      << "a silent client was not handed over at once";
  auto start = Clock::now();
  EXPECT_EQ(c.read_until_close(kLatestMs + 1000), "");
  EXPECT_LE(elapsed_ms(start), kLatestMs);
  EXPECT_TRUE(c.closed_by_peer(0));
  expect_clean_shutdown(server);
}

TEST(DeferAccept, SendsAResponseLargerThanTheSocketCanHoldWhole) {
  // The first send fills the socket before the connection is registered: the rest must go
  // out as the client reads.
  const std::string big(8 << 20, 'x');
  TestServer server(short_header_timeout(), [&](const Request&, Response& r) { r.body = big; });
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the socket fill
  ParsedResponse r = c.read_response(10'000);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.size(), big.size());
  EXPECT_TRUE(c.closed_by_peer());
  expect_clean_shutdown(server);
}

// The refused client's request was in the socket when the server closed it: unread, it would
// make the close a reset, which may destroy the 503 before the client reads it (on a real
// network; on loopback it only ends the stream with ECONNRESET instead of end of file). Read,
// it closes as any answered connection: the 503, then end of file.
TEST(DeferAccept, RefusesAClientOverTheLimitWithA503AndAnOrderlyClose) {
  ServerOptions o = short_header_timeout();
  o.max_connections = 1;
  o.limits.header_timeout_ms = 10'000;
  TestServer server(o);
  Client held(server.port());
  ASSERT_TRUE(held.send("GET / HTTP/1.1\r\nHost: a\r\n"));
  ASSERT_TRUE(eventually([&] { return server.connections() == 1; }));
  for (int i = 0; i < 5; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(server.port());
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_EQ(::send(fd, kGet.data(), kGet.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(kGet.size()));
    timeval wait{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the close has happened
    std::string got;
    char buffer[4096];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0)
      got.append(buffer, static_cast<size_t>(n));
    int error = n < 0 ? errno : 0;
    ::close(fd);
    EXPECT_EQ(got.rfind("HTTP/1.1 503 ", 0), 0u) << "client " << i << ": " << got;
    EXPECT_EQ(n, 0) << "client " << i << ": " << std::strerror(error);
  }
  EXPECT_EQ(server.stats().refused, 5u);
  held.close();
  expect_clean_shutdown(server);
}

}  // namespace
}  // namespace hs::test
