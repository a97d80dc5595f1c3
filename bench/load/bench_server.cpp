// bench_server: the load benchmark's server for what the httpserver binary does not do: read
// request bodies and answer large bodies. Built only on the library's public API, as a host
// would embed it, and logging the binary's `uri:` line per request.
//
//   bench_server PORT [--log-format text|json|none] [--max-connections N]
//
// Routes (on 127.0.0.1:PORT):
//   GET  /               the tutorial's 200 "package main #14" (readiness, keep-alive)
//   POST /upload         the body read whole before the handler runs (max_body_bytes 1 MiB);
//                        answers its size
//   POST /upload-stream  the body read as it arrives through a BodyReader
//                        (ServerOptions::stream_body + Response::read_body); answers its size
//   GET  /bytes/64k      64 KiB from memory, a sealed memfd sent with sendfile
//   GET  /bytes/1m       1 MiB the same way
//   GET  /shared/64k     64 KiB from a string in memory (Response::send_shared)
//   GET  /shared/1m      1 MiB the same way
// Stops on SIGTERM or SIGINT.
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/router.hpp>
#include <httpserver/server.hpp>

namespace {

constexpr std::string_view kUploadStream = "/upload-stream";

// Counts the body as it arrives: the bytes pass through the server's read buffer once, as a
// handler that forwards or hashes them would see them, and are not kept.
class Counting final : public hs::BodyReader {
 public:
  Next data(std::string_view piece) override {
    bytes_ += piece.size();
    return Next::more;
  }
  void end(hs::Response& response) override { response.body = std::to_string(bytes_); }

 private:
  size_t bytes_ = 0;
};

// A body of `size` bytes that lies in memory for the server's life: printable, so that a
// client printing it shows something.
std::string make_body(size_t size) {
  std::string body(size, 'x');
  for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 26);
  return body;
}

int usage() {
  std::fprintf(stderr,
               "usage: bench_server PORT [--log-format text|json|none] [--max-connections N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  hs::ServerOptions options;
  options.listen.address = "127.0.0.1";
  options.listen.port = static_cast<uint16_t>(std::atoi(argv[1]));
  hs::LogFormat format = hs::LogFormat::text;
  for (int i = 2; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--log-format" && i + 1 < argc) {
      if (!hs::parse_log_format(argv[++i], format)) return usage();
    } else if (arg == "--max-connections" && i + 1 < argc) {
      options.max_connections = std::strtoul(argv[++i], nullptr, 10);
    } else {
      return usage();
    }
  }
  // Only the streaming route reads its body after the handler; every other body is whole
  // before its handler runs.
  options.stream_body = [](const hs::Request& head) { return head.path() == kUploadStream; };

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  int signal_fd = ::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::perror("bench_server: signalfd");
    return 1;
  }

  // Bodies that lie in memory for the server's life: in sealed memfds, sent with sendfile
  // (OpenFile::in_memory), as nginx and h2o send a file from the page cache. /shared/... sends
  // the same bytes from a string (Response::send_shared: one sendmsg, the kernel copying).
  const std::string body_64k = make_body(64 * 1024), body_1m = make_body(1024 * 1024);
  const auto file_64k = hs::OpenFile::in_memory(body_64k);
  const auto file_1m = hs::OpenFile::in_memory(body_1m);
  const auto shared_64k = std::make_shared<const std::string>(body_64k);
  const auto shared_1m = std::make_shared<const std::string>(body_1m);
  hs::Router router;
  router.get("/", hs::text("package main #14"))
      .post("/upload",
            [](const hs::Request& request, hs::Response& response) {
              response.body = std::to_string(request.body().size());
            })
      .post(kUploadStream,
            [](const hs::Request&, hs::Response& response) {
              response.read_body(std::make_shared<Counting>());
            })
      .get("/bytes/64k",
           [&](const hs::Request&, hs::Response& r) { r.send_file(file_64k, 0, body_64k.size()); })
      .get("/bytes/1m",
           [&](const hs::Request&, hs::Response& r) { r.send_file(file_1m, 0, body_1m.size()); })
      .get("/shared/64k", [&](const hs::Request&, hs::Response& r) { r.send_shared(shared_64k); })
      .get("/shared/1m", [&](const hs::Request&, hs::Response& r) { r.send_shared(shared_1m); });

  hs::Reactor reactor;
  // As the binary logs to stderr when it is alone on it (src/bin/main.cpp).
  hs::Logger logger(2, {format, 1 << 20, 0, 64u << 10});
  logger.attach(reactor);
  std::vector<hs::Middleware> middlewares;
  if (logger.enabled()) middlewares.push_back(hs::logging(logger));
  try {
    hs::Server server(reactor, options, hs::chain(middlewares, router), &logger);
    reactor.add(signal_fd, hs::kReadable, [&](uint32_t) {
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof info) == sizeof info) {
      }
      server.shutdown([&] { reactor.stop(); });
    });
    reactor.run();
    reactor.remove(signal_fd);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_server: %s\n", e.what());
    return 1;
  }
  logger.flush();
  ::close(signal_fd);
  return 0;
}
