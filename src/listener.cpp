#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace hs {

namespace {

// Accepting more than this per wakeup would starve the connections already being served
// (Redis caps its accept loop the same way). The socket is level-triggered: the rest wait.
constexpr int kMaxAcceptsPerWakeup = 64;

[[noreturn]] void fail(int err, const std::string& what) {
  throw std::system_error(err, std::generic_category(), what);
}

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  std::string name;
};

Address make_address(const std::string& text, uint16_t port, bool ipv6_available) {
  Address a;
  std::string host = text == "localhost" ? "127.0.0.1" : text;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = ipv6_available ? "::" : "0.0.0.0";
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    a.length = sizeof *v4;
    a.family = AF_INET;
    a.name = host;
  } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    a.length = sizeof *v6;
    a.family = AF_INET6;
    a.name = "[" + host + "]";
  } else {
    fail(EINVAL, "address '" + text + "' is not a numeric IPv4 or IPv6 address");
  }
  return a;
}

}  // namespace

Listener::Listener(Reactor& reactor, const ListenerOptions& options, AcceptFn on_accept)
    : reactor_(reactor), on_accept_(std::move(on_accept)) {
  // Probe for IPv6 only when the caller asked for "every address".
  bool ipv6 = true;
  if (options.address.empty()) {
    UniqueFd probe(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ipv6 = static_cast<bool>(probe);
  }
  Address addr = make_address(options.address, options.port, ipv6);
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
  std::string where = addr.name + ":" + std::to_string(options.port);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr.storage), addr.length) != 0)
    fail(errno, "bind " + where);
  if (::listen(fd_.get(), options.backlog) != 0) fail(errno, "listen " + where);

  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  if (::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &length) != 0)
    fail(errno, "getsockname");
  port_ = ntohs(addr.family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                       : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  name_ = addr.name + ":" + std::to_string(port_);

  spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (int err = reactor_.add(fd_.get(), kReadable, this); err != 0)
    fail(err, "epoll_ctl(ADD listener)");
}

Listener::~Listener() { close(); }

void Listener::close() noexcept {
  if (!fd_) return;
  reactor_.remove(fd_.get());
  fd_.reset();
}

void Listener::on_io(uint32_t) noexcept {
  for (int i = 0; i < kMaxAcceptsPerWakeup && fd_; ++i) {
    int client = ::accept4(fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (client >= 0) {
      on_accept_(UniqueFd(client));
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
