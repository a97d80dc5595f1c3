// The request path with its socket: a real Connection (connection.hpp) on one end of a
// socketpair, served by one reactor iteration per batch, the responses read back from the
// other end. Counts what Fixture (hot_path_fixture.hpp) leaves out: the reads, the sends, the
// epoll loop and the connection's state; user space only under callgrind.
#pragma once

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <string_view>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>

#include "connection.hpp"
#include "unique_fd.hpp"

namespace bench {

struct SocketFixture {
  explicit SocketFixture(hs::LogFormat format)
      : null_fd(::open("/dev/null", O_WRONLY | O_CLOEXEC)), logger(null_fd, {format, 1 << 20, 0}) {
    logger.attach(reactor);
    std::vector<hs::Middleware> middlewares;
    if (logger.enabled()) middlewares.push_back(hs::logging(logger));
    shared = std::make_unique<hs::ConnectionShared>(
        reactor, hs::Limits{}, hs::chain(middlewares, hs::text("package main #14")), &logger,
        "httpserver");
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends) != 0) {
      failed = true;
      return;
    }
    client = ends[1];
    sockaddr_storage peer{};
    peer.ss_family = AF_UNIX;
    connection = std::make_unique<hs::Connection>(*shared, hs::UniqueFd(ends[0]), peer);
    connection->start(false);  // registered: the first batch is read when epoll reports it
  }
  ~SocketFixture() {
    connection.reset();
    logger.detach();
    if (client >= 0) ::close(client);
    ::close(null_fd);
  }

  // One batch written by the client, one reactor iteration, every response read back.
  size_t round(std::string_view batch) {
    if (failed ||
        ::write(client, batch.data(), batch.size()) != static_cast<ssize_t>(batch.size())) {
      failed = true;
      return 0;
    }
    reactor.run_once(0);
    size_t bytes = 0;
    for (ssize_t n; (n = ::read(client, buffer, sizeof buffer)) > 0;)
      bytes += static_cast<size_t>(n);
    if (connection->closed()) failed = true;
    return bytes;
  }

  hs::Reactor reactor;
  int null_fd;
  hs::Logger logger;
  std::unique_ptr<hs::ConnectionShared> shared;
  std::unique_ptr<hs::Connection> connection;
  int client = -1;
  char buffer[1 << 16];
  bool failed = false;
};

}  // namespace bench
