// AccessLog: the line a server writes for each response when ServerOptions::access_log is
// set, through its Logger (logrus text or JSON, as the rest of the log):
//
//   time="..." level=info msg=access bytes=153 duration_us=42 method=GET proto=HTTP/1.1
//     remote="127.0.0.1:50412" request_id=5f0c...0001 status=200 target=/x
//
// Keys are sorted, as logrus's text formatter sorts them. Values are escaped as the Logger
// escapes (Go's strconv.Quote, encoding/json): a hostile target or X-Request-Id cannot split
// or forge a line.
//
// When: a response is logged once it is complete in the server's output, that is right after
// its handler returned (or the server answered an error itself), and a streamed response
// when its producer ends it (or the connection closes under it, with the bytes it got).
// duration_us runs from the read that completed the request to that moment; bytes counts the
// whole response, head and body. A refused connection's 503 (max_connections) has no line:
// no request was read.
//
// Threads: the reactor's thread only.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include <httpserver/log.hpp>

namespace hs {

struct AccessEntry {
  std::string_view method, target, request_id, remote;
  std::string_view proto;  // "HTTP/1.1"; empty when the request line was not complete
  int status = 0;
  uint64_t bytes = 0;
  uint64_t duration_us = 0;
};

void log_access(Logger& logger, const AccessEntry& entry) noexcept;

// A client's address (accept4's) as the log shows it: "127.0.0.1:50412", "[::1]:50412", or
// "unix" (a unix socket's client has no name); "" for one the kernel did not give. Into `out`,
// NUL-terminated.
std::string_view peer_name(const sockaddr_storage& peer, char (&out)[64]) noexcept;

// "HTTP/1.1" for 1, 1 into `out` (at least 16 bytes).
std::string_view http_version(int major, int minor, char* out) noexcept;

// A streamed response's entry, held until the stream ends: the request's views would not
// live that long.
struct PendingAccess {
  std::string method, target, request_id;
  char proto[16] = {};
  uint8_t proto_length = 0;
  int status = 0;
  uint64_t head_bytes = 0;
  uint64_t start_ns = 0;
};

}  // namespace hs
