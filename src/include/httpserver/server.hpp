// Server: an HTTP/1.1 server on one reactor: a listener, its connections, a handler, limits,
// deadlines and graceful shutdown.
//
//   hs::Reactor reactor;
//   hs::Server server(reactor, {}, hs::text("hello\n"));
//   reactor.run();
//
// The server owns its connections and frees a closed one only after the reactor callback
// that closed it has returned. Deadlines are checked by a once-a-second timer that runs only
// while connections exist, so an idle server never wakes up.
//
// Threads: the reactor's thread only. To scale over cores, run one Server per reactor and
// thread, each with options.listen.reuse_port set: they share nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <httpserver/export.hpp>
#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/options.hpp>
#include <httpserver/reactor.hpp>

namespace hs {

class HS_API Server {
 public:
  // Binds and starts accepting on `reactor`. `error_log`, if given, receives handler
  // failures; its owner flushes it (Logger::attach). Throws std::system_error when the
  // address cannot be bound.
  Server(Reactor& reactor, ServerOptions options, Handler handler, Logger* error_log = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the chosen one when options.listen.port was 0).
  uint16_t port() const noexcept;
  // "[::]:8080", "127.0.0.1:8080" or "unix:/path", for messages: of options.listen, and
  // of every socket (options.listen, then also_listen).
  const std::string& address() const noexcept;
  std::vector<std::string> addresses() const;
  size_t connections() const noexcept;
  ServerStats stats() const noexcept;
  const ServerOptions& options() const noexcept;

  // Graceful shutdown: stops accepting, closes idle connections, lets requests in flight
  // finish (their responses say "Connection: close"), then calls `done` once no connection is
  // left, or when options.shutdown_timeout_ms has passed (the rest are closed). Idempotent.
  void shutdown(std::function<void()> done);
  bool shutting_down() const noexcept;

 private:
  // Everything else (the listener, the connections, their shared state) lives behind this
  // pointer, so that none of it is in an installed header and a change to it is no ABI break.
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hs
