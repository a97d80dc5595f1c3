// A host serving HTTP from its own reactor: a route that answers at once, one that answers
// later (a deferred response, sent from a timer here; from another thread through
// reactor.post() in a real host), the tutorial's "uri:" log line, no thread of ours. The README
// shows this file; the consumer suite builds it against the installed library.
#include <memory>
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
  router.get("/later", [&reactor](const hs::Request&, hs::Response& response) {
    auto later = std::make_shared<hs::Deferred>(response.defer());  // the handler returns now
    reactor.add_timer(100, 0, [later] {  // 100 ms on, on the reactor's thread
      later->response().body = "answered later";
      later->send();
    });
  });

  hs::ServerOptions options;  // every limit and timeout, defaults as the binary's
  options.listen.port = 8080;
  const hs::Middleware middlewares[] = {hs::logging(log)};  // uri: <uri>, before the handler
  hs::Server server(reactor, options, hs::chain(middlewares, router), &log);
  reactor.run();  // until reactor.stop(), e.g. from server.shutdown(done) on SIGTERM
}
