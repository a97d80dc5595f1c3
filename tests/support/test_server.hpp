// Test support: a Server on its own reactor thread, and a raw loopback client with timeouts.
//
// TestServer binds 127.0.0.1 port 0 and runs the reactor on a thread; call() runs a function
// on that thread (through Reactor::post) and waits for its result, so tests can read server
// state without races. The destructor stops the loop and checks nothing is left registered.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>

namespace hs::test {

class TestServer {
 public:
  explicit TestServer(ServerOptions options = loopback(),
                      Handler handler = text("package main #14"), Logger* log = nullptr);
  ~TestServer();

  uint16_t port() const { return port_; }
  Reactor& reactor() { return *reactor_; }
  Server& server() { return *server_; }

  // Runs `fn` on the reactor thread and returns its result.
  template <class F>
  auto call(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto result = task.get_future();
    reactor_->post([&task] { task(); });
    return result.get();
  }

  // Starts a graceful shutdown and waits (up to `timeout_ms`) until the server reports done.
  bool shutdown(int timeout_ms = 5000);
  // Registrations left on the reactor (0 once every connection and the listener are closed).
  size_t registered() {
    return call([this] { return reactor_->registered(); });
  }
  size_t connections() {
    return call([this] { return server_->connections(); });
  }
  ServerStats stats() {
    return call([this] { return server_->stats(); });
  }

  static ServerOptions loopback() {
    ServerOptions o;
    o.listen.address = "127.0.0.1";
    o.listen.port = 0;
    return o;
  }

 private:
  std::unique_ptr<Reactor> reactor_;
  Logger* log_;  // attached to reactor_, detached when it stops
  std::unique_ptr<Server> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::promise<void> done_;
  bool shut_down_ = false;
};

struct ParsedResponse {
  int status = 0;
  std::string reason;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string raw;
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool has(const std::string& lower_name) const { return headers.count(lower_name) != 0; }
};

// A blocking client socket on loopback; every wait is bounded.
class Client {
 public:
  explicit Client(uint16_t port, bool ipv6 = false);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Sends all of `bytes`; false if the peer reset or the send timed out.
  bool send(std::string_view bytes);
  // Reads one complete response (status line, fields, Content-Length or chunked body);
  // status 0 when none arrived within `timeout_ms` or the connection closed first.
  // Pass head_request=true for a response to HEAD (no body follows).
  ParsedResponse read_response(int timeout_ms = 3000, bool head_request = false);
  // Reads until the peer closes or `timeout_ms` passes; returns what arrived.
  std::string read_until_close(int timeout_ms = 3000);
  // True when the peer closes (EOF or reset) within `timeout_ms` without sending more.
  bool closed_by_peer(int timeout_ms = 3000);
  void shutdown_write();
  void close();

 private:
  bool fill(int timeout_ms);  // reads what is available into buffered_
  int fd_ = -1;
  std::string buffered_;
  bool eof_ = false;
};

// Parses one response at the start of `text`; returns bytes consumed, 0 when incomplete.
size_t parse_response(std::string_view text, ParsedResponse& out, bool head_request = false);

// Convenience: one request on a fresh connection, one response.
ParsedResponse roundtrip(uint16_t port, std::string_view request, int timeout_ms = 3000);

}  // namespace hs::test
