// Black-box harness: the httpserver binary as a child process, seen only from outside.
//
// Shared by the conformance and hostile suites. The binary is $HTTPSERVER; it is started
// with posix_spawn on a free 127.0.0.1 port (found with bind(0)), its stdout and stderr go to
// a temporary file, and a ServerProcess that is still running when it is destroyed is killed
// with SIGKILL and reaped. Only children started here are ever signalled, by their PID.
// Every wait is bounded.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "test_server.hpp"

namespace bb {

using Clock = std::chrono::steady_clock;
using hs::test::Client;
using hs::test::ParsedResponse;

int64_t ms_since(Clock::time_point start);
void sleep_ms(int ms);

// $HTTPSERVER, the binary under test (empty when unset).
std::string binary_path();

// A port on 127.0.0.1 that nobody listened on a moment ago (bind to port 0, read, close).
uint16_t free_port();

// Raises this process's RLIMIT_NOFILE soft limit to at least `want` (up to the hard limit).
// Returns the soft limit now in force.
rlim_t raise_nofile(rlim_t want);

struct ServerOptions {
  std::vector<std::string> args;  // besides --port and --address 127.0.0.1
  rlim_t nofile = 0;              // RLIMIT_NOFILE for the server (0: inherited)
  bool quiet = true;              // --quiet unless args name a --log-format
};

class ServerProcess {
 public:
  // Starts the binary on a free port and waits (at most 5 s) until it accepts connections.
  // Returns null (and records nothing) on failure; `why` says what went wrong.
  static std::unique_ptr<ServerProcess> start(const ServerOptions& options, std::string* why);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  bool running();
  bool signal(int sig);
  // Waits up to `timeout_ms` for the exit: the exit code, -N for signal N, nullopt if running.
  std::optional<int> wait_exit(int timeout_ms);
  // Its open descriptors once the count has stopped changing (the same for 100 ms, at most
  // 2 s): a baseline that the connection start() probed with no longer inflates.
  int settled_fds();
  // What the server wrote to stdout and stderr so far (the last `max` bytes).
  std::string output(size_t max = 4096) const;

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

// --- /proc figures of a process ---------------------------------------------------------
// VmRSS in KiB (-1 if unreadable).
long rss_kib(pid_t pid);
// utime + stime in seconds (-1 if unreadable).
double cpu_seconds(pid_t pid);
// Open descriptors (-1 if unreadable).
int open_fds(pid_t pid);
// The soft RLIMIT_NOFILE as /proc/PID/limits shows it (0 if unreadable).
long nofile_limit(pid_t pid);

// --- Sockets ----------------------------------------------------------------------------
// A connected TCP socket to 127.0.0.1:port (blocking, close-on-exec), -1 on failure. Connect
// waits at most `timeout_ms`.
int connect_to(uint16_t port, int timeout_ms = 2000);
// Starts a non-blocking connect; -1 if the socket cannot be made.
int connect_nonblocking(uint16_t port);
// Closes with SO_LINGER {1, 0}: the peer gets a reset, not a FIN.
void reset_close(int fd);
// Sets SO_SNDTIMEO / SO_RCVTIMEO.
void set_timeouts(int fd, int send_ms, int recv_ms);

// Sends `out` while reading whatever comes back, until the peer closes (EOF or reset) or
// `timeout_ms` passes. Stops sending (without failing) when the peer stops accepting bytes,
// for it may have answered and closed. With `send_after_eof`, an EOF (the peer's half-close)
// does not stop the sending: it ends when everything is sent or sending fails, as a flooding
// client that does not listen would.
struct Exchange {
  std::string received;
  size_t sent = 0;
  bool peer_closed = false;  // EOF or reset seen
  bool reset = false;        // ECONNRESET seen
  int64_t ms = 0;
};
Exchange exchange(int fd, std::string_view out, int timeout_ms, bool send_after_eof = false);

// Every complete response at the start of `text`; `rest` gets the bytes after them.
std::vector<ParsedResponse> parse_all(std::string_view text, std::string* rest = nullptr);

// A normal GET on a fresh connection; the status (0 if none), its latency in `ms`.
int plain_get(uint16_t port, int timeout_ms, int64_t* ms = nullptr);

// Prints a figure on stdout as "FIGURE: <text>" so that it can be quoted from the log.
void figure(const std::string& text);

}  // namespace bb
