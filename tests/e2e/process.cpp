#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <stdexcept>

extern char** environ;

namespace e2e {

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

const std::string& binary_path() {
  static const std::string path = [] {
    const char* p = std::getenv("HTTPSERVER");
    if (p == nullptr || *p == '\0')
      throw std::runtime_error("HTTPSERVER must name the httpserver binary under test");
    return std::string(p);
  }();
  return path;
}

std::string expected_version() {
  const char* v = std::getenv("HTTPSERVER_VERSION");
  return v ? v : "";
}

namespace {

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Runs posix_spawn_* cleanup on every path.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

std::vector<std::string> child_environment(const Env& env) {
  static const std::set<std::string> read_by_server = {"PORT", "LOG_FORMAT", "WORKERS"};
  std::vector<std::string> result;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (read_by_server.count(name) || env.count(name)) continue;
    result.emplace_back(entry);
  }
  for (const auto& [name, value] : env) result.push_back(name + "=" + value);
  return result;
}

}  // namespace

Process::Process(const std::vector<std::string>& args, const Env& env) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return;
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return;
  }
  std::vector<std::string> argv_storage;
  argv_storage.push_back(binary_path());
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage = child_environment(env);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  {
    SpawnSetup s;
    posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
    // dup2 clears close-on-exec on the target: the child keeps exactly 0, 1 and 2.
    posix_spawn_file_actions_adddup2(&s.actions, out_pipe[1], 1);
    posix_spawn_file_actions_adddup2(&s.actions, err_pipe[1], 2);
    // The child starts with no blocked signals and default dispositions, whatever the test
    // runner left us.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGTERM, SIGINT, SIGPIPE, SIGHUP}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&s.attr, &none);
    posix_spawnattr_setsigdefault(&s.attr, &defaults);
    posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid;
    if (::posix_spawn(&pid, binary_path().c_str(), &s.actions, &s.attr, argv.data(), envp.data()) ==
        0)
      pid_ = pid;
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  out_fd_ = out_pipe[0];
  err_fd_ = err_pipe[0];
  if (pid_ <= 0) {
    close_fd(out_fd_);
    close_fd(err_fd_);
    return;
  }
  reader_ = std::thread([this] { read_loop(); });
}

Process::~Process() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    int status;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
  }
  if (reader_.joinable()) {
    // The pipes reach EOF once the child is gone; stop_ bounds the wait regardless.
    wait_drained(2000);
    stop_ = true;
    reader_.join();
  }
  close_fd(out_fd_);
  close_fd(err_fd_);
}

void Process::read_loop() {
  bool out_open = true, err_open = true;
  char chunk[65536];
  while ((out_open || err_open) && !stop_) {
    pollfd p[2] = {{out_open ? out_fd_ : -1, POLLIN, 0}, {err_open ? err_fd_ : -1, POLLIN, 0}};
    int n = ::poll(p, 2, 50);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || p[i].revents == 0) continue;
      ssize_t got = ::read(p[i].fd, chunk, sizeof chunk);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      std::lock_guard<std::mutex> lock(mutex_);
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? out_ : err_).append(chunk, static_cast<size_t>(got));
      }
      changed_.notify_all();
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  drained_ = true;
  changed_.notify_all();
}

void Process::wait_drained(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return drained_; });
}

bool Process::running() { return started() && !wait(0).has_value(); }

bool Process::signal(int sig) {
  if (pid_ <= 0 || reaped_) return false;
  return ::kill(pid_, sig) == 0;
}

std::optional<int> Process::wait(int timeout_ms) {
  if (pid_ <= 0) return -1;
  auto start = Clock::now();
  while (!reaped_) {
    int status;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      exit_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      break;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (ms_since(start) >= timeout_ms) return std::nullopt;
    sleep_ms(2);
  }
  return exit_;
}

std::string Process::out() {
  if (reaped_ && reader_.joinable()) wait_drained(2000);
  std::lock_guard<std::mutex> lock(mutex_);
  return out_;
}

std::string Process::err() {
  if (reaped_ && reader_.joinable()) wait_drained(2000);
  std::lock_guard<std::mutex> lock(mutex_);
  return err_;
}

bool Process::wait_for_err(const std::function<bool(const std::string&)>& done, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    return done(err_) || drained_;
  }) && done(err_);
}

bool Process::wait_for_err(std::string_view needle, int timeout_ms) {
  return wait_for_err(
      [needle](const std::string& s) { return s.find(needle) != std::string::npos; }, timeout_ms);
}

