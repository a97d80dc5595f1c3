#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string_view>
#include <system_error>

#include "socket_address.hpp"

namespace hs {

namespace {

// TCP_DEFER_ACCEPT's period, in seconds: the kernel turns it into SYN-ACK retransmissions (1 s
// is one, the least), after which a client that has sent nothing is handed over anyway. The
// least there is: a silent client waits for the header timeout only this much later than
// without deferring, and a connection whose first bytes come at once is not delayed at all.
constexpr int kDeferAcceptSeconds = 1;

// Accepting more than this per wakeup would starve the connections already being served
// (Redis caps its accept loop the same way). The socket is level-triggered: the rest wait.
constexpr int kMaxAcceptsPerWakeup = 64;

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

// The port a TCP socket is bound to. Apart from socket_name(): inet_ntop formats with
// sprintf, whose code a static binary would otherwise page in at every start-up.
uint16_t bound_port(int fd) {
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0)
    fail(errno, "getsockname");
  if (bound.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  if (bound.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  return 0;
}

// "127.0.0.1:8080", "[::1]:8080" or "unix:/path": what a socket handed over is, for messages.
std::string socket_name(int fd, uint16_t* port) {
  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0)
    fail(errno, "getsockname");
  char text[INET6_ADDRSTRLEN] = {};
  switch (bound.ss_family) {
    case AF_INET: {
      auto* v4 = reinterpret_cast<sockaddr_in*>(&bound);
      *port = ntohs(v4->sin_port);
      ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
      return std::string(text) + ":" + std::to_string(*port);
    }
    case AF_INET6: {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&bound);
      *port = ntohs(v6->sin6_port);
      ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
      return "[" + std::string(text) + "]:" + std::to_string(*port);
    }
    case AF_UNIX: {
      auto* un = reinterpret_cast<sockaddr_un*>(&bound);
      size_t n =
          length > offsetof(sockaddr_un, sun_path) ? length - offsetof(sockaddr_un, sun_path) : 0;
      std::string path(un->sun_path, ::strnlen(un->sun_path, n));
      return std::string(kUnixPrefix) + (path.empty() ? "(unnamed)" : path);
    }
    default:
      return "socket family " + std::to_string(bound.ss_family);
  }
}

// A file at `path` left by a server that is gone: a socket that refuses connections. A live
// one, or anything that is not a socket, is left alone and reported.
void remove_stale_socket(const std::string& path, const SocketAddress& addr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;  // nothing there
  if (!S_ISSOCK(st.st_mode)) fail(EEXIST, "bind unix:" + path + " (a file that is not a socket)");
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe) fail(errno, "socket");
  if (::connect(probe.get(), addr.get(), addr.length) == 0)
    fail(EADDRINUSE, "bind unix:" + path + " (another server is listening on it)");
  if (errno != ECONNREFUSED) fail(errno, "connect unix:" + path);
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail(errno, "unlink unix:" + path);
}

}  // namespace

Listener::Listener(Reactor& reactor, const ListenerOptions& options, AcceptFn on_accept)
    : reactor_(reactor), on_accept_(std::move(on_accept)) {
  try {
    if (options.fd >= 0) {
      adopt(options.fd);
    } else if (std::string_view(options.address).starts_with(kUnixPrefix)) {
      bind_unix(options);
    } else {
      bind_tcp(options);
    }
    // Responses that go out in several writes (a head, then a file's sendfile) must not wait
    // for the client's delayed ACK: without TCP_NODELAY, Nagle holds the second pipelined
    // file response's last segment until the first is acknowledged (tens of ms per batch).
    // Set on the listener, bound or adopted, every accepted socket inherits it: no system
    // call per connection. Heads are held back with MSG_MORE while a small file follows.
    // Fails harmlessly (EOPNOTSUPP) on a unix socket.
    int one = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Asked back rather than assumed: set by bind_tcp, or by whoever made a socket handed
    // over; a kernel or sandbox without it reads as "no" (a unix socket says EOPNOTSUPP).
    int defer_s = 0;
    socklen_t length = sizeof defer_s;
    defers_accept_ =
        ::getsockopt(fd_.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, &length) == 0 &&
        defer_s > 0;
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (int err = reactor_.add(fd_.get(), kReadable, this); err != 0)
      fail(err, "epoll_ctl(ADD listener)");
  } catch (...) {
    close();  // no destructor runs: remove a unix socket's file made before the failure
    throw;
  }
}

