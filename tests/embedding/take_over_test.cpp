// Protocol hand-off (Response::take_over): a handler answers 101 Switching Protocols and takes
// the connection for a small echo protocol of its own, as a WebSocket library would.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "test_server.hpp"

namespace hs::test {
namespace {

// The echo protocol: every byte that arrives goes back, after "echo:" once per read.
// Registered with the server's own reactor, as a host would do.
class Echo {
 public:
  explicit Echo(Reactor& reactor) : reactor_(reactor) {}
  ~Echo() {
    if (fd_ >= 0) {
      reactor_.remove(fd_);
      ::close(fd_);
    }
  }
  void start(int fd, std::string_view already_read) {
    fd_ = fd;
    first_bytes_ = std::string(already_read);
    if (!already_read.empty()) reply(already_read);
    reactor_.add(fd_, kReadable | kEdgeTriggered, [this](uint32_t) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd_, buf, sizeof buf)) > 0) reply({buf, static_cast<size_t>(n)});
      if (n == 0) {         // the client is done: the protocol closes, not the server
        Echo* self = this;  // remove() destroys this lambda, captures and all
        int fd = std::exchange(fd_, -1);
        self->closed_by_us_ = true;
        self->reactor_.remove(fd);
        ::close(fd);
      }
    });
  }
  int fd() const { return fd_; }
  const std::string& first_bytes() const { return first_bytes_; }
  bool closed_by_us() const { return closed_by_us_; }

 private:
  void reply(std::string_view data) {
    std::string out = "echo:" + std::string(data);
    (void)::send(fd_, out.data(), out.size(), MSG_NOSIGNAL);
  }
  Reactor& reactor_;
  int fd_ = -1;
  std::string first_bytes_;
  bool closed_by_us_ = false;
};

// Reads from `fd` until `text` has arrived (or 3 s); returns all that came.
std::string read_until(int fd, std::string_view text, std::string& buffer) {
  auto start = std::chrono::steady_clock::now();
  while (buffer.find(text) == std::string::npos &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(3)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) != 1) continue;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    buffer.append(buf, static_cast<size_t>(n));
  }
  return buffer;
}

struct EchoServer {
  explicit EchoServer(ServerOptions options = TestServer::loopback(), int status = 101)
      : server(std::move(options), [this, status](const Request& request, Response& response) {
          if (request.path() != "/echo") {
            response.body = "plain http";
            return;
          }
          response.status = status;
          response.set_header("Upgrade", "echo");
          response.take_over([this](int fd, std::string_view rest) { echo->start(fd, rest); });
        }) {
    echo = std::make_unique<Echo>(server.reactor());
  }
  ~EchoServer() {
    server.call([this] {
      echo.reset();
      return 0;
    });
  }
  std::unique_ptr<Echo> echo;
  TestServer server;
};

constexpr char kUpgrade[] =
    "GET /echo HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

TEST(TakeOver, A101HandsTheConnectionAndTheBytesAfterTheRequestToTheHandler) {
  ServerOptions options = TestServer::loopback();
  options.limits.idle_timeout_ms = 200;  // would close a connection the server still owned
  options.limits.header_timeout_ms = 200;
  EchoServer s(options);
  Client c(s.server.port());
  // A request served as HTTP first, then the upgrade with the new protocol's first bytes in
  // the same packet.
  ASSERT_TRUE(c.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n" + std::string(kUpgrade) + "hello"));
  std::string got;
  read_until(c.fd(), "echo:hello", got);
  EXPECT_EQ(got.find("HTTP/1.1 200 OK\r\n"), 0u) << got;
  size_t switching = got.find("HTTP/1.1 101 Switching Protocols\r\n");
  ASSERT_NE(switching, std::string::npos) << got;
  std::string head = got.substr(switching, got.find("\r\n\r\n", switching) + 4 - switching);
  EXPECT_NE(head.find("\r\nConnection: Upgrade\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("\r\nUpgrade: echo\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("Content-Length"), std::string::npos) << head;
  EXPECT_EQ(head.find("close"), std::string::npos) << head;
  // The bytes the server had read past the request came with the descriptor.
  EXPECT_EQ(got.substr(switching + head.size()), "echo:hello");
  EXPECT_EQ(s.server.call([&] { return s.echo->first_bytes(); }), "hello");

  // The server forgot it: not counted, no deadline (its idle and header timeouts are long
  // past), and the protocol goes on.
  EXPECT_EQ(s.server.connections(), 0u);
  EXPECT_EQ(s.server.stats().taken_over, 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past a tick of deadlines
  got.clear();
  ASSERT_TRUE(c.send("world"));
  EXPECT_EQ(read_until(c.fd(), "echo:world", got), "echo:world");
  // The protocol, not the server, closes it.
  c.shutdown_write();
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_TRUE(s.server.call([&] { return s.echo->closed_by_us(); }));
  EXPECT_EQ(s.server.stats().timeouts, 0u);
}

TEST(TakeOver, AnyStatusMayHandOverAndNothingAfterTheRequestIsParsedAsHttp) {
  EchoServer s(TestServer::loopback(), 200);
  Client c(s.server.port());
  // What follows the request is the new protocol's, even when it looks like HTTP.
  ASSERT_TRUE(c.send(std::string(kUpgrade) + "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
  std::string got;
  read_until(c.fd(), "echo:GET /x", got);
  EXPECT_EQ(got.find("HTTP/1.1 200 OK\r\n"), 0u) << got;
  EXPECT_EQ(got.find("Connection:"), std::string::npos) << "neither close nor Upgrade: " << got;
  EXPECT_NE(got.find("\r\n\r\necho:GET /x HTTP/1.1"), std::string::npos) << got;
  EXPECT_EQ(s.server.stats().requests, 1u);
}

TEST(TakeOver, ATakerThatThrowsHasTheDescriptorClosedAndTheServerGoesOn) {
  TestServer server(TestServer::loopback(), [](const Request& request, Response& response) {
    if (request.path() != "/echo") return;
    response.status = 101;
    response.set_header("Upgrade", "echo");
    response.take_over([](int, std::string_view) { throw std::runtime_error("no protocol"); });
  });
  Client c(server.port());
  ASSERT_TRUE(c.send(kUpgrade));
  std::string got;
  read_until(c.fd(), "\r\n\r\n", got);
  EXPECT_EQ(got.find("HTTP/1.1 101 "), 0u) << got;
  EXPECT_TRUE(c.closed_by_peer()) << "the descriptor of a failed take-over stayed open";
  EXPECT_EQ(server.stats().taken_over, 1u);
  EXPECT_EQ(roundtrip(server.port(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n").status, 200);
}

}  // namespace
}  // namespace hs::test
