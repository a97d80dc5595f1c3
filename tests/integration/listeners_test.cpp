// Sockets a Server serves: several at once, unix sockets (mode, a stale file replaced, a live
// one refused, the file removed on close), and sockets handed over already listening (what
// systemd socket activation passes).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>

#include "listener.hpp"
#include "test_server.hpp"

namespace {

using hs::ListenerOptions;
using hs::ServerOptions;
using hs::test::TestServer;

const char kRequest[] = "GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

// A directory of its own for each test's socket files, removed afterwards.
class TempDir {
 public:
  TempDir() {
    char name[] = "/tmp/httpserver-listeners-XXXXXX";
    if (!::mkdtemp(name)) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = name;
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path_ + "'";
    (void)std::system(cmd.c_str());
  }
  std::string file(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// One request over `fd`, connected already; the whole reply.
std::string exchange(int fd) {
  timeval five{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
  std::string reply;
  if (::send(fd, kRequest, sizeof kRequest - 1, MSG_NOSIGNAL) == sizeof kRequest - 1) {
    char buf[4096];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) reply.append(buf, n);
  }
  ::close(fd);
  return reply;
}

std::string get_unix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr = unix_address(path);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect: " + std::string(std::strerror(errno));
  }
  return exchange(fd);
}

std::string get_tcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect: " + std::string(std::strerror(errno));
  }
  return exchange(fd);
}

bool is_ok(const std::string& reply) { return reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0; }

uint16_t port_of(const std::string& name) {
  return static_cast<uint16_t>(std::stoi(name.substr(name.rfind(':') + 1)));
}

TEST(Listeners, ServesATcpAndAUnixSocketAtOnceAndNamesBoth) {
  TempDir dir;
  ServerOptions options = TestServer::loopback();
  ListenerOptions second;
  second.address = "unix:" + dir.file("s.sock");
  options.also_listen.push_back(second);
  TestServer server(options);
  auto names = server.call([&] { return server.server().addresses(); });
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[0], "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_EQ(names[1], "unix:" + dir.file("s.sock"));
  EXPECT_TRUE(is_ok(get_tcp(server.port())));
  EXPECT_TRUE(is_ok(get_unix(dir.file("s.sock"))));
  EXPECT_EQ(server.stats().requests, 2u);
}

TEST(Listeners, UnixSocketGetsItsModeAndIsRemovedOnShutdown) {
  TempDir dir;
  const std::string path = dir.file("m.sock");
  ServerOptions options;
  options.listen.address = "unix:" + path;
  options.listen.unix_mode = 0600;
  {
    TestServer server(options);
    struct stat st;
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_TRUE(is_ok(get_unix(path)));
    EXPECT_TRUE(server.shutdown());
    EXPECT_NE(::access(path.c_str(), F_OK), 0) << "the socket file outlived the listener";
  }
}

TEST(Listeners, AStaleSocketFileIsReplacedALiveOneIsRefused) {
  TempDir dir;
  const std::string path = dir.file("stale.sock");
  {
    // A crashed run: bound, never closed properly (the file stays, nobody accepts).
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr = unix_address(path);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ServerOptions options;
  options.listen.address = "unix:" + path;
  TestServer first(options);
  EXPECT_TRUE(is_ok(get_unix(path)));

  // A second server on the same live path must not steal it.
  hs::Reactor reactor;
  try {
    hs::Server second(reactor, options, hs::text("second"));
    ADD_FAILURE() << "a second server took over a live unix socket";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EADDRINUSE) << e.what();
    EXPECT_NE(std::string(e.what()).find("another server is listening"), std::string::npos)
        << e.what();
  }
  EXPECT_TRUE(is_ok(get_unix(path))) << "the first server lost its socket";
}

TEST(Listeners, APathThatIsNotASocketIsLeftAloneAndReported) {
  TempDir dir;
  const std::string path = dir.file("data");
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("keep me", f);
  std::fclose(f);
  ServerOptions options;
  options.listen.address = "unix:" + path;
  hs::Reactor reactor;
  EXPECT_THROW(hs::Server(reactor, options, hs::text("x")), std::system_error);
  EXPECT_EQ(::access(path.c_str(), F_OK), 0) << "a regular file was removed";
}

