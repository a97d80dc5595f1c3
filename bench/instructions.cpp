// Instructions per request, counted by callgrind: deterministic where timings on a shared
// machine are not. Warms up, then runs ROUNDS batches of DEPTH pipelined requests with
// callgrind's collection switched on only around them:
//
//   valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out
//            build-release/bench/instructions [text|json|none] [DEPTH] [ROUNDS] [access]
//   callgrind_annotate /tmp/cg.out | head -40     # totals and the costliest functions
//
// callgrind's "Ir" total divided by the request count printed is instructions per request.
//
// With --socket, each batch goes through a real Connection on a socketpair and one reactor
// iteration (the reads, sends and connection state included; the kernel's side is not
// counted): the figure to compare across changes to the connection's request loop, which
// the default (the Exchange driven from memory) measures without its socket.
//
// With --mix FILE (bench/load/scenarios/browser_heads.txt), each round is DEPTH consecutive
// requests of that table, round after round through it, in place of DEPTH wrk GETs: compare
// with the GET at the same DEPTH (a round's batch must fit one 4 KiB read buffer: DEPTH 1-4).
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
#include <vector>

#include "hot_path_fixture.hpp"
#include "request_mix.hpp"
#include "socket_fixture.hpp"

int main(int argc, char** argv) {
  std::string mix_path;  // --mix FILE, anywhere on the line
  bool socket = false;   // --socket: through a Connection and a socketpair
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--socket") {
      socket = true;
    } else if (std::string_view(argv[i]) == "--mix" && i + 1 < argc) {
      mix_path = argv[++i];
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  std::string_view format_name = argc > 1 ? argv[1] : "text";
  int depth = argc > 2 ? std::atoi(argv[2]) : 16;
  int rounds = argc > 3 ? std::atoi(argv[3]) : 1000;
  bool access_log = argc > 4 && std::string_view(argv[4]) == "access";
  hs::LogFormat format;
  if (!hs::parse_log_format(format_name, format) || depth < 1 || rounds < 1) {
    std::fprintf(stderr,
                 "usage: instructions [text|json|none] [DEPTH] [ROUNDS] [access] [--mix FILE] "
                 "[--socket]\n");
    return 2;
  }
  std::vector<std::string> batches(1);
  if (mix_path.empty()) {
    for (int i = 0; i < depth; ++i) batches[0].append(bench::kRequest);
  } else {
    std::vector<std::string> mix = bench::load_request_mix(mix_path);
    if (mix.empty()) {
      std::fprintf(stderr, "instructions: no requests in %s\n", mix_path.c_str());
      return 2;
    }
    batches.assign(mix.size(), {});
    for (size_t b = 0; b < mix.size(); ++b)
      for (int i = 0; i < depth; ++i) batches[b].append(mix[(b * depth + i) % mix.size()]);
  }
  size_t bytes = 0;
  bool failed = false;
  auto measure = [&](auto& f) {
    // pools and buffers reach their working size
    for (int i = 0; i < 100; ++i) f.round(batches[i % batches.size()]);
    CALLGRIND_START_INSTRUMENTATION;
    for (int i = 0; i < rounds; ++i) bytes += f.round(batches[i % batches.size()]);
    CALLGRIND_STOP_INSTRUMENTATION;
    failed = f.failed;
  };
  if (socket) {
    if (access_log) {
      std::fprintf(stderr, "instructions: --socket measures without the access log\n");
      return 2;
    }
    bench::SocketFixture f(format);
    measure(f);
  } else {
    bench::Fixture f(format, access_log);
    measure(f);
  }

  long requests = static_cast<long>(depth) * rounds;
  std::printf("%ld requests%s, %zu response bytes each, log %s: divide callgrind's Ir by %ld\n",
              requests, mix_path.empty() ? "" : " of the mix",
              bytes / static_cast<size_t>(requests), format_name.data(), requests);
  return failed ? 1 : 0;
}
