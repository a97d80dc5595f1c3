#include "flags.hpp"

#include <array>

namespace hs {

namespace {

constexpr std::array<std::string_view, 8> kTopics = {
    "Listening", "Responses", "Files", "Logging", "Limits", "Timeouts", "Operations", "Program",
};

// Descriptions are written once, for both outputs: plain sentences, flags and values as
// written on a command line.
constexpr Flag kFlags[] = {
    // Listening
    {"--port", "N", "PORT", "8080", "", "Listening", "TCP port to listen on"},
    {"--address", "A", "", "", "every address, IPv6 and IPv4", "Listening",
     "numeric IPv4 or IPv6 address to listen on, or \"localhost\""},
    {"--listen", "L", "", "", "none", "Listening",
     "a socket to serve, instead of --address and --port; may be given more than once: "
     "HOST:PORT, [IPV6]:PORT, :PORT (every address) or unix:/PATH (a stale socket file is "
     "replaced, the file is removed on exit)"},
    {"--unix-mode", "MODE", "", "0660", "", "Listening", "permissions of unix socket files, octal"},
    {"--workers", "N", "WORKERS", "1", "", "Listening",
     "reactor threads, each with a listener of its own (SO_REUSEPORT), from 1 to 256"},
    // Responses
    {"--body", "TEXT", "", "package main #14", "", "Responses",
     "the body every path answers with (200, text/plain)"},
    {"--server-name", "NAME", "", "httpserver", "", "Responses",
     "the Server field of every response; --server-name= sends none"},
    {"--request-id", "", "", "", "off", "Responses",
     "answer every request with an X-Request-Id field: the request's own when it is sane, "
     "else a new one"},
    // Files
    {"--root", "DIR", "", "", "none (every path answers with --body)", "Files",
     "serve the files beneath DIR for every path (GET and HEAD, ranges, conditionals); "
     "nothing outside DIR"},
    {"--index", "NAME", "", "index.html", "", "Files",
     "the file a directory answers with; --index= for none"},
    {"--dir-listing", "", "", "", "off (403)", "Files", "list a directory that has no index file"},
    {"--cache-control", "VALUE", "", "", "none", "Files",
     "the Cache-Control field of every file response"},
    {"--precompressed", "", "", "", "off", "Files",
     "send NAME.br or NAME.gz instead of NAME to clients that accept br or gzip"},
    // Logging
    {"--log-format", "F", "LOG_FORMAT", "text", "", "Logging",
     "text (logrus-style key=value), json or none"},
    {"--quiet", "", "", "", "off", "Logging", "the same as --log-format=none"},
    {"--access-log", "", "", "", "off: only the uri: line", "Logging",
     "log one line per response (method, target, proto, status, bytes, duration_us, remote, "
     "request_id) in the --log-format"},
    // Limits
    {"--max-header-bytes", "SIZE", "", "8KiB", "", "Limits",
     "limit of a request's header section, 431 beyond (256B to 64MiB)"},
    {"--max-target-bytes", "SIZE", "", "8KiB", "", "Limits",
     "limit of a request-target, 414 beyond (16B to 64MiB)"},
    {"--max-body-bytes", "SIZE", "", "1MiB", "", "Limits",
     "limit of a request body, 413 beyond (at most 2GiB)"},
    {"--max-connections", "N", "", "10000", "", "Limits",
     "open connections; a client beyond gets 503 and a close"},
    {"--max-requests-per-connection", "N", "", "0", "", "Limits",
     "requests answered on one connection, the last with \"Connection: close\"; 0: no limit"},
    // Timeouts
    {"--header-timeout", "D", "", "10s", "", "Timeouts",
     "from a request's first byte to the end of its head, 408 beyond"},
    {"--body-timeout", "D", "", "30s", "", "Timeouts",
     "time without progress receiving a request body, 408 beyond (at least 1ms)"},
    {"--idle-timeout", "D", "", "60s", "", "Timeouts",
     "how long a keep-alive connection may wait for its next request"},
    {"--write-timeout", "D", "", "30s", "", "Timeouts",
     "time without progress writing a response to a client, then the connection is closed"},
    {"--response-timeout", "D", "", "60s", "", "Timeouts",
     "a deferred response (an embedding host's Response::defer) not sent within this is "
     "answered 504 Gateway Timeout"},
    {"--shutdown-timeout", "D", "", "10s", "", "Timeouts",
     "on SIGTERM or SIGINT, how long requests in flight may take before connections are closed"},
    // Operations
    {"--admin-address", "L", "", "", "none", "Operations",
     "serve /livez, /readyz and /metrics (Prometheus text) on a listener of their own, "
     "written as --listen takes it"},
    {"--drain-delay", "D", "", "0s", "", "Operations",
     "on SIGTERM, answer /readyz with 503 and keep serving for this long before shutting "
     "down; a second SIGTERM, or SIGINT, starts the shutdown at once"},
    {"--healthcheck", "", "", "", "", "Operations",
     "GET /livez from the --admin-address listener, or /healthz from the server on "
     "127.0.0.1:PORT (or the first --listen socket); exit 0 on 2xx, 1 otherwise (for "
     "container health checks)"},
    // Program
    {"--version", "", "", "", "", "Program", "print the version and exit"},
    {"--help", "", "", "", "", "Program", "print the usage (also -h) and exit"},
};

}  // namespace

std::span<const std::string_view> flag_topics() { return kTopics; }

std::span<const Flag> flags() { return kFlags; }

const Flag* find_flag(std::string_view name) {
  for (const Flag& f : kFlags)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace hs
