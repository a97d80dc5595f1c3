// The request path without sockets, shared by the hot-path benchmark and the instruction
// counter: the request codec and the responder a Connection runs, with the tutorial's
// middleware and handler, logging to /dev/null when asked, as the binary logs to stderr.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>

#include "connection.hpp"
#include "request_codec.hpp"
#include "responder.hpp"

namespace bench {

// What wrk sends.
inline constexpr std::string_view kRequest = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

struct Fixture {
  // With `access_log`, each response also gets its access line (access_log.hpp), as a
  // Connection writes it with ServerOptions::access_log.
  explicit Fixture(hs::LogFormat format, bool access_log = false)
      : null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC)),
        logger(null_fd, {format, 1 << 20, 0}),
        access_log(access_log) {
    std::vector<hs::Middleware> middlewares;
    if (logger.enabled()) middlewares.push_back(hs::logging(logger));
    shared = std::make_unique<hs::ConnectionShared>(
        reactor, hs::Limits{}, hs::chain(middlewares, hs::text("package main #14")), &logger,
        "httpserver");
    codec = std::make_unique<hs::RequestCodec>(shared->codec_rules);
  }
  ~Fixture() {
    codec.reset();
    shared.reset();
    ::close(null_fd);
  }

  // One read's worth of requests in (a batch fits one pooled buffer), every response out;
  // the buffer goes back to the pool as an idle connection's does, and the log is flushed
  // once, as the server flushes once per loop iteration. Returns the response bytes.
  size_t round(std::string_view batch) {
    std::unique_ptr<hs::ReadBuffer> in = shared->pool.get_read();
    if (batch.size() > in->capacity) {
      failed = true;
      return 0;
    }
    std::memcpy(in->data.get(), batch.data(), batch.size());
    in->length = batch.size();
    hs::RequestCodec::Result result;
    uint64_t start_ns = access_log ? hs::monotonic_ns() : 0;  // the read's time
    size_t from = 0;
    while ((result = codec->decode(*in)) == hs::RequestCodec::Result::request) {
      hs::Answer a = answer(*shared, *in, codec->head(), out);
      hs::count_answer(*shared, a, codec->head());  // as Connection::dispatch() counts it
      if (access_log) {
        const hs::Request& q = shared->request;
        char proto[16];
        hs::log_access(logger, {q.method(), q.target(), ids.next(), "127.0.0.1:50412",
                                hs::http_version(q.version_major(), q.version_minor(), proto),
                                shared->response.status, out.size() - from,
                                (hs::monotonic_ns() - start_ns) / 1000});
        from = out.size();
      }
      if (a.outcome != hs::Answer::Outcome::keep_alive) failed = true;
    }
    if (result != hs::RequestCodec::Result::more) failed = true;
    shared->pool.put_read(std::move(in));
    size_t bytes = out.size();
    out.clear();
    logger.flush();
    return bytes;
  }

  hs::Reactor reactor;
  int null_fd;
  hs::Logger logger;
  std::unique_ptr<hs::ConnectionShared> shared;
  std::unique_ptr<hs::RequestCodec> codec;
  std::string out;
  bool access_log;
  hs::RequestIds ids;
  bool failed = false;  // a request was refused, or a response closes
};

}  // namespace bench
