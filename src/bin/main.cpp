// httpserver: the binary. Flags and environment, signals, workers, --healthcheck.
//
// SIGTERM and SIGINT are blocked in every thread and read from a signalfd by the first
// reactor, so they arrive as ordinary events: the server drains and the process exits 0, also
// as PID 1 in a container (where the kernel delivers no default-action signal).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <httpserver/files.hpp>
#include <httpserver/log.hpp>
#include <httpserver/middleware.hpp>
#include <httpserver/reactor.hpp>
#include <httpserver/server.hpp>
#include <httpserver/version.hpp>

#include "admin.hpp"
#include "config.hpp"
#include "help.hpp"
#include "socket_address.hpp"
#include "unique_fd.hpp"

extern char** environ;

namespace {

using hs::Config;

std::map<std::string, std::string> environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos)
      env.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

// --healthcheck: one GET to the local server, 2 s in all. No resolver: numeric addresses.
int healthcheck(const Config& config) {
  // The admin listener's liveness when there is one, else the application's /healthz (which
  // the tutorial's catch-all handler answers 200 like any path).
  const hs::ListenerOptions& target = config.admin ? *config.admin : config.server.listen;
  const char* path = config.admin ? "/livez" : "/healthz";
  hs::SocketAddress address;
  try {
    address = hs::local_address(target.address, target.port);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "healthcheck: %s\n", e.what());
    return 1;
  }
  const std::string& host = address.name;
  hs::UniqueFd fd(::socket(address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return 1;
  auto wait = [&](short events) {
    pollfd p{fd.get(), events, 0};
    return ::poll(&p, 1, 2000) == 1 && !(p.revents & (POLLERR | POLLNVAL));
  };
  if (::connect(fd.get(), address.get(), address.length) != 0) {
    if (errno != EINPROGRESS || !wait(POLLOUT)) {
      std::fprintf(stderr, "healthcheck: cannot connect to %s:%u\n", host.c_str(), target.port);
      return 1;
    }
    int err = 0;
    socklen_t n = sizeof err;
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &n);
    if (err != 0) {
      std::fprintf(stderr, "healthcheck: connect %s:%u: %s\n", host.c_str(), target.port,
                   std::strerror(err));
      return 1;
    }
  }
  std::string request =
      std::string("GET ") + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    return 1;
  char reply[64];
  size_t got = 0;
  while (got < 12 && wait(POLLIN)) {
    ssize_t n = ::recv(fd.get(), reply + got, sizeof reply - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  // "HTTP/1.1 200"
  if (got >= 12 && std::memcmp(reply, "HTTP/1.", 7) == 0 && reply[9] == '2') return 0;
  std::fprintf(stderr, "healthcheck: no 2xx answer from %s:%u\n", host.c_str(), target.port);
  return 1;
}

bool shared_pipe(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

// --root: the directory's files, and /healthz answered here (the image's HEALTHCHECK asks it
// without an admin listener; a site seldom has such a file, and must not need one).
hs::Handler site(const std::string& root, const hs::FileOptions& options) {
  return [files = hs::files(root, options)](const hs::Request& q, hs::Response& r) {
    if (q.path() == "/healthz") {
      r.set_header("Content-Type", "text/plain; charset=utf-8");
      r.body.assign("ok\n");
      return;
    }
    files(q, r);
  };
}

// One reactor, its logger and its server: all a thread needs, nothing shared.
struct Worker {
  // Alone on stderr, a Logger may end its writes to a file on 64 KiB file offsets (cheaper for
  // the kernel; see log.hpp); workers sharing it each write whole lines.
  Worker(const Config& config, hs::ServerOptions options, bool reuse_port,
         size_t atomic_write_bytes)
      : logger(2, {config.log_format, 1 << 20, atomic_write_bytes, reuse_port ? 0u : 64u << 10}) {
    logger.attach(reactor);
    options.listen.reuse_port = reuse_port;
    for (auto& l : options.also_listen) l.reuse_port = reuse_port;
    std::vector<hs::Middleware> middlewares;
    if (logger.enabled()) middlewares.push_back(hs::logging(logger));
    hs::Handler root =
        config.root.empty() ? hs::text(config.body) : site(config.root, config.files);
    server = std::make_unique<hs::Server>(reactor, options, hs::chain(middlewares, root), &logger);
  }
  void stop() {
    server->shutdown([this] { reactor.stop(); });
  }

  hs::Reactor reactor;
  hs::Logger logger;
  std::unique_ptr<hs::Server> server;
};

int serve(const Config& config) {
  // Blocked before any thread starts, so every thread inherits the mask and the signals
  // wait in the signalfd. SIGPIPE is ignored: a client or a log reader that went away is an
  // error code from send or write, never a reason to die.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  ::pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  hs::UniqueFd signal_fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd) throw std::system_error(errno, std::generic_category(), "signalfd");

  bool many = config.workers > 1;
  size_t atomic = many && shared_pipe(2) ? PIPE_BUF : 0;
  std::vector<std::unique_ptr<Worker>> workers;
  for (unsigned i = 0; i < config.workers; ++i) {
    // Each worker's server owns its listening sockets: inherited ones are shared by
    // duplicates (all workers accept on the same socket), TCP ones are bound by each
    // (SO_REUSEPORT).
    hs::ServerOptions options = config.server;
    options.time_requests = config.admin.has_value();  // the duration histogram of /metrics
    if (i > 0) {
      auto dup = [](hs::ListenerOptions& l) {
        if (l.fd >= 0 && (l.fd = ::fcntl(l.fd, F_DUPFD_CLOEXEC, 3)) < 0)
          throw std::system_error(errno, std::generic_category(), "fcntl(F_DUPFD_CLOEXEC)");
      };
      dup(options.listen);
      for (auto& l : options.also_listen) dup(l);
    }
    workers.push_back(std::make_unique<Worker>(config, std::move(options), many, atomic));
  }
  Worker& first = *workers.front();

  // On the first worker's loop; it serves until that loop stops, after every worker's
  // graceful shutdown: probes keep their answers (/readyz 503) to the end.
  std::unique_ptr<hs::Admin> admin;
  if (config.admin) {
    std::vector<hs::WorkerView> views;
    for (auto& w : workers) views.push_back({&w->reactor, w->server.get(), &w->logger});
    admin = std::make_unique<hs::Admin>(*config.admin, std::move(views));
  }

  bool stopping = false;
  hs::Reactor::TimerId drain_timer = 0;
  auto shut_down = [&](const char* why) {
    if (stopping) return;  // the shutdown timeout holds whatever else arrives
    stopping = true;
    if (drain_timer) first.reactor.cancel_timer(std::exchange(drain_timer, 0));
    if (admin) admin->set_draining();
    first.logger.info("shutting down: ", why);
    for (auto& w : workers) {
      Worker* worker = w.get();
      if (worker == &first) {
        worker->stop();
      } else {
        worker->reactor.post([worker] { worker->stop(); });
      }
    }
  };
  first.reactor.add(signal_fd.get(), hs::kReadable, [&](uint32_t) {
    signalfd_siginfo info;
    while (::read(signal_fd.get(), &info, sizeof info) == sizeof info) {
      const char* name = info.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT";
      // The first SIGTERM with a drain delay: not ready any more, but serving as before
      // while the load balancer takes us out. SIGINT, or another SIGTERM, cuts it short.
      if (info.ssi_signo == SIGTERM && config.drain_delay_ms > 0 && !drain_timer && !stopping) {
        if (admin) admin->set_draining();
        first.logger.info("draining: /readyz answers 503, shutting down in ",
                          std::to_string(config.drain_delay_ms) + " ms (SIGTERM)");
        drain_timer = first.reactor.add_timer(config.drain_delay_ms, 0, [&] {
          drain_timer = 0;
          shut_down("drain delay over");
        });
        continue;
      }
      shut_down(name);
    }
  });

  std::string where;
  for (const std::string& a : first.server->addresses()) where += (where.empty() ? "" : ", ") + a;
  first.logger.info("listening on ", where);
  if (admin) first.logger.info("admin listening on ", admin->server().address());
  first.logger.flush();

  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers.size(); ++i)
    threads.emplace_back([w = workers[i].get()] { w->reactor.run(); });
  first.reactor.run();
  for (auto& t : threads) t.join();
  first.reactor.remove(signal_fd.get());
  for (auto& w : workers) w->logger.flush_all();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Config config;
  try {
    auto env = environment();
    config = hs::parse_config(std::vector<std::string>(argv + 1, argv + argc), env);
    // Socket activation: serve what systemd (or podman, systemd-socket-activate) handed over.
    // The variables are for this process only: a child must not take them for its own.
    auto inherited = hs::inherited_listeners(env, static_cast<long>(::getpid()));
    ::unsetenv("LISTEN_PID");
    ::unsetenv("LISTEN_FDS");
    ::unsetenv("LISTEN_FDNAMES");
    if (!inherited.empty()) {
      config.server.listen = inherited.front();
      config.server.also_listen.assign(inherited.begin() + 1, inherited.end());
    }
  } catch (const hs::UsageError& e) {
    std::fprintf(stderr, "httpserver: %s\n\n%s", e.what(), hs::usage().c_str());
    return 2;
  }
  switch (config.mode) {
    case Config::Mode::help:
      std::fputs(hs::usage().c_str(), stdout);
      return 0;
    case Config::Mode::version:
      std::printf("httpserver %s\n", hs::version());
      return 0;
    case Config::Mode::healthcheck:
      return healthcheck(config);
    case Config::Mode::serve:
      break;
  }
  try {
    return serve(config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "httpserver: %s\n", e.what());
    return 1;
  }
}
