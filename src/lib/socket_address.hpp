// SocketAddress: what a ListenerOptions address names, as the sockaddr bind() or connect()
// takes. "" (every address), "localhost", a numeric IPv4 or IPv6 address (bare or in
// brackets) with a port, or "unix:/path". No name lookup: a static binary in an empty
// container has no resolver. The listener binds what it says; --healthcheck connects to it.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace hs {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  std::string name;  // "127.0.0.1", "[::1]" or the unix socket's path, for messages
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

constexpr std::string_view kUnixPrefix = "unix:";

// `text` as an address to bind: "" is every address ("::", or "0.0.0.0" without
// `ipv6_available`). Throws std::system_error: EINVAL for a name that is not numeric,
// ENAMETOOLONG for a unix path that is empty or longer than sun_path holds.
SocketAddress socket_address(std::string_view text, uint16_t port, bool ipv6_available);

// The same address as a client on this host reaches it: every address ("", "0.0.0.0", "::")
// is loopback.
SocketAddress local_address(std::string_view text, uint16_t port);

}  // namespace hs
