// No heap allocation per request once warm, through a real server over loopback: plain, with
// the request timing the binary's --admin-address turns on, with request ids echoed, and with
// the access log (text and JSON). Allocations are counted on the server's thread only (a
// replaced operator new with a thread-local count), between two calls onto it; the client's
// own are not counted.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include <httpserver/files.hpp>

#include "file_tree.hpp"
#include "integration_support.hpp"

// The replacements below pair malloc with free on purpose; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
thread_local uint64_t t_allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  ++t_allocations;
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++t_allocations;
  return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t& t) noexcept {
  return operator new(size, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace hs::test {
namespace {

constexpr int kRequests = 500;

// The server thread's allocations during a second run() of the client, the first one having
// warmed it up; less what the counting calls themselves cost.
template <typename Run>
uint64_t allocations_once_warm(TestServer& server, Run run) {
  auto count = [&] { return server.call([] { return t_allocations; }); };
  run();
  uint64_t a = count();
  uint64_t b = count();
  run();
  uint64_t c = count();
  EXPECT_TRUE(server.shutdown());
  return (c - b) - (b - a);
}

// While one kept-alive connection sends kRequests requests, one at a time and then 16 at a
// time.
uint64_t allocations_per_run(ServerOptions options, LogFormat format,
                             Handler handler = text("package main #14")) {
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  Logger log(null_fd, {format});
  std::vector<Middleware> middlewares;
  if (log.enabled()) middlewares.push_back(logging(log));
  uint64_t allocations;
  {
    TestServer server(options, chain(middlewares, std::move(handler)), &log);
    Client c(server.port());
    std::string batch;
    for (int i = 0; i < 16; ++i)
      batch += "GET /p HTTP/1.1\r\nHost: a\r\nX-Request-Id: id-7\r\n\r\n";
    allocations = allocations_once_warm(server, [&] {
      for (int i = 0; i < kRequests; ++i) {
        EXPECT_TRUE(c.send("GET /x?q=1 HTTP/1.1\r\nHost: a\r\n\r\n"));
        EXPECT_EQ(c.read_response().status, 200);
      }
      for (int i = 0; i < kRequests / 16; ++i) {
        EXPECT_TRUE(c.send(batch));
        for (int k = 0; k < 16; ++k) EXPECT_EQ(c.read_response().status, 200);
      }
    });
  }
  ::close(null_fd);
  return allocations;
}

// While one kept-alive connection sends uploads of `body_bytes`, read whole before the
// handler, one at a time.
uint64_t allocations_per_upload_run(size_t body_bytes) {
  Handler sized = [](const Request& request, Response& response) {
    response.body.assign(request.body().size() == 0 ? "empty" : "taken");
  };
  TestServer server(TestServer::loopback(), sized);
  Client c(server.port());
  std::string upload =
      "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body_bytes) + "\r\n\r\n" +
      std::string(body_bytes, 'u');
  return allocations_once_warm(server, [&] {
    for (int i = 0; i < kRequests / 5; ++i) {
      EXPECT_TRUE(c.send(upload));
      EXPECT_EQ(c.read_response().status, 200);
    }
  });
}

TEST(Allocations, CountsWhatAHandlerAllocatesOnTheServersThread) {
  Handler allocating = [](const Request&, Response& r) {
    auto held = std::make_unique<std::string>(100, 'x');
    r.body.assign(*held);
  };
  uint64_t n = allocations_per_run(TestServer::loopback(), LogFormat::none, allocating);
  // Two each (the string and its bytes), for 500 requests one at a time and 31 x 16 pipelined.
  EXPECT_EQ(n, 2u * (kRequests + kRequests / 16 * 16));
}

TEST(Allocations, NoneOnceWarmPlain) {
  EXPECT_EQ(allocations_per_run(TestServer::loopback(), LogFormat::none), 0u);
}

TEST(Allocations, NoneOnceWarmWithRequestTiming) {
  ServerOptions o = TestServer::loopback();
  o.time_requests = true;
  EXPECT_EQ(allocations_per_run(o, LogFormat::text), 0u);
}

TEST(Allocations, NoneOnceWarmWithRequestIdsEchoed) {
  ServerOptions o = TestServer::loopback();
  o.echo_request_id = true;
  EXPECT_EQ(allocations_per_run(o, LogFormat::none), 0u);
}

TEST(Allocations, NoneOnceWarmWithTheAccessLog) {
  ServerOptions o = TestServer::loopback();
  o.access_log = true;
  o.echo_request_id = true;
  EXPECT_EQ(allocations_per_run(o, LogFormat::text), 0u);
  EXPECT_EQ(allocations_per_run(o, LogFormat::json), 0u);
}

TEST(Allocations, NoneOnceWarmTakingUploadsLargerThanTheReadBuffer) {
  // Their larger read buffer is the pool's, lent again to the next upload.
  EXPECT_EQ(allocations_per_upload_run(64 * 1024), 0u);
  EXPECT_EQ(allocations_per_upload_run(200'000), 0u);
  EXPECT_EQ(allocations_per_upload_run(1000), 0u);
}

TEST(Allocations, NoneOnceWarmServingFiles) {
  // The requests ask for /x and /p: files here, sent with sendfile, with the uri: line.
  FileTree tree;
  tree.write("x", std::string(1024, 'x'));
  tree.write("p", std::string(100, 'p'));
  EXPECT_EQ(allocations_per_run(TestServer::loopback(), LogFormat::text, files(tree.path())), 0u);
  FileOptions precompressed;
  precompressed.precompressed = true;
  precompressed.cache_control = "max-age=60";
  EXPECT_EQ(allocations_per_run(TestServer::loopback(), LogFormat::text,
                                files(tree.path(), precompressed)),
            0u);
}

}  // namespace
}  // namespace hs::test
