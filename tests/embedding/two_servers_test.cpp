// Two servers on one reactor thread, as a host may run them: nothing is shared between them
// but the loop. Each keeps its own Server field, handler and access log, and a Logger is
// flushed by the loop it is attached to, whoever logs through it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <thread>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/server.hpp>

#include "test_server.hpp"

namespace hs::test {
namespace {

struct Pipe {
  Pipe() { EXPECT_EQ(::pipe2(fd, O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  // What arrives within `timeout_ms`, until `lines` newlines have come.
  std::string read_lines(size_t lines, int timeout_ms = 2000) {
    std::string got;
    for (int waited = 0;
         std::count(got.begin(), got.end(), '\n') < static_cast<long>(lines) && waited < timeout_ms;
         waited += 10) {
      pollfd p{fd[0], POLLIN, 0};
      if (::poll(&p, 1, 10) != 1) continue;
      char chunk[4096];
      ssize_t n = ::read(fd[0], chunk, sizeof chunk);
      if (n > 0) got.append(chunk, static_cast<size_t>(n));
    }
    return got;
  }
  int fd[2] = {-1, -1};
};

ServerOptions named(const char* name) {
  ServerOptions o = TestServer::loopback();
  o.server_name = name;
  return o;
}

TEST(TwoServers, ShareOneReactorThreadAndNothingElse) {
  Pipe log_a, log_b;
  Reactor reactor;
  Logger access_a(log_a.fd[1], {}), access_b(log_b.fd[1], {});
  access_a.attach(reactor);
  access_b.attach(reactor);
  const Middleware a_layers[] = {logging(access_a)};
  const Middleware b_layers[] = {logging(access_b)};
  // No error log is given to either Server: the access logs are flushed because their owner
  // attached them, not because a Server flushes them.
  Server a(reactor, named("alpha"), chain(a_layers, text("A")));
  Server b(reactor, named("beta"), chain(b_layers, text("B")));
  std::thread loop([&] { reactor.run(); });

  {
    Client to_a(a.port()), to_b(b.port());
    for (int round = 0; round < 5; ++round) {
      SCOPED_TRACE(round);
      ASSERT_TRUE(to_a.send("GET /a HTTP/1.1\r\nHost: a\r\n\r\n"));
      ASSERT_TRUE(to_b.send("GET /b HTTP/1.1\r\nHost: b\r\n\r\n"));
      ParsedResponse ra = to_a.read_response(), rb = to_b.read_response();
      EXPECT_EQ(ra.body, "A");
      EXPECT_EQ(ra.header("server"), "alpha");
      EXPECT_EQ(rb.body, "B");
      EXPECT_EQ(rb.header("server"), "beta");
    }
  }
  std::string lines_a = log_a.read_lines(5), lines_b = log_b.read_lines(5);
  EXPECT_EQ(std::count(lines_a.begin(), lines_a.end(), '\n'), 5) << lines_a;
  EXPECT_EQ(lines_a.find("/b"), std::string::npos) << lines_a;
  EXPECT_NE(lines_a.find("msg=\"uri: /a\""), std::string::npos) << lines_a;
  EXPECT_EQ(std::count(lines_b.begin(), lines_b.end(), '\n'), 5) << lines_b;
  EXPECT_EQ(lines_b.find("/a"), std::string::npos) << lines_b;

  reactor.post([&] { reactor.stop(); });
  loop.join();
}

// A Logger attached nowhere is never flushed by the loop: its owner decides where it flushes.
TEST(TwoServers, ALoggerDetachedFromTheLoopIsNotFlushedByIt) {
  Pipe log;
  Reactor reactor;
  Logger access(log.fd[1], {});
  access.attach(reactor);
  access.detach();
  const Middleware layers[] = {logging(access)};
  Server server(reactor, TestServer::loopback(), chain(layers, text("x")), &access);
  std::thread loop([&] { reactor.run(); });
  EXPECT_EQ(roundtrip(server.port(), "GET /q HTTP/1.1\r\nHost: a\r\n\r\n").status, 200);
  EXPECT_EQ(log.read_lines(1, 300), "");
  reactor.post([&] {
    access.flush();
    reactor.stop();
  });
  loop.join();
  EXPECT_NE(log.read_lines(1).find("uri: /q"), std::string::npos);
}

}  // namespace
}  // namespace hs::test
