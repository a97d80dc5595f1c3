// The memory a large upload costs the server, read as it arrives (ServerOptions::stream_body,
// Response::read_body) or buffered whole for contrast.
//
//   build/bench/upload/upload_bench [MiB] [direct|paced|buffered]
//
// A server process (forked) takes one POST of MiB mebibytes over loopback; the parent sends it
// in 64 KiB writes and samples the server's VmRSS every 2 ms meanwhile. The reader folds every
// byte into a checksum that the response carries back, so the parent knows all arrived in
// order. Modes:
//   direct    the reader takes each piece at once
//   paced     the reader pauses after every piece and is resumed from the reactor's queue
//             (Reactor::post), as a reader waiting on an asynchronous write would be
//   buffered  no stream_body: the body is read whole (max_body_bytes raised to fit), as every
//             body was before streaming; at most 2047 MiB (spans are 32-bit)
// Prints one line: throughput, the server's RSS before and at its peak, pieces, checksum.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>

namespace {

// A checksum of every byte in order (FNV-1a, 64-bit): the same on both sides only if the body
// arrived whole and in order.
struct Fnv {
  uint64_t h = 1469598103934665603ull;
  void add(std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  }
};

class Summing final : public hs::BodyReader {
 public:
  Summing(hs::Reactor& reactor, bool paced) : reactor_(reactor), paced_(paced) {}
  Next data(std::string_view piece) override {
    sum_.add(piece);
    bytes_ += piece.size();
    ++pieces_;
    if (!paced_) return Next::more;
    reactor_.post(resumer());  // the "write" completes on a later turn of the loop
    return Next::pause;
  }
  void end(hs::Response& response) override {
    response.body =
        std::to_string(bytes_) + " " + std::to_string(pieces_) + " " + std::to_string(sum_.h);
  }

 private:
  hs::Reactor& reactor_;
  bool paced_;
  Fnv sum_;
  uint64_t bytes_ = 0, pieces_ = 0;
};

[[noreturn]] void serve(int port_pipe, std::string_view mode, uint64_t size) {
  hs::Reactor reactor;
  hs::ServerOptions options;
  options.listen.address = "127.0.0.1";
  options.listen.port = 0;
  hs::Handler handler;
  if (mode == "buffered") {
    options.limits.max_body_bytes = size;
    handler = [](const hs::Request& request, hs::Response& response) {
      Fnv sum;
      sum.add(request.body());
      response.body = std::to_string(request.body().size()) + " 1 " + std::to_string(sum.h);
    };
  } else {
    bool paced = mode == "paced";
    options.stream_body = [](const hs::Request&) { return true; };
    handler = [&reactor, paced](const hs::Request&, hs::Response& response) {
      response.read_body(std::make_shared<Summing>(reactor, paced));
    };
  }
  hs::Server server(reactor, options, handler);
  uint16_t port = server.port();
  if (write(port_pipe, &port, sizeof port) != sizeof port) _exit(1);
  close(port_pipe);
  reactor.run();
  _exit(0);
}

uint64_t rss_kib(pid_t pid, const char* field) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind(field, 0) == 0)
      return std::strtoull(line.c_str() + std::strlen(field), nullptr, 10);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  std::string mode = argc > 2 ? argv[2] : "direct";
  if (mib == 0 || (mode != "direct" && mode != "paced" && mode != "buffered") ||
      (mode == "buffered" && mib > 2047)) {
    std::fprintf(stderr, "usage: upload_bench [MiB] [direct|paced|buffered]\n");
    return 2;
  }
  const uint64_t size = mib << 20;
  int fds[2];
  if (pipe(fds) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    serve(fds[1], mode, size);
  }
  close(fds[1]);
  uint16_t port = 0;
  if (read(fds[0], &port, sizeof port) != sizeof port) return 1;

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return 1;
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  uint64_t before = rss_kib(child, "VmRSS:");

  // Samples the server's RSS while the body goes out.
  bool sending = true;
  uint64_t peak = before;
  std::thread sampler([&] {
    while (__atomic_load_n(&sending, __ATOMIC_RELAXED)) {
      peak = std::max(peak, rss_kib(child, "VmRSS:"));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  std::string head =
      "POST /upload HTTP/1.1\r\nHost: bench\r\nConnection: close\r\nContent-Length: " +
      std::to_string(size) + "\r\n\r\n";
  std::string block(64 * 1024, 0);
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>(i * 31 + i / 251);
  Fnv sum;
  auto start = std::chrono::steady_clock::now();
  bool ok = send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size());
  for (uint64_t sent = 0; ok && sent < size;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(block.size(), size - sent));
    sum.add({block.data(), n});
    for (size_t off = 0; ok && off < n;) {
      ssize_t w = send(fd, block.data() + off, n - off, MSG_NOSIGNAL);
      ok = w > 0;
      if (ok) off += static_cast<size_t>(w);
    }
    sent += n;
  }
  std::string response;  // the server closes after it: read to the end
  timeval tv{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  for (ssize_t r; ok && (r = recv(fd, buf, sizeof buf, 0)) > 0;)
    response.append(buf, static_cast<size_t>(r));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  __atomic_store_n(&sending, false, __ATOMIC_RELAXED);
  sampler.join();
  uint64_t hwm = rss_kib(child, "VmHWM:");
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  close(fd);

  std::string body = response.substr(std::min(response.size(), response.find("\r\n\r\n") + 4));
  unsigned long long got = 0, pieces = 0, hash = 0;
  bool whole = std::sscanf(body.c_str(), "%llu %llu %llu", &got, &pieces, &hash) == 3 &&
               got == size && hash == sum.h;
  std::printf(
      "upload: %llu MiB %s in %.2f s (%.0f MiB/s): server VmRSS %llu KiB before, peak %llu KiB "
      "sampled (VmHWM %llu KiB); %llu pieces; checksum %s\n",
      static_cast<unsigned long long>(mib), mode.c_str(), seconds, mib / seconds,
      static_cast<unsigned long long>(before), static_cast<unsigned long long>(peak),
      static_cast<unsigned long long>(hwm), pieces, whole ? "ok" : "MISMATCH");
  return whole ? 0 : 1;
}
