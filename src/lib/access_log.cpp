#include "access_log.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace hs {

void log_access(Logger& logger, const AccessEntry& e) noexcept {
  using namespace std::string_view_literals;  // keys with their lengths: no strlen per line
  const LogField fields[] = {
      {"bytes"sv, {}, e.bytes, true},
      {"duration_us"sv, {}, e.duration_us, true},
      {"method"sv, e.method},
      {"proto"sv, e.proto},
      {"remote"sv, e.remote},
      {"request_id"sv, e.request_id},
      {"status"sv, {}, static_cast<uint64_t>(e.status), true},
      {"target"sv, e.target},
  };
  logger.info_fields("access"sv, fields);
}

std::string_view peer_name(const sockaddr_storage& ss, char (&out)[64]) noexcept {
  out[0] = '\0';
  char* p = out;
  uint16_t port;
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    if (!::inet_ntop(AF_INET, &a->sin_addr, p, 48)) return {};
    p += std::strlen(p);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    *p++ = '[';
    if (!::inet_ntop(AF_INET6, &a->sin6_addr, p, 48)) return {};
    p += std::strlen(p);
    *p++ = ']';
    port = ntohs(a->sin6_port);
  } else if (ss.ss_family == AF_UNIX) {
    std::memcpy(out, "unix", 5);
    return {out, 4};
  } else {
    return {};
  }
  *p++ = ':';
  p = std::to_chars(p, out + 63, port).ptr;
  *p = '\0';
  return {out, static_cast<size_t>(p - out)};
}

std::string_view http_version(int major, int minor, char* out) noexcept {
  if (major == 1 && minor == 1) return "HTTP/1.1";  // nearly every request
  char* p = out;
  for (char c : std::string_view("HTTP/")) *p++ = c;
  p = std::to_chars(p, out + 10, major).ptr;
  *p++ = '.';
  p = std::to_chars(p, out + 15, minor).ptr;
  return {out, static_cast<size_t>(p - out)};
}

}  // namespace hs
