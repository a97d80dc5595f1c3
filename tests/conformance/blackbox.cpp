#include "blackbox.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

extern char** environ;

namespace bb {

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string binary_path() {
  const char* path = std::getenv("HTTPSERVER");
  return path ? path : "";
}

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t length = sizeof a;
  uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &length) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

rlim_t raise_nofile(rlim_t want) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  if (limit.rlim_cur < want) {
    limit.rlim_cur = want < limit.rlim_max ? want : limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  return limit.rlim_cur;
}

// --- ServerProcess ------------------------------------------------------------------------

namespace {

std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    // The variables httpserver reads: flags alone decide how it runs here.
    if (entry.rfind("PORT=", 0) == 0 || entry.rfind("LOG_FORMAT=", 0) == 0 ||
        entry.rfind("WORKERS=", 0) == 0)
      continue;
    env.emplace_back(entry);
  }
  return env;
}

bool can_connect(uint16_t port) {
  int fd = connect_to(port, 200);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

std::unique_ptr<ServerProcess> ServerProcess::start(const ServerOptions& options,
                                                    std::string* why) {
  std::string binary = binary_path();
  if (binary.empty()) {
    if (why) *why = "HTTPSERVER is not set";
    return nullptr;
  }
  bool has_log_flag = false;
  for (const auto& a : options.args)
    if (a.rfind("--log-format", 0) == 0 || a == "--quiet") has_log_flag = true;

  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<ServerProcess> p(new ServerProcess());
    p->port_ = free_port();
    if (p->port_ == 0) continue;
    char path[] = "/tmp/httpserver-blackbox-XXXXXX";
    int log_fd = ::mkostemp(path, O_CLOEXEC | O_APPEND);
    if (log_fd < 0) {
      if (why) *why = std::string("mkstemp: ") + std::strerror(errno);
      return nullptr;
    }
    p->log_path_ = path;

    std::vector<std::string> args = {binary, "--port", std::to_string(p->port_), "--address",
                                     "127.0.0.1"};
    if (options.quiet && !has_log_flag) args.emplace_back("--quiet");
    args.insert(args.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env = child_environment();
    std::vector<char*> envp;
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
    posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int rc = ::posix_spawn(&pid, binary.c_str(), &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(log_fd);
    if (rc != 0) {
      if (why) *why = "posix_spawn " + binary + ": " + std::strerror(rc);
      return nullptr;
    }
    p->pid_ = pid;
    if (options.nofile != 0) {
      // posix_spawn runs no code of ours in the child, so the limit is set from outside with
      // prlimit(2) at once, before the server is waited for and before any client connects.
      // The server reads no limit at start-up; /proc/PID/limits confirms it is in force.
      rlimit limit{options.nofile, options.nofile};
      if (::prlimit(pid, RLIMIT_NOFILE, &limit, nullptr) != 0) {
        if (why) *why = std::string("prlimit: ") + std::strerror(errno);
        return nullptr;  // the destructor kills the child
      }
    }
    auto start = Clock::now();
    while (ms_since(start) < 5000) {
      if (!p->running()) break;
      if (can_connect(p->port_)) return p;
      sleep_ms(20);
    }
    if (why) *why = "no listener on port " + std::to_string(p->port_) + ": " + p->output();
    // Another process may have taken the port between bind(0) and the server's bind: retry.
  }
  return nullptr;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

bool ServerProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  pid_t r = ::waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    return false;
  }
  return true;
}

bool ServerProcess::signal(int sig) { return running() && ::kill(pid_, sig) == 0; }

std::optional<int> ServerProcess::wait_exit(int timeout_ms) {
  auto start = Clock::now();
  while (running()) {
    if (ms_since(start) >= timeout_ms) return std::nullopt;
    sleep_ms(10);
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  if (WIFSIGNALED(status_)) return -WTERMSIG(status_);
  return std::nullopt;
}

int ServerProcess::settled_fds() {
  auto start = Clock::now();
  int count = open_fds(pid_);
  int same = 0;
  while (same < 5 && ms_since(start) < 2000) {
    sleep_ms(20);
    int now = open_fds(pid_);
    same = now == count ? same + 1 : 0;
    count = now;
  }
  return count;
}

std::string ServerProcess::output(size_t max) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  return text.size() > max ? text.substr(text.size() - max) : text;
}

// --- /proc --------------------------------------------------------------------------------

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t paren = text.rfind(')');
  if (paren == std::string::npos) return -1;
  std::istringstream fields(text.substr(paren + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After "pid (comm) ": state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

int open_fds(pid_t pid) {
  DIR* dir = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (!dir) return -1;
  int n = 0;
  while (dirent* e = ::readdir(dir))
    if (e->d_name[0] != '.') ++n;
  ::closedir(dir);
  return n;
}

long nofile_limit(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream s(line.substr(14));
      long soft = 0;
      s >> soft;
      return soft;
    }
  }
  return 0;
}

// --- Sockets ----------------------------------------------------------------------------

int connect_nonblocking(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int connect_to(uint16_t port, int timeout_ms) {
  int fd = connect_nonblocking(port);
  if (fd < 0) return -1;
  pollfd p{fd, POLLOUT, 0};
  int err = 0;
  socklen_t n = sizeof err;
  if (::poll(&p, 1, timeout_ms) != 1 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &n) != 0 ||
      err != 0) {
    ::close(fd);
    return -1;
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

void reset_close(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(fd);
}

void set_timeouts(int fd, int send_ms, int recv_ms) {
  timeval s{send_ms / 1000, (send_ms % 1000) * 1000};
  timeval r{recv_ms / 1000, (recv_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof s);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r);
}

Exchange exchange(int fd, std::string_view out, int timeout_ms, bool send_after_eof) {
  Exchange x;
  auto start = Clock::now();
  int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  bool sending = !out.empty();
  char buffer[65536];
  // Ends at EOF (or, with send_after_eof, once sending is over too), or at the timeout.
  while (!x.peer_closed || (send_after_eof && sending)) {
    int64_t left = timeout_ms - ms_since(start);
    if (left <= 0) break;
    short events = static_cast<short>((x.peer_closed ? 0 : POLLIN) | (sending ? POLLOUT : 0));
    pollfd p{fd, events, 0};
    if (::poll(&p, 1, static_cast<int>(left < 100 ? left : 100)) < 0 && errno != EINTR) break;
    if (!x.peer_closed && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        x.received.append(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        x.peer_closed = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        x.peer_closed = true;
        x.reset = errno == ECONNRESET;
      }
    }
    if (sending && (p.revents & (POLLOUT | POLLERR | POLLHUP))) {
      size_t want = out.size() - x.sent;
      ssize_t n = ::send(fd, out.data() + x.sent, want < 65536 ? want : 65536, MSG_NOSIGNAL);
      if (n > 0) {
        x.sent += static_cast<size_t>(n);
        if (x.sent == out.size()) sending = false;
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        sending = false;  // the peer stopped reading for good: EPIPE or ECONNRESET
        if (errno == ECONNRESET) x.reset = true;
      }
    }
  }
  ::fcntl(fd, F_SETFL, flags);
  x.ms = ms_since(start);
  return x;
}

std::vector<ParsedResponse> parse_all(std::string_view text, std::string* rest) {
  std::vector<ParsedResponse> responses;
  for (int i = 0; i < 100000 && !text.empty(); ++i) {
    ParsedResponse r;
    size_t used = hs::test::parse_response(text, r);
    if (used == 0) break;
    responses.push_back(std::move(r));
    text.remove_prefix(used);
  }
  if (rest) *rest = std::string(text);
  return responses;
}

int plain_get(uint16_t port, int timeout_ms, int64_t* ms) {
  auto start = Clock::now();
  int status = 0;
  int fd = connect_to(port, timeout_ms);
  if (fd >= 0) {
    Exchange x = exchange(fd, "GET /plain HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                          timeout_ms);
    ::close(fd);
    auto responses = parse_all(x.received);
    if (!responses.empty()) status = responses.front().status;
  }
  if (ms) *ms = ms_since(start);
  return status;
}

void figure(const std::string& text) {
  std::cout << "FIGURE: " << text << std::endl;
  std::fflush(stdout);
}

}  // namespace bb
