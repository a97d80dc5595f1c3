// End-to-end harness: the httpserver binary as a child process, and what a user would use to
// talk to it (loopback sockets, signals, its stdout and stderr).
//
// Every wait is bounded. A Process that is still running when it goes out of scope is killed
// with SIGKILL and reaped, so a failed assertion never leaves a server behind. Only the
// children started here are ever signalled, by their PID.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace e2e {

using Clock = std::chrono::steady_clock;
using Env = std::map<std::string, std::string>;  // variables set for the child

// Milliseconds since `start`.
int64_t ms_since(Clock::time_point start);
void sleep_ms(int ms);

// The binary under test ($HTTPSERVER) and the version it should report ($HTTPSERVER_VERSION).
const std::string& binary_path();
std::string expected_version();

// A child process; stdin is /dev/null, stdout and stderr are captured through pipes by a
// reader thread. The child gets this process's environment without PORT, LOG_FORMAT and
// WORKERS (the variables httpserver reads), plus `env`.
class Process {
 public:
  Process(const std::vector<std::string>& args, const Env& env);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // True while the child has not exited.
  bool running();
  // Sends `sig` to the child (only while it has not been reaped).
  bool signal(int sig);
  // Waits up to `timeout_ms` for the child to exit. Returns its exit code, or -N when signal N
  // killed it, or nullopt when it is still running.
  std::optional<int> wait(int timeout_ms);

  // What the child wrote so far. Once it has exited, waits (bounded) for the pipes to drain,
  // so the result is everything it wrote.
  std::string out();
  std::string err();
  // Waits up to `timeout_ms` until stderr satisfies `done`.
  bool wait_for_err(const std::function<bool(const std::string&)>& done, int timeout_ms);
  bool wait_for_err(std::string_view needle, int timeout_ms);

 private:
  void read_loop();
  void wait_drained(int timeout_ms);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_ = 0;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string out_;
  std::string err_;
  bool drained_ = false;
  std::thread reader_;
};

// A command that runs to completion.
struct RunResult {
  std::optional<int> code;  // nullopt: still running after the timeout (then killed)
  std::string out;
  std::string err;
  int64_t ms = 0;  // how long it ran
};
RunResult run(const std::vector<std::string>& args, const Env& env = {}, int timeout_ms = 5000);

// How to start a server on a given port.
struct Launch {
  std::vector<std::string> args;
  Env env;
};

// A running httpserver and the port it listens on.
struct Server {
  std::unique_ptr<Process> process;
  uint16_t port = 0;
  explicit operator bool() const { return process != nullptr; }
  Process* operator->() const { return process.get(); }
  // SIGTERM (or `sig`) and wait for the exit; returns the exit code as Process::wait does.
  std::optional<int> stop(int sig, int timeout_ms = 2000);
};

// Starts httpserver with `make(port)` for a free port and waits until 127.0.0.1:port accepts
// connections. Another port is tried if the chosen one was taken in the meantime. On failure
// (no listener within 5 s) it records a test failure and returns an empty Server.
Server start_server(const std::function<Launch(uint16_t)>& make);
// The same with "--port <port>" appended to `args`.
Server start_server(std::vector<std::string> args = {}, Env env = {});

// True when this host can use IPv6 on loopback.
bool ipv6_available();
// A TCP port nobody listens on right now (free for IPv4 and IPv6 alike).
uint16_t free_port();
// A listening socket on every address, `port` 0 for any; returns the descriptor (-1 on
// failure) and stores the port.
int listen_everywhere(uint16_t& port);
// Connects to 127.0.0.1:port (or [::1]:port) with a timeout: 0 on success, else the errno
// (ECONNREFUSED, ETIMEDOUT, ...).
int try_connect(uint16_t port, bool ipv6 = false, int timeout_ms = 1000);

// Lines of `text` (without the '\n'); a last line without '\n' is included.
std::vector<std::string> lines(const std::string& text);
// Lines containing `needle`.
std::vector<std::string> lines_with(const std::string& text, std::string_view needle);

// Parses an RFC 3339 timestamp as logrus writes it (2006-01-02T15:04:05Z07:00) into seconds
// since the epoch, honouring the offset.
std::optional<std::time_t> parse_rfc3339(std::string_view text);

}  // namespace e2e
