// A host serving HTTP from its own reactor: one route, the tutorial's "uri:" log line, no
// thread of ours. The README shows this file; the consumer suite builds it against the
// installed library.
#include <string>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/router.hpp>
#include <httpserver/server.hpp>

int main() {
  hs::Reactor reactor;    // one epoll loop: the server's work runs inside run()
  hs::Logger log(2, {});  // logrus-style lines on stderr, written before the loop sleeps
  log.attach(reactor);

  hs::Router router;
  router.get("/hello", [](const hs::Request& request, hs::Response& response) {
    response.set_header("Content-Type", "text/plain");
    response.body = "hello " + std::string(request.query());
  });

  hs::ServerOptions options;  // every limit and timeout, defaults as the binary's
  options.listen.port = 8080;
  const hs::Middleware middlewares[] = {hs::logging(log)};  // uri: <uri>, before the handler
  hs::Server server(reactor, options, hs::chain(middlewares, router), &log);
  reactor.run();  // until reactor.stop(), e.g. from server.shutdown(done) on SIGTERM
}
