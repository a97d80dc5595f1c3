// The request path without sockets: the request codec and the responder fed the bytes of
// requests, with the tutorial's middleware and handler, producing the bytes of responses.
// Counts heap allocations per request through a replaced operator new (must read 0 once warm).
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "date_cache.hpp"
#include "hot_path_fixture.hpp"
#include "message_access.hpp"
#include "serialize.hpp"

// The replacements below pair malloc with free on purpose; GCC cannot see that.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {

std::atomic<uint64_t> g_allocations{0};

}  // namespace

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t& t) noexcept {
  return operator new(size, t);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

void run_requests(benchmark::State& state, std::string_view batch, int per_batch, bool logging) {
  bench::Fixture f(logging ? hs::LogFormat::text : hs::LogFormat::none);
  // Warm up: pools, response strings and log buffer reach their working size.
  for (int i = 0; i < 100; ++i) f.round(batch);
  uint64_t before = g_allocations.load();
  size_t bytes_out = 0;
  for (auto _ : state) bytes_out += f.round(batch);
  uint64_t allocations = g_allocations.load() - before;
  uint64_t requests = static_cast<uint64_t>(state.iterations()) * static_cast<uint64_t>(per_batch);
  state.SetItemsProcessed(static_cast<int64_t>(requests));
  state.counters["allocs_per_request"] =
      static_cast<double>(allocations) / static_cast<double>(requests);
  state.counters["response_bytes"] = static_cast<double>(bytes_out) / static_cast<double>(requests);
  if (f.failed) state.SkipWithError("a request was refused or closed the connection");
}

void BM_OneRequest(benchmark::State& state) {
  run_requests(state, bench::kRequest, 1, state.range(0) != 0);
}
BENCHMARK(BM_OneRequest)->ArgName("logging")->Arg(0)->Arg(1);

void BM_Pipelined16(benchmark::State& state) {
  std::string batch;
  for (int i = 0; i < 16; ++i) batch.append(bench::kRequest);
  run_requests(state, batch, 16, state.range(0) != 0);
}
BENCHMARK(BM_Pipelined16)->ArgName("logging")->Arg(0)->Arg(1);

// The cost of each middleware layer: N pass-through layers around the root handler.
void BM_MiddlewareLayers(benchmark::State& state) {
  std::vector<hs::Middleware> layers(static_cast<size_t>(state.range(0)), [](hs::Handler next) {
    return hs::Handler([next](const hs::Request& q, hs::Response& r) { next(q, r); });
  });
  hs::Handler handler = hs::chain(layers, hs::text("package main #14"));
  hs::Request request;
  hs::Header headers[] = {{"Host", "127.0.0.1:8080"}};
  hs::RequestAccess::set(request, "GET", "/", 1, 1, headers, {}, true);
  hs::Response response;
  for (auto _ : state) {
    response.clear();
    handler(request, response);
    benchmark::DoNotOptimize(response.body.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MiddlewareLayers)->ArgName("layers")->Arg(0)->Arg(1)->Arg(4)->Arg(16);

void BM_SerializeResponse(benchmark::State& state) {
  hs::Response response;
  response.set_header("Content-Type", "text/plain; charset=utf-8");
  response.body.assign("package main #14");
  hs::DateCache date;
  std::string out;
  out.reserve(512);
  uint64_t before = g_allocations.load();
  for (auto _ : state) {
    out.clear();
    hs::serialize(response, {date.now(), "httpserver", "GET", false, false}, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["allocs"] = static_cast<double>(g_allocations.load() - before);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SerializeResponse);

void BM_LogLine(benchmark::State& state) {
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  {
    hs::Logger logger(null_fd,
                      {state.range(0) ? hs::LogFormat::json : hs::LogFormat::text, 1 << 20, 0});
    int n = 0;
    for (auto _ : state) {
      logger.info("uri: ", "/");
      if (++n % 64 == 0) logger.flush();
    }
    state.SetItemsProcessed(state.iterations());
  }
  ::close(null_fd);
}
BENCHMARK(BM_LogLine)->ArgName("json")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