void Listener::adopt(int fd) {
  fd_.reset(fd);
  int listening = 0, type = 0;
  socklen_t n = sizeof listening;
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &n) != 0)
    fail(errno, "inherited descriptor " + std::to_string(fd) + " is not a socket");
  n = sizeof type;
  ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &n);
  if (!listening || type != SOCK_STREAM)
    fail(EINVAL,
         "inherited descriptor " + std::to_string(fd) + " is not a listening stream socket");
  // Inherited as the parent made it: accept4 must never block, and a child we start must not
  // inherit it.
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) fail(errno, "fcntl(O_NONBLOCK)");
  if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) fail(errno, "fcntl(FD_CLOEXEC)");
  // TCP_DEFER_ACCEPT is left as the host made it: the socket outlives us in the host's hands
  // (systemd passes the same one to the next start, and may share it), so a change made here
  // would persist there behind the back of what configures it (a unit's DeferAcceptSec=).
  name_ = socket_name(fd, &port_);
}

void Listener::bind_unix(const ListenerOptions& options) {
  SocketAddress addr = socket_address(options.address, 0, false);
  const std::string& path = addr.name;
  remove_stale_socket(path, addr);
  fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) fail(errno, "socket");
  if (::bind(fd_.get(), addr.get(), addr.length) != 0) fail(errno, "bind unix:" + path);
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    unix_path_ = path;
    unix_dev_ = st.st_dev;
    unix_ino_ = st.st_ino;
  }
  // Before listen(): no client can connect while the file still has the umask's mode.
  if (::chmod(path.c_str(), options.unix_mode) != 0) fail(errno, "chmod unix:" + path);
  if (::listen(fd_.get(), options.backlog) != 0) fail(errno, "listen unix:" + path);
  name_ = "unix:" + path;
}

void Listener::bind_tcp(const ListenerOptions& options) {
  // Probe for IPv6 only when the caller asked for "every address".
  bool ipv6 = true;
  if (options.address.empty()) {
    UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ipv6 = static_cast<bool>(probe);
  }
  SocketAddress addr = socket_address(options.address, options.port, ipv6);
  fd_.reset(::socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_) fail(errno, "socket");
  int on = 1, off = 0;
  // Restarting while old connections sit in TIME_WAIT must not fail with EADDRINUSE.
  if (::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0)
    fail(errno, "setsockopt(SO_REUSEADDR)");
  if (options.reuse_port && ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0)
    fail(errno, "setsockopt(SO_REUSEPORT)");
  // "::" must take IPv4 clients too, whatever net.ipv6.bindv6only says.
  if (addr.family == AF_INET6 && options.address.empty() &&
      ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off) != 0)
    fail(errno, "setsockopt(IPV6_V6ONLY)");
  // Worth having, not worth failing for (an emulated kernel may lack it): the constructor
  // asks the socket whether it took.
  if (options.defer_accept)
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_DEFER_ACCEPT, &kDeferAcceptSeconds,
                 sizeof kDeferAcceptSeconds);
  std::string where = addr.name + ":" + std::to_string(options.port);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr.storage), addr.length) != 0)
    fail(errno, "bind " + where);
  if (::listen(fd_.get(), options.backlog) != 0) fail(errno, "listen " + where);
  port_ = bound_port(fd_.get());
  name_ = addr.name + ":" + std::to_string(port_);
}

Listener::~Listener() { close(); }

void Listener::close() noexcept {
  if (!fd_) return;
  reactor_.remove(fd_.get());
  fd_.reset();
  // Only the file we made: another server may have replaced it since (ours was stale to it).
  struct stat st;
  if (!unix_path_.empty() && ::lstat(unix_path_.c_str(), &st) == 0 && st.st_dev == unix_dev_ &&
      st.st_ino == unix_ino_)
    ::unlink(unix_path_.c_str());
  unix_path_.clear();
}

void Listener::on_io(uint32_t) noexcept {
  Accepted accepted;
  accepted.first_bytes_in = defers_accept_;
  for (int i = 0; i < kMaxAcceptsPerWakeup && fd_; ++i) {
    accepted.peer.ss_family = AF_UNSPEC;
    socklen_t length = sizeof accepted.peer;
    int client = ::accept4(fd_.get(), reinterpret_cast<sockaddr*>(&accepted.peer), &length,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      accepted.fd.reset(client);
      on_accept_(accepted);
      accepted.fd.reset();  // closed here unless the callback took it
      continue;
    }
    switch (errno) {
      case EINTR:
      case ECONNABORTED:  // the client left before we got to it
        continue;
      case EMFILE:
      case ENFILE:
        shed_waiting_clients();
        return;
      default:  // EAGAIN: drained. Anything else (ENOBUFS, ENOMEM): retry on the next wakeup.
        return;
    }
  }
}

void Listener::shed_waiting_clients() noexcept {
  // Without a free descriptor the waiting clients can be neither served nor refused, and the
  // level-triggered socket would wake us forever. Free the spare, accept and close them.
  if (!spare_) return;
  spare_.reset();
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    int client = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0 && errno == EINTR) continue;
    if (client < 0) break;
    ::close(client);
    ++shed_;
  }
  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

}  // namespace hs
