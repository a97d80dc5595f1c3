#include "socket_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <system_error>

namespace hs {

SocketAddress socket_address(std::string_view text, uint16_t port, bool ipv6_available) {
  SocketAddress a;
  if (text.starts_with(kUnixPrefix)) {
    std::string_view path = text.substr(kUnixPrefix.size());
    auto* un = reinterpret_cast<sockaddr_un*>(&a.storage);
    if (path.empty() || path.size() >= sizeof un->sun_path)
      throw std::system_error(ENAMETOOLONG, std::generic_category(),
                              "unix socket path '" + std::string(path) + "' must have 1 to " +
                                  std::to_string(sizeof un->sun_path - 1) + " bytes");
    un->sun_family = AF_UNIX;
    std::memcpy(un->sun_path, path.data(), path.size());
    a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    a.family = AF_UNIX;
    a.name = path;
    return a;
  }
  std::string host(text == "localhost" ? "127.0.0.1" : text);
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
    throw std::system_error(
        EINVAL, std::generic_category(),
        "address '" + std::string(text) + "' is not a numeric IPv4 or IPv6 address");
  }
  return a;
}

SocketAddress local_address(std::string_view text, uint16_t port) {
  bool every = text.empty() || text == "0.0.0.0" || text == "::" || text == "[::]";
  return socket_address(every ? "127.0.0.1" : text, port, false);
}

}  // namespace hs
