// Hostile clients: what every test of this suite shares.
//
// Each test starts its own httpserver (tests/conformance/blackbox.hpp), attacks it for a
// bounded time, and ends by checking that a normal request still gets a 200 promptly (under
// 1 s) and that the server's descriptors came back. Figures worth quoting are printed as
// "FIGURE: ..." lines.
//
// HOSTILE_LONG=1 runs the longer variant (more clients, longer floods); give meson test a
// --timeout-multiplier for it.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "blackbox.hpp"

namespace hostile {

inline bool long_mode() {
  const char* v = std::getenv("HOSTILE_LONG");
  return v && *v && std::string(v) != "0";
}

// Whether the server's RSS tells how much memory it holds. Under AddressSanitizer it does not:
// every freed block waits in a quarantine (256 MiB by default) before it can be reused, so
// RSS grows with each malloc/free pair even when what is live stays flat. The figures are
// still printed; only the tight flatness bounds are left to the plain build.
inline constexpr bool memory_is_measurable() {
#if defined(__SANITIZE_ADDRESS__)
  return false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return false;
#else
  return true;
#endif
#else
  return true;
#endif
}

// The CI figure, or the longer one under HOSTILE_LONG=1.
template <class T>
T pick(T ci, T longer) {
  return long_mode() ? longer : ci;
}

inline std::unique_ptr<bb::ServerProcess> start(std::vector<std::string> args, rlim_t nofile = 0) {
  std::string why;
  bb::ServerOptions options;
  options.args = std::move(args);
  options.nofile = nofile;
  auto server = bb::ServerProcess::start(options, &why);
  if (!server) ADD_FAILURE() << "cannot start the server: " << why;
  return server;
}

// A normal GET on a new connection gets its 200 in under a second. A server at its
// connection limit may answer 503 for a moment after clients leave (it has not read their
// EOF yet): retried, within the same second.
inline void expect_prompt_200(bb::ServerProcess& server) {
  auto start = bb::Clock::now();
  int status = 0;
  int64_t last_ms = 0;
  for (int attempt = 0; attempt < 20 && bb::ms_since(start) < 1000; ++attempt) {
    int left = static_cast<int>(1000 - bb::ms_since(start));
    status = bb::plain_get(server.port(), left > 0 ? left : 1, &last_ms);
    if (status == 200) break;
    bb::sleep_ms(20);
  }
  int64_t total = bb::ms_since(start);
  EXPECT_EQ(status, 200) << "a normal request after the attack; server output:\n"
                         << server.output();
  EXPECT_LT(total, 1000) << "a normal request took " << total << " ms";
  EXPECT_TRUE(server.running()) << server.output();
}

// The server's descriptors go back to `baseline` (what it had before any client) within
// `timeout_ms`: no connection leaked.
inline void expect_fds_back(bb::ServerProcess& server, int baseline, int timeout_ms = 3000) {
  auto start = bb::Clock::now();
  int now = bb::open_fds(server.pid());
  while (now != baseline && bb::ms_since(start) < timeout_ms) {
    bb::sleep_ms(50);
    now = bb::open_fds(server.pid());
  }
  EXPECT_EQ(now, baseline) << "server descriptors after the attack";
}

// Samples a process's VmRSS every 10 ms on a thread; peak() is the highest seen.
class RssSampler {
 public:
  explicit RssSampler(pid_t pid) : pid_(pid) {
    peak_ = first_ = bb::rss_kib(pid);
    thread_ = std::thread([this] {
      // Bounded by stop(); the destructor stops it.
      while (!stop_.load()) {
        long now = bb::rss_kib(pid_);
        long seen = peak_.load();
        if (now > seen) peak_.store(now);
        bb::sleep_ms(10);
      }
    });
  }
  ~RssSampler() { stop(); }
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
    long now = bb::rss_kib(pid_);              // and once more at the end: a short attack may fall
    if (now > peak_.load()) peak_.store(now);  // between two samples
  }
  long first_kib() const { return first_; }
  long peak_kib() const { return peak_.load(); }

 private:
  pid_t pid_;
  long first_;
  std::atomic<long> peak_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// CPU seconds the process spends over `ms` of wall time.
inline double cpu_over(pid_t pid, int ms) {
  double before = bb::cpu_seconds(pid);
  bb::sleep_ms(ms);
  return bb::cpu_seconds(pid) - before;
}

}  // namespace hostile
