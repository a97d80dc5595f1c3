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

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connection.hpp"
#include "listener.hpp"
#include "log.hpp"
#include "middleware.hpp"
#include "reactor.hpp"

namespace hs {

struct ServerOptions {
  ListenerOptions listen;                 // address "" (all, dual-stack), port 8080
  Limits limits;                          // sizes and timeouts; see connection.hpp for each default
  size_t max_connections = 10'000;        // more are answered 503 and closed at once
  uint64_t shutdown_timeout_ms = 10'000;  // shutdown() waits this long for busy connections
  std::string server_name = "httpserver";  // the Server field; empty for none
};

struct ServerStats : ConnectionStats {
  uint64_t refused = 0;  // over max_connections
  uint64_t shed = 0;     // accepted and closed while out of descriptors
  size_t connections = 0;
};

class Server {
 public:
  // Binds and starts accepting on `reactor`. `error_log`, if given, receives handler
  // failures; its owner flushes it (Logger::attach). Throws std::system_error when the
  // address cannot be bound.
  Server(Reactor& reactor, ServerOptions options, Handler handler, Logger* error_log = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const noexcept { return listener_->port(); }
  const std::string& address() const noexcept { return listener_->name(); }
  size_t connections() const noexcept { return count_; }
  ServerStats stats() const noexcept;
  const ServerOptions& options() const noexcept { return options_; }

  // Graceful shutdown: stops accepting, closes idle connections, lets requests in flight
  // finish (their responses say "Connection: close"), then calls `done` once no connection is
  // left, or when options.shutdown_timeout_ms has passed (the rest are closed). Idempotent.
  void shutdown(std::function<void()> done);
  bool shutting_down() const noexcept { return shared_.draining; }

 private:
  void accept(UniqueFd fd) noexcept;
  void refuse(UniqueFd fd) noexcept;
  void closed(Connection& connection) noexcept;
  void tick() noexcept;
  void expire(List& list, uint64_t now) noexcept;
  void free_retired() noexcept;
  void maybe_done() noexcept;

  Reactor& reactor_;
  ServerOptions options_;
  ConnectionShared shared_;
  std::unique_ptr<Listener> listener_;
  std::vector<std::unique_ptr<Connection>> connections_;  // indexed by fd
  std::vector<std::unique_ptr<Connection>> retired_;      // closed, freed before the sleep
  size_t count_ = 0;
  uint64_t refused_ = 0;
  std::string refusal_;  // the 503, serialized again for each refused client
  Reactor::TimerId tick_timer_ = 0;
  Reactor::TimerId shutdown_timer_ = 0;
  std::function<void()> on_done_;
  Reactor::HookId before_sleep_ = 0;
};

}  // namespace hs