RunResult run(const std::vector<std::string>& args, const Env& env, int timeout_ms) {
  RunResult result;
  auto start = Clock::now();
  Process p(args, env);
  if (!p.started()) return result;
  result.code = p.wait(timeout_ms);
  result.ms = ms_since(start);
  if (!result.code) {
    p.signal(SIGKILL);
    p.wait(2000);
  }
  result.out = p.out();
  result.err = p.err();
  return result;
}

std::optional<int> Server::stop(int sig, int timeout_ms) {
  if (!process) return std::nullopt;
  process->signal(sig);
  return process->wait(timeout_ms);
}

Server start_server(const std::function<Launch(uint16_t)>& make) {
  std::string last_error;
  for (int attempt = 0; attempt < 5; ++attempt) {
    Server server;
    server.port = free_port();
    if (server.port == 0) break;
    Launch launch = make(server.port);
    server.process = std::make_unique<Process>(launch.args, launch.env);
    if (!server.process->started()) {
      ADD_FAILURE() << "cannot spawn " << binary_path();
      return {};
    }
    auto start = Clock::now();
    while (ms_since(start) < 5000) {
      // Still running after a connect: the listener is ours, not a stranger's on that port.
      if (try_connect(server.port, false, 200) == 0 && server.process->running()) return server;
      if (server.process->wait(0)) {
        last_error = server.process->err();
        break;
      }
      sleep_ms(5);
    }
    if (server.process->running()) {
      ADD_FAILURE() << "httpserver does not listen on port " << server.port << " within 5 s; "
                    << "stderr:\n"
                    << server.process->err();
      return {};
    }
    // Exited: the port was taken between free_port() and the bind; try another.
    if (last_error.find("bind") == std::string::npos) break;
  }
  ADD_FAILURE() << "httpserver exited at startup; stderr:\n" << last_error;
  return {};
}

Server start_server(std::vector<std::string> args, Env env) {
  return start_server([&](uint16_t port) {
    Launch l{args, env};
    l.args.push_back("--port");
    l.args.push_back(std::to_string(port));
    return l;
  });
}

bool ipv6_available() {
  static const bool available = [] {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }();
  return available;
}

int listen_everywhere(uint16_t& port) {
  bool v6 = ipv6_available();
  int fd = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_storage storage{};
  socklen_t length;
  if (v6) {
    int off = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_any;
    a->sin6_port = htons(port);
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_ANY);
    a->sin_port = htons(port);
    length = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 || ::listen(fd, 16) != 0) {
    ::close(fd);
    return -1;
  }
  length = sizeof storage;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
  port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port
                  : reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
  return fd;
}

uint16_t free_port() {
  uint16_t port = 0;
  int fd = listen_everywhere(port);
  if (fd < 0) return 0;
  ::close(fd);
  return port;
}

int try_connect(uint16_t port, bool ipv6, int timeout_ms) {
  int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  sockaddr_storage storage{};
  socklen_t length;
  if (ipv6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    a->sin6_port = htons(port);
    length = sizeof *a;
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons(port);
    length = sizeof *a;
  }
  int result = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0) {
    result = errno;
    if (result == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, timeout_ms) != 1) {
        result = ETIMEDOUT;
      } else {
        socklen_t n = sizeof result;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &result, &n);
      }
    }
  }
  ::close(fd);
  return result;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    result.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return result;
}

std::vector<std::string> lines_with(const std::string& text, std::string_view needle) {
  std::vector<std::string> result;
  for (auto& line : lines(text))
    if (line.find(needle) != std::string::npos) result.push_back(line);
  return result;
}

std::optional<std::time_t> parse_rfc3339(std::string_view text) {
  // 2006-01-02T15:04:05Z or 2006-01-02T15:04:05+07:00
  auto digits = [&](size_t at, size_t n, int& out) {
    out = 0;
    if (at + n > text.size()) return false;
    for (size_t i = at; i < at + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  std::tm tm{};
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !digits(0, 4, year) || text[4] != '-' || !digits(5, 2, month) ||
      text[7] != '-' || !digits(8, 2, day) || text[10] != 'T' || !digits(11, 2, hour) ||
      text[13] != ':' || !digits(14, 2, minute) || text[16] != ':' || !digits(17, 2, second))
    return std::nullopt;
  long offset = 0;
  std::string_view zone = text.substr(19);
  if (zone == "Z") {
    offset = 0;
  } else {
    int oh, om;
    if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
        !digits(20, 2, oh) || !digits(23, 2, om))
      return std::nullopt;
    offset = (oh * 60L + om) * 60L * (zone[0] == '-' ? -1 : 1);
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return ::timegm(&tm) - offset;
}

}  // namespace e2e
