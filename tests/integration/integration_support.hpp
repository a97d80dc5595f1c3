// Helpers shared by the integration tests: a recording handler, the check that a rejected
// request is answered and its connection closed while the server goes on serving, the
// end-of-test check that nothing is left registered, and a check, installed in every test
// program that includes this header, that no test leaves a file descriptor open.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "test_server.hpp"

namespace hs::test {

inline constexpr std::string_view kGet = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";

// A handler that records the target and body of every request and answers 200 with the
// target as its body. Handlers run on the reactor thread; the accessors copy under a lock.
// Declare it before the TestServer that uses it, so that it outlives the server.
class Recorder {
 public:
  Handler handler() {
    return [this](const Request& request, Response& response) {
      std::lock_guard<std::mutex> lock(mutex_);
      targets_.emplace_back(request.target());
      bodies_.emplace_back(request.body());
      response.body.assign(request.target());
    };
  }
  size_t calls() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return targets_.size();
  }
  std::vector<std::string> targets() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return targets_;
  }
  std::vector<std::string> bodies() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> targets_;
  std::vector<std::string> bodies_;
};

// A new connection still gets 200 for a plain GET.
inline void expect_still_serving(TestServer& server) {
  ParsedResponse r = roundtrip(server.port(), kGet);
  EXPECT_EQ(r.status, 200) << "a new connection was not served: " << r.raw;
}

// Sends `request` on a new connection; expects a `status` response saying "Connection:
// close", the connection closed by the server, and a new connection still served.
inline void expect_rejected(TestServer& server, std::string_view request, int status) {
  Client c(server.port());
  ASSERT_TRUE(c.connected());
  c.send(request);  // the server may stop reading before all of it is sent
  ParsedResponse r = c.read_response();
  EXPECT_EQ(r.status, status) << "response: " << r.raw;
  EXPECT_EQ(r.header("connection"), "close") << "response: " << r.raw;
  EXPECT_TRUE(c.closed_by_peer()) << "the connection stayed open after " << r.status;
  expect_still_serving(server);
}

// Ends a test: a graceful shutdown completes, and no connection, registration (the listener
// included) is left on the reactor.
inline void expect_clean_shutdown(TestServer& server) {
  EXPECT_TRUE(server.shutdown()) << "shutdown did not complete";
  EXPECT_EQ(server.connections(), 0u);
  EXPECT_EQ(server.registered(), 0u);
}

// Polls `condition` every 10 ms for at most `timeout_ms`; returns its last value.
inline bool eventually(const std::function<bool()>& condition, int timeout_ms = 3000) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Milliseconds since `start`.
inline int64_t elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// Descriptors open in this process (the directory's own included, at every count alike).
inline int open_descriptors() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (::readdir(dir) != nullptr) ++n;
  ::closedir(dir);
  return n;
}

// Tests that ended with more or fewer descriptors open than they began with.
inline std::string& descriptor_leaks() {
  static std::string leaks;
  return leaks;
}

// Counts descriptors before and after every test; by then the test's servers and clients
// are destroyed, so the counts must match.
class DescriptorLeakCheck : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo&) override { before_ = open_descriptors(); }
  void OnTestEnd(const ::testing::TestInfo& test) override {
    int after = open_descriptors();
    if (after != before_)
      descriptor_leaks() += std::string(test.test_suite_name()) + "." + test.name() + ": " +
                            std::to_string(before_) + " descriptors before, " +
                            std::to_string(after) + " after\n";
  }

 private:
  int before_ = 0;
};

// A listener cannot fail a test that has already ended: the leaks fail the program at its end,
// named one per line.
class DescriptorLeakReport : public ::testing::Environment {
 public:
  void TearDown() override { EXPECT_EQ(descriptor_leaks(), "") << "tests left descriptors open"; }
};

inline const bool kDescriptorLeakCheckInstalled = [] {
  // Both are owned (and deleted) by GoogleTest.
  ::testing::UnitTest::GetInstance()->listeners().Append(new DescriptorLeakCheck);
  ::testing::AddGlobalTestEnvironment(new DescriptorLeakReport);
  return true;
}();

}  // namespace hs::test
