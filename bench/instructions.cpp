// Instructions per request, counted by callgrind: deterministic where timings on a shared
// machine are not. Warms up, then runs ROUNDS batches of DEPTH pipelined requests with
// callgrind's collection switched on only around them:
//
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out
//            build-release/bench/instructions [text|json|none] [DEPTH] [ROUNDS] [access]
//   callgrind_annotate /tmp/cg.out | head -40     # totals and the costliest functions
//
// callgrind's "Ir" total divided by the request count printed is instructions per request.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else  // no valgrind headers: callgrind then counts from the start (warm-up included)
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#endif

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "hot_path_fixture.hpp"

int main(int argc, char** argv) {
  std::string_view format_name = argc > 1 ? argv[1] : "text";
  int depth = argc > 2 ? std::atoi(argv[2]) : 16;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 1000;
  bool access_log = argc > 4 && std::string_view(argv[4]) == "access";
  hs::LogFormat format;
  if (!hs::parse_log_format(format_name, format) || depth < 1 || rounds < 1) {
    std::fprintf(stderr, "usage: instructions [text|json|none] [DEPTH] [ROUNDS] [access]\n");
    return 2;
  }
  std::string batch;
  for (int i = 0; i < depth; ++i) batch.append(bench::kRequest);
  bench::Fixture f(format, access_log);
  for (int i = 0; i < 100; ++i) f.round(batch);  // pools and buffers reach their working size

  size_t bytes = 0;
  CALLGRIND_START_INSTRUMENTATION;
  for (int i = 0; i < rounds; ++i) bytes += f.round(batch);
  CALLGRIND_STOP_INSTRUMENTATION;

  long requests = static_cast<long>(depth) * rounds;
  std::printf("%ld requests, %zu response bytes each, log %s: divide callgrind's Ir by %ld\n",
              requests, bytes / static_cast<size_t>(requests), format_name.data(), requests);
  return f.failed ? 1 : 0;
}