TEST(Listeners, ServesASocketHandedOverListeningAndClosesIt) {
  // As systemd or systemd-socket-activate hands one over: bound, listening, blocking.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 16), 0);
  ServerOptions options;
  options.listen.fd = fd;
  {
    TestServer server(options);
    auto name = server.call([&] { return server.server().address(); });
    EXPECT_EQ(name.rfind("127.0.0.1:", 0), 0u) << name;
    EXPECT_NE(server.port(), 0);
    EXPECT_EQ(server.port(), port_of(name));
    EXPECT_TRUE(is_ok(get_tcp(server.port())));
    EXPECT_TRUE(is_ok(get_tcp(server.port())));
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the handed-over socket was not closed with the server";
}

TEST(Listeners, ADescriptorThatIsNotListeningIsRefusedWithItsNumber) {
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ServerOptions options;
  options.listen.fd = pipe_fds[0];
  hs::Reactor reactor;
  try {
    hs::Server server(reactor, options, hs::text("x"));
    ADD_FAILURE() << "a pipe was taken for a listening socket";
  } catch (const std::system_error& e) {
    EXPECT_NE(std::string(e.what()).find(std::to_string(pipe_fds[0])), std::string::npos)
        << e.what();
  }
  ::close(pipe_fds[1]);
}

// Accepted sockets send without Nagle's wait (a head, then a file, must not wait for the
// client's delayed ACK), inherited from the listener rather than set per connection.
TEST(Listeners, AcceptedSocketsHaveNoDelayWithoutACallPerConnection) {
  hs::Reactor reactor;
  hs::ListenerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  int nodelay = -1;
  hs::Listener listener(reactor, options, [&](hs::Accepted& client) {
    socklen_t length = sizeof nodelay;
    ::getsockopt(client.fd.get(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &length);
  });
  hs::test::Client client(listener.port());
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.send("G"));  // the listener defers accept until the first bytes
  for (int i = 0; i < 100 && nodelay == -1; ++i) reactor.run_once(10);
  EXPECT_EQ(nodelay, 1);
}

// A TCP listener we bind defers accept: a client that has connected but sent nothing is not
// handed over; one is, with its bytes ready to read and its address, as soon as they arrive.
TEST(Listeners, ATcpListenerHandsOverAClientOnceItsFirstBytesHaveArrived) {
  hs::Reactor reactor;
  hs::ListenerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  int accepted = 0;
  bool first_bytes_in = false;
  ssize_t ready = -1;
  sockaddr_in peer{};
  hs::Listener listener(reactor, options, [&](hs::Accepted& client) {
    std::memcpy(&peer, &client.peer, sizeof peer);
    ++accepted;
    first_bytes_in = client.first_bytes_in;
    char buf[16];
    ready = ::recv(client.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
  });
  EXPECT_TRUE(listener.defers_accept());
  hs::test::Client client(listener.port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 30; ++i) reactor.run_once(10);
  EXPECT_EQ(accepted, 0) << "handed over before it sent anything";
  ASSERT_TRUE(client.send("GET"));
  for (int i = 0; i < 100 && accepted == 0; ++i) reactor.run_once(10);
  EXPECT_EQ(accepted, 1);
  EXPECT_TRUE(first_bytes_in);
  EXPECT_EQ(ready, 3) << "the first bytes were not there to read at once";
  sockaddr_in local{};
  socklen_t length = sizeof local;
  ASSERT_EQ(::getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local), &length), 0);
  EXPECT_EQ(peer.sin_family, AF_INET);
  EXPECT_EQ(peer.sin_port, local.sin_port) << "the client's address was not handed over";
}

TEST(Listeners, WithoutDeferAcceptASilentClientIsHandedOverAtOnce) {
  hs::Reactor reactor;
  hs::ListenerOptions options;
  options.address = "127.0.0.1";
  options.port = 0;
  options.defer_accept = false;
  int accepted = 0;
  bool first_bytes_in = true;
  hs::Listener listener(reactor, options, [&](hs::Accepted& client) {
    ++accepted;
    first_bytes_in = client.first_bytes_in;
  });
  EXPECT_FALSE(listener.defers_accept());
  hs::test::Client client(listener.port());
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 100 && accepted == 0; ++i) reactor.run_once(10);
  EXPECT_EQ(accepted, 1);
  EXPECT_FALSE(first_bytes_in);
}

// A socket handed over keeps TCP_DEFER_ACCEPT as its maker set it, on or off: the host's
// copy outlives the server (systemd passes it to the next start).
TEST(Listeners, ASocketHandedOverKeepsTheDeferAcceptItsMakerGaveIt) {
  for (int made_with : {0, 1}) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &made_with, sizeof made_with), 0);
    ASSERT_EQ(::listen(fd, 16), 0);
    hs::Reactor reactor;
    hs::ListenerOptions options;
    options.fd = fd;
    hs::Listener listener(reactor, options, [](hs::Accepted&) {});
    int now = -1;
    socklen_t length = sizeof now;
    ASSERT_EQ(::getsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &now, &length), 0);
    EXPECT_EQ(now != 0, made_with != 0) << "made with " << made_with;
    EXPECT_EQ(listener.defers_accept(), made_with != 0);
  }
}

}  // namespace
