// The request path without sockets, shared by the hot-path benchmark and the instruction
// counter: a detached Connection with the tutorial's middleware and handler, logging to
// /dev/null when asked, as the binary logs to stderr.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string_view>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>

#include "connection.hpp"

namespace bench {

// What wrk sends.
inline constexpr std::string_view kRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

struct Fixture {
  explicit Fixture(hs::LogFormat format)
      : null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC)), logger(null_fd, {format, 1 << 20, 0}) {
    std::vector<hs::Middleware> middlewares;
    if (logger.enabled()) middlewares.push_back(hs::logging(logger));
    shared = std::make_unique<hs::ConnectionShared>(
        reactor, hs::Limits{}, hs::chain(middlewares, hs::text("package main #14")), &logger,
        "httpserver");
    connection = std::make_unique<hs::Connection>(*shared);
  }
  ~Fixture() {
    connection.reset();
    ::close(null_fd);
  }

  // One read's worth of requests in, every response out; the log flushed once, as the server
  // flushes once per loop iteration. Returns the response bytes.
  size_t round(std::string_view batch) {
    connection->receive(batch);
    size_t bytes = connection->output().size();
    connection->output().clear();
    logger.flush();
    return bytes;
  }

  hs::Reactor reactor;
  int null_fd;
  hs::Logger logger;
  std::unique_ptr<hs::ConnectionShared> shared;
  std::unique_ptr<hs::Connection> connection;
};

}  // namespace bench
