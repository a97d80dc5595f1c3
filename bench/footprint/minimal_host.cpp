// The smallest useful host: one handler on the library's own loop, no logging. Its stripped
// static size is what embedding the library costs a program (bench/footprint/footprint.sh).
//
// usage: minimal_host [PORT]   (127.0.0.1, default 8080)
#include <cstdlib>

#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>

int main(int argc, char** argv) {
  hs::Reactor reactor;
  hs::ServerOptions options;
  options.listen.address = "127.0.0.1";
  options.listen.port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  options.max_connections = 20'000;
  hs::Server server(reactor, options,
                    [](const hs::Request&, hs::Response& response) { response.body = "hello\n"; });
  reactor.run();
}
