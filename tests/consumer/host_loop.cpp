// Embedding: the host owns the loop. It polls the reactor's descriptor next to its own,
// sleeps no longer than next_timeout(), and lets run_once(0) do the server's work.
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>
#include <httpserver/version.hpp>

// A client on another thread: one request over loopback, the whole reply back.
static std::string fetch(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  timeval five_seconds{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  const char request[] = "GET /hello HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) == sizeof request - 1) {
    char buffer[4096];
    for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
  }
  ::close(fd);
  return reply;
}

int main() {
  // The headers compiled against and the library loaded must be the same release.
  if (std::string_view(hs::version()) != HS_VERSION_STRING) {
    std::fprintf(stderr, "built for httpserver %s, running %s\n", HS_VERSION_STRING, hs::version());
    return 1;
  }
  hs::Reactor reactor;
  hs::Logger log(2, {});  // logrus-style lines on stderr, written before the loop sleeps
  log.attach(reactor);
  hs::ServerOptions options;
  options.listen.address = "127.0.0.1";
  options.listen.port = 0;  // any free port
  hs::Handler hello = [](const hs::Request& request, hs::Response& response) {
    response.set_header("Content-Type", "text/plain");
    response.body = "hello from the host loop: ";
    response.body += request.path();
  };
  const hs::Middleware middlewares[] = {hs::logging(log)};
  hs::Server server(reactor, options, hs::chain(middlewares, hello), &log);

  bool done = false;
  int status = 1;
  // A host timer on the same loop: give up after five seconds.
  reactor.add_timer(5000, 0, [&] {
    std::fputs("host_loop: no answer in 5 s\n", stderr);
    done = true;
  });

  // Another thread hands its result back with post(): the lambda runs on the loop's thread.
  std::thread client([&reactor, &done, &status, port = server.port()] {
    std::string reply = fetch(port);
    reactor.post([&done, &status, reply] {
      bool ok = reply.starts_with("HTTP/1.1 200 OK\r\n") &&
                reply.ends_with("\r\n\r\nhello from the host loop: /hello");
      std::printf("host_loop: %s\n%s\n", ok ? "ok" : "bad reply", reply.c_str());
      status = ok ? 0 : 1;
      done = true;
    });
  });

  while (!done) {
    pollfd fds[] = {{reactor.fd(), POLLIN, 0} /* , the host's own descriptors */};
    if (::poll(fds, 1, reactor.next_timeout()) < 0 && errno != EINTR) {
      std::perror("poll");
      break;
    }
    reactor.run_once(0);  // readable or timed out: do what is ready and due, never block
  }
  client.join();
  log.flush_all();
  return status;
}
