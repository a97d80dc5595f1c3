// What a Server is configured with (ServerOptions: the listening socket, limits and timeouts)
// and what it counts (ServerStats). Plain structs: a host sets the fields it cares about and
// keeps the defaults, which are the httpserver binary's defaults.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

namespace hs {

class Request;

// One listening socket: a TCP address and port, a unix socket, or one handed over already
// listening (systemd socket activation, a parent process).
struct ListenerOptions {
  // A numeric IPv4 or IPv6 address, "localhost", or "" for every address. No name lookup:
  // a static binary in an empty container has no resolver. "unix:/path" is a unix socket:
  // created with unix_mode; a stale socket file that nobody accepts on (a crashed run's) is
  // replaced, a live one is an error; removed when the listener closes.
  std::string address;
  uint16_t port = 8080;       // 0 picks a free port; see Server::port()
  int backlog = 4096;         // the kernel caps it at net.core.somaxconn
  bool reuse_port = false;    // SO_REUSEPORT: several reactors, one listener each, one port
  uint32_t unix_mode = 0660;  // the permissions of a unix socket's file
  // TCP_DEFER_ACCEPT on a TCP socket we bind: the kernel completes the handshake alone and
  // hands a client over once its first bytes have arrived, so a new connection costs one
  // wakeup, not two, and its request is read at once. A client that connects and sends
  // nothing is handed over anyway about 1 s later; header_timeout_ms runs from then. Not
  // applied to a socket handed over (fd): the host that made it decides (systemd's
  // DeferAcceptSec=).
  bool defer_accept = true;
  // A socket already bound and listening, served instead of `address`; the server takes
  // ownership (closes it). -1: bind `address`.
  int fd = -1;
};

// Every limit and timeout a connection enforces.
struct Limits {
  // The header fields of one request (431 past it). The whole head, as sent (whitespace
  // included), is held to max_target_bytes + max_header_bytes + 1 KiB; a chunked body's
  // trailer section to max_header_bytes. There is no separate limit on the number of fields:
  // each counts at least 5 bytes here, so these bytes bound it.
  size_t max_header_bytes = 8 * 1024;
  size_t max_target_bytes = 8 * 1024;   // the request-target (414 past it)
  size_t max_body_bytes = 1024 * 1024;  // a request body, decoded (413 past it)
  // A chunked body's chunk-size line, extensions and CRLF included, and the extensions of all
  // its lines together (413 past either, as soon as it is passed). Extensions carry nothing
  // we use; the bounds keep a client from making us scan them without end.
  size_t max_chunk_line_bytes = 1024;
  size_t max_chunk_extension_bytes = 16 * 1024;
  uint64_t header_timeout_ms = 10'000;  // first byte to end of head (408)
  // Without progress receiving a request body (408): re-armed by every read that brings
  // bytes, as write_timeout_ms is by every send. As long as the write timeout, for the same
  // reason: a body, unlike a head, may be large and cross a slow link; a client that sends
  // nothing for this long is gone or holding the connection.
  uint64_t body_timeout_ms = 30'000;
  uint64_t idle_timeout_ms = 60'000;   // between requests on a kept-alive connection
  uint64_t write_timeout_ms = 30'000;  // without progress writing a response
  uint64_t linger_timeout_ms = 2'000;  // discarding input after an error response
  // A deferred response (Response::defer) not sent within this is answered 504 by the server.
  uint64_t response_timeout_ms = 60'000;
  size_t read_buffer_bytes = 4 * 1024;   // first read buffer; grows for large heads and bodies
  size_t output_high_water = 64 * 1024;  // stop reading requests while this much is unsent
  // Requests answered on one connection: the response to the last says "Connection: close"
  // and the connection closes after it (spreads long-lived clients over the replicas behind a
  // load balancer). 0: no limit.
  uint64_t max_requests_per_connection = 0;
};

struct ServerOptions {
  ListenerOptions listen;                    // address "" (all, dual-stack), port 8080
  std::vector<ListenerOptions> also_listen;  // more sockets, served the same way
  Limits limits;                             // sizes and timeouts
  size_t max_connections = 10'000;           // more are answered 503 and closed at once
  uint64_t shutdown_timeout_ms = 10'000;     // shutdown() waits this long for busy connections
  std::string server_name = "httpserver";    // the Server field; empty for none
  // Picks the requests whose handler runs as soon as the head has arrived, before the body,
  // to read it as it comes (Request::body_pending(), Response::read_body()): uploads past
  // limits.max_body_bytes, or ones to refuse unread. Called with the head of each request
  // that has a body. Unset, or false: the body is read whole first, within max_body_bytes.
  std::function<bool(const Request& head)> stream_body;
  // Fill TrafficStats' duration histogram. Costs a monotonic clock read (vDSO, no system
  // call) per read that brings requests and per send that completes responses; off, the
  // histogram stays empty. The httpserver binary turns it on with --admin-address.
  bool time_requests = false;
  // One line per response to the Server's error_log Logger, in its format (access_log.hpp in
  // the sources says which fields, and when). Implies time_requests (for duration_us) and
  // request ids (Request::request_id()). Costs a getpeername() per connection for the remote
  // address, and a clock read and a log line per response.
  bool access_log = false;
  // Every handler's response carries X-Request-Id: the request's id (Request::request_id()),
  // set before the handler runs, which may replace it.
  bool echo_request_id = false;
};

// What the responses of one server were, for metrics. Read-only for a host (through
// Server::stats()); the server increments the fields on its reactor's thread.
struct TrafficStats {
  // The methods counted apart; every other method, and a request line the server refused
  // before its method was complete, counts as kOtherMethod.
  enum Method : uint8_t { kGet, kHead, kPost, kPut, kDelete, kOptions, kPatch, kOtherMethod };
  static constexpr size_t kMethods = 8;
  static constexpr size_t kStatusClasses = 5;  // 1xx .. 5xx; a status past 599 counts as 5xx
  // Upper bounds of the duration buckets, in microseconds (Prometheus's `le`, inclusive); the
  // last bucket, past 10 s, is unbounded (+Inf).
  static constexpr uint64_t kDurationBoundsUs[] = {
      100,    250,     500,     1'000,   2'500,     5'000,     10'000,    25'000,
      50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
  static constexpr size_t kDurationBuckets = std::size(kDurationBoundsUs) + 1;

  // Every response written, by the request's method and the response's status class: the
  // handlers' (and the server's 500 and 501) and the errors the server answers itself (400,
  // 408, 413, 431, ...). Not the 503 of a refused connection (ServerStats::refused).
  uint64_t responses[kMethods][kStatusClasses] = {};
  // With ServerOptions::time_requests, the duration of each handler's response: from the
  // read() that brought the end of its request to the send() that took the last byte of its
  // response (the end of its body, for a streamed one). Pipelined requests queue behind the
  // ones before them, and that waiting is part of their duration. Requests whose response
  // never left (the client went first) are not in it. Counts per bucket, not cumulative.
  uint64_t duration_buckets[kDurationBuckets] = {};
  uint64_t duration_count = 0;
  uint64_t duration_sum_ns = 0;
  uint64_t bytes_read = 0;     // from clients' sockets, discarded input included
  uint64_t bytes_written = 0;  // to clients' sockets, refused connections' 503 included
  // Connections closed by a deadline, by the deadline (Limits' *_timeout_ms).
  struct Timeouts {
    uint64_t header = 0;    // a request head incomplete, or none begun on a new connection
    uint64_t body = 0;      // no progress receiving a request body
    uint64_t idle = 0;      // kept alive with no request
    uint64_t write = 0;     // no progress sending a response
    uint64_t linger = 0;    // discarding input after an error response
    uint64_t response = 0;  // a deferred response not sent in time (answered 504)
  } timeouts;
};

// What the connections of one server have done.
struct ConnectionStats {
  uint64_t accepted = 0;
  uint64_t requests = 0;
  uint64_t client_errors = 0;   // 4xx written by the connection itself
  uint64_t handler_errors = 0;  // handlers that threw (500)
  uint64_t timeouts = 0;        // every kind; traffic.timeouts tells them apart
  uint64_t taken_over = 0;      // handed to a handler's TakeOver (Response::take_over)
  TrafficStats traffic;
};

struct ServerStats : ConnectionStats {
  uint64_t refused = 0;  // over max_connections
  uint64_t shed = 0;     // accepted and closed while out of descriptors
  size_t connections = 0;
};

}  // namespace hs
