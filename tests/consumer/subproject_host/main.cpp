// A host that runs the library's own loop: a Server on a free loopback port, one request from
// a client thread, then a graceful shutdown that stops the reactor. Prints the answer's
// status line and body and exits 0 when they are right.
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>

int main() {
  hs::Reactor reactor;
  hs::ServerOptions options;
  options.listen.address = "127.0.0.1";
  options.listen.port = 0;
  hs::Server server(reactor, options, hs::text("served by a subproject\n"));

  std::string reply;
  std::thread client([&reply, port = server.port(), &reactor, &server] {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval five_seconds{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof five_seconds);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const char request[] = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request, sizeof request - 1, MSG_NOSIGNAL) == sizeof request - 1) {
      char buffer[4096];
      for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) reply.append(buffer, n);
    }
    ::close(fd);
    reactor.post([&] { server.shutdown([&] { reactor.stop(); }); });
  });
  // A bound on the whole run, whatever happens to the client.
  reactor.add_timer(10'000, 0, [&] { reactor.stop(); });
  reactor.run();
  client.join();

  bool ok = reply.starts_with("HTTP/1.1 200 OK\r\n") &&
            reply.ends_with("\r\n\r\nserved by a subproject\n");
  std::printf("subproject_host: %s\n%s", ok ? "ok" : "bad reply", reply.c_str());
  return ok ? 0 : 1;
}
