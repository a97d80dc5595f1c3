// Graceful shutdown: the listener closes, idle connections close at once, a request in
// flight is finished and answered with "Connection: close", and after shutdown_timeout the
// stragglers are closed; the done callback fires once no connection is left.
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "integration_support.hpp"

namespace hs::test {
namespace {

using Clock = std::chrono::steady_clock;

// Starts Server::shutdown on the reactor thread; the returned future is ready once the done
// callback has fired.
std::future<void> start_shutdown(TestServer& server) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> ready = done->get_future();
  server.reactor().post(
      [&server, done] { server.server().shutdown([done] { done->set_value(); }); });
  return ready;
}

bool fired_within(std::future<void>& done, int timeout_ms) {
  return done.wait_for(std::chrono::milliseconds(timeout_ms)) == std::future_status::ready;
}

// Waits until the server has read what the client sent: bytes on loopback reach the reactor
// within microseconds; the margin covers a loaded machine.
void let_the_server_read() { std::this_thread::sleep_for(std::chrono::milliseconds(200)); }

TEST(GracefulShutdown, ClosesIdleConnectionsAtOnceAndStopsListening) {
  TestServer server;
  Client kept_alive(server.port());
  ASSERT_TRUE(kept_alive.send(kGet));
  EXPECT_EQ(kept_alive.read_response().status, 200);
  Client silent(server.port());
  ASSERT_TRUE(eventually([&] { return server.connections() == 2; }));

  auto start = Clock::now();
  std::future<void> done = start_shutdown(server);
  EXPECT_TRUE(kept_alive.closed_by_peer(1000));
  EXPECT_TRUE(silent.closed_by_peer(1000));
  EXPECT_EQ(kept_alive.read_until_close(0), "");
  EXPECT_TRUE(fired_within(done, 1000));
  EXPECT_LT(elapsed_ms(start), 500);
  EXPECT_TRUE(server.call([&] { return server.server().shutting_down(); }));
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(server.registered(), 0u);  // the listener too

  Client late(server.port());
  EXPECT_FALSE(late.connected()) << "the listener still accepts after shutdown";
}

TEST(GracefulShutdown, CallsDoneAtOnceWithoutConnections) {
  TestServer server;
  std::future<void> done = start_shutdown(server);
  EXPECT_TRUE(fired_within(done, 500));
  EXPECT_EQ(server.registered(), 0u);
}

TEST(GracefulShutdown, FinishesARequestInFlightAndAnswersItWithConnectionClose) {
  TestServer server(TestServer::loopback(),
                    [](const Request& q, Response& r) { r.body.assign(q.body()); });
  Client c(server.port());
  ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhello"));
  let_the_server_read();

  std::future<void> done = start_shutdown(server);
  EXPECT_FALSE(c.closed_by_peer(300)) << "the request in flight was cut off";
  EXPECT_FALSE(fired_within(done, 0));
  EXPECT_FALSE(Client(server.port()).connected()) << "still accepting while draining";

  ASSERT_TRUE(c.send("world"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "helloworld");
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(fired_within(done, 1000));
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(server.registered(), 0u);
}

TEST(GracefulShutdown, AnswersAHalfSentHeadFinishedAfterShutdownWithConnectionClose) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n"));
  let_the_server_read();
  std::future<void> done = start_shutdown(server);
  EXPECT_FALSE(c.closed_by_peer(300));
  ASSERT_TRUE(c.send("\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(fired_within(done, 1000));
  EXPECT_EQ(server.registered(), 0u);
}

TEST(GracefulShutdown, ClosesStragglersWhenTheShutdownTimeoutPasses) {
  ServerOptions options = TestServer::loopback();
  options.shutdown_timeout_ms = 500;
  TestServer server(options);
  Client straggler(server.port());
  ASSERT_TRUE(straggler.send("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nhel"));
  Client idle(server.port());
  ASSERT_TRUE(idle.send(kGet));
  EXPECT_EQ(idle.read_response().status, 200);
  let_the_server_read();

  auto start = Clock::now();
  std::future<void> done = start_shutdown(server);
  EXPECT_TRUE(idle.closed_by_peer(300));  // idle: at once
  EXPECT_TRUE(straggler.closed_by_peer(3000));
  int64_t waited = elapsed_ms(start);
  EXPECT_GE(waited, 450);
  EXPECT_LE(waited, 2000);
  EXPECT_EQ(straggler.read_until_close(0), "");  // its request is abandoned, unanswered
  EXPECT_TRUE(fired_within(done, 1000));
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(server.registered(), 0u);
}

TEST(GracefulShutdown, IgnoresASecondShutdownWhileDraining) {
  TestServer server;
  Client c(server.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: a\r\n"));
  let_the_server_read();
  std::future<void> first = start_shutdown(server);
  std::future<void> second = start_shutdown(server);  // a no-op: its callback is dropped
  ASSERT_TRUE(c.send("\r\n"));
  EXPECT_EQ(c.read_response().status, 200);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(fired_within(first, 1000));
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(server.registered(), 0u);
}

}  // namespace
}  // namespace hs::test
