// The request path without sockets, shared by the hot-path benchmark and the instruction
// counter: the Exchange a Connection runs (codec, responder, order, framing), driven from
// memory by the same driver as the fuzzer and the codec tests, with the tutorial's middleware
// and handler, logging to /dev/null when asked, as the binary logs to stderr.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>

#include "exchange_driver.hpp"
#include "exchange_shared.hpp"

namespace bench {

// What wrk sends.
inline constexpr std::string_view kRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

struct Fixture {
  // With `access_log`, each response also gets its access line (access_log.hpp), as a
  // server writes it with ServerOptions::access_log.
  explicit Fixture(hs::LogFormat format, bool access_log = false)
      : null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC)), logger(null_fd, {format, 1 << 20, 0}) {
    std::vector<hs::Middleware> middlewares;
    if (logger.enabled()) middlewares.push_back(hs::logging(logger));
    shared = std::make_unique<hs::ExchangeShared>(
        reactor, hs::Limits{}, hs::chain(middlewares, hs::text("package main #14")), &logger,
        "httpserver");
    if (access_log) {
      shared->settings.access_log = &logger;
      shared->settings.time_requests = true;
      shared->worker.ids = std::make_unique<hs::RequestIds>();
    }
    driver = std::make_unique<hs::test::ExchangeDriver>(*shared, false);
    if (access_log) driver->exchange().set_remote("127.0.0.1:50412");
  }
  ~Fixture() {
    driver.reset();
    shared.reset();
    ::close(null_fd);
  }

  // One read's worth of requests in, every response out; the buffer goes back to the pool as
  // an idle connection's does, and the log is flushed once, as the server flushes once per
  // loop iteration. Returns the response bytes.
  size_t round(std::string_view batch) {
    size_t before = driver->output_bytes();
    driver->receive(batch);
    if (driver->closed() || driver->next() != hs::Exchange::Next::idle) failed = true;
    logger.flush();
    return driver->output_bytes() - before;
  }

  hs::Reactor reactor;
  int null_fd;
  hs::Logger logger;
  std::unique_ptr<hs::ExchangeShared> shared;
  std::unique_ptr<hs::test::ExchangeDriver> driver;
  bool failed = false;  // a request was refused, or a response closes
};

}  // namespace bench
