// A handler that throws: the client gets a short 500 and the connection is closed; the
// server counts it, logs it, and keeps serving other connections.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>

#include <httpserver/log.hpp>

#include "integration_support.hpp"
#include "unique_fd.hpp"

namespace hs::test {
namespace {

class HandlerErrors : public ::testing::Test {
 protected:
  Handler handler() {
    return [this](const Request& q, Response& r) {
      ++calls_;
      if (q.path() == "/throw") throw std::runtime_error("handler exploded");
      if (q.path() == "/throw-int") throw 42;
      r.body = "fine";
    };
  }
  std::atomic<int> calls_{0};
};

TEST_F(HandlerErrors, AnswersAThrowingHandlerWith500AndClosesTheConnection) {
  TestServer server(TestServer::loopback(), handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /throw HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "500 Internal Server Error\n");
  EXPECT_LT(r.body.size(), 100u);
  EXPECT_EQ(r.body.find("exploded"), std::string::npos);  // no internals leak to the client
  EXPECT_EQ(r.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());

  ParsedResponse next = roundtrip(server.port(), kGet);
  EXPECT_EQ(next.status, 200);
  EXPECT_EQ(next.body, "fine");
  ServerStats stats = server.stats();
  EXPECT_EQ(stats.handler_errors, 1u);
  EXPECT_EQ(stats.requests, 2u);
  expect_clean_shutdown(server);
}

TEST_F(HandlerErrors, AnswersAHandlerThrowingANonStandardExceptionWith500) {
  TestServer server(TestServer::loopback(), handler());
  Client c(server.port());
  ASSERT_TRUE(c.send("GET /throw-int HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(server.stats().handler_errors, 1u);
  expect_still_serving(server);
  expect_clean_shutdown(server);
}

TEST_F(HandlerErrors, DropsRequestsPipelinedAfterTheOneThatFailed) {
  TestServer server(TestServer::loopback(), handler());
  Client c(server.port());
  ASSERT_TRUE(
      c.send("GET /ok HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /throw HTTP/1.1\r\nHost: a\r\n\r\n"
             "GET /never HTTP/1.1\r\nHost: a\r\n\r\n"));
  ParsedResponse first = c.read_response();
  EXPECT_EQ(first.status, 200);
  ParsedResponse second = c.read_response();
  EXPECT_EQ(second.status, 500);
  EXPECT_EQ(second.header("connection"), "close");
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_EQ(calls_.load(), 2);
  expect_still_serving(server);
  EXPECT_EQ(server.stats().handler_errors, 1u);
  expect_clean_shutdown(server);
}

TEST_F(HandlerErrors, DiscardsWhatTheFailedHandlerWroteIntoTheResponse) {
  TestServer server(TestServer::loopback(), [](const Request&, Response& r) {
    r.status = 201;
    r.set_header("X-Partial", "yes");
    r.body = "half written";
    throw std::runtime_error("late failure");
  });
  ParsedResponse r = roundtrip(server.port(), kGet);
  EXPECT_EQ(r.status, 500);
  EXPECT_FALSE(r.has("x-partial"));
  EXPECT_EQ(r.body, "500 Internal Server Error\n");
  EXPECT_EQ(server.stats().handler_errors, 1u);
  expect_clean_shutdown(server);
}

TEST_F(HandlerErrors, ReportsTheFailureToTheErrorLog) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd read_end(fds[0]), write_end(fds[1]);
  std::string logged;
  {
    Logger log(write_end.get(), LoggerOptions{});
    TestServer server(TestServer::loopback(), handler(), &log);
    ParsedResponse r = roundtrip(server.port(), "GET /throw HTTP/1.1\r\nHost: a\r\n\r\n");
    EXPECT_EQ(r.status, 500);
    // The log is flushed before the reactor sleeps: the line is in the pipe soon after.
    EXPECT_TRUE(eventually([&] {
      pollfd p{read_end.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) != 1) return false;
      char chunk[4096];
      ssize_t n = ::read(read_end.get(), chunk, sizeof chunk);
      if (n > 0) logged.append(chunk, static_cast<size_t>(n));
      return logged.find('\n') != std::string::npos;
    }));
    EXPECT_EQ(server.stats().handler_errors, 1u);
    expect_still_serving(server);
    expect_clean_shutdown(server);
  }
  EXPECT_NE(logged.find("level=error"), std::string::npos) << logged;
  EXPECT_NE(logged.find("handler exploded"), std::string::npos) << logged;
}

}  // namespace
}  // namespace hs::test
